// The gateway: in-sandbox ports reached by sandbox headers or by <port>-<id>.<domain> host names.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';

interface Reply { status: number; body: string; chunksAt: number[] }

function call(url: string, headers: Record<string, string>, method = 'GET', body?: string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const req = request(url, { method, headers }, (res) => {
      const chunks: string[] = [];
      const chunksAt: number[] = [];
      res.on('data', (c: Buffer) => { chunks.push(c.toString()); chunksAt.push(Date.now() - started); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.join(''), chunksAt }));
    });
    req.on('error', reject);
    for (const part of body ?? []) req.write(part);
    req.end();
  });
}

// A server inside the sandbox (run with the agent's own Node): echoes request size, streams
// its answer in two parts 800 ms apart, and answers WebSocket-style upgrades by echoing raw bytes.
const SERVER = `
const http = require('http');
const server = http.createServer((req, res) => {
  let n = 0;
  req.on('data', (c) => { n += c.length; });
  req.on('end', () => {
    res.write('got ' + n + ' ' + req.url + ' ');
    setTimeout(() => res.end('done'), 800);
  });
});
server.on('upgrade', (req, socket) => {
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: echo\\r\\nConnection: Upgrade\\r\\n\\r\\n');
  socket.pipe(socket);
});
server.listen(8000);
`;

describe('sandbox gateway', () => {
  let runtime: RuntimeProcess;
  let sandbox: Sandbox;
  let headers: Record<string, string>;
  before(async () => {
    runtime = await RuntimeProcess.start();
    sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.commands.run(`cat > /tmp/server.js <<'JS'\n${SERVER}\nJS`);
    await sandbox.commands.run('/opt/e2b/node /tmp/server.js', { background: true });
    await sandbox.commands.run('for i in $(seq 150); do (echo > /dev/tcp/127.0.0.1/8000) 2>/dev/null && exit 0; sleep 0.1; done; exit 1');
    headers = { 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': '8000' };
  });
  after(async () => { await runtime?.dispose(); });

  it('routes by sandbox headers, streaming a chunked request and response', async () => {
    const reply = await call(`${runtime.url}/upload?x=1`, headers, 'POST', ['a'.repeat(1000), 'b'.repeat(2000)]);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'got 3000 /upload?x=1 done');
    // Half the server's 800 ms pause: a buffering gateway would deliver both parts together.
    assert.ok(reply.chunksAt.length >= 2 && reply.chunksAt[reply.chunksAt.length - 1] - reply.chunksAt[0] >= 400,
      `the first part was flushed before the second (${reply.chunksAt})`);
  });

  it('routes by host name <port>-<sandboxId>.<domain>', async () => {
    const host = sandbox.getHost(8000);
    assert.equal(host, `8000-${sandbox.sandboxId}.localhost:${runtime.port}`);
    const reply = await call(`${runtime.url}/by-host`, { host });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'got 0 /by-host done');
  });

  it('splices upgraded connections both ways', async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = request(`${runtime.url}/ws`, { headers: { ...headers, Connection: 'Upgrade', Upgrade: 'echo' } });
      req.on('upgrade', (res, socket) => {
        assert.equal(res.statusCode, 101);
        socket.once('data', (data: Buffer) => { resolve(data.toString()); socket.destroy(); });
        socket.write('ping through the tunnel');
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(echoed, 'ping through the tunnel');
  });

  it('answers 502 with E2B\'s body for an unknown sandbox or a closed port', async () => {
    const unknown = await call(`${runtime.url}/`, { 'E2b-Sandbox-Id': 'aaaaaaaaaaaaaaaaaaaa', 'E2b-Sandbox-Port': '8000' });
    assert.equal(unknown.status, 502);
    const body = JSON.parse(unknown.body);
    assert.equal(body.code, 502);
    assert.equal(body.sandboxId, 'aaaaaaaaaaaaaaaaaaaa');
    assert.ok(body.message);
    const closed = await call(`${runtime.url}/`, { ...headers, 'E2b-Sandbox-Port': '8999' });
    assert.equal(closed.status, 502);
    assert.equal(JSON.parse(closed.body).code, 502);
  });

  it('keeps envd internals away from public traffic', async () => {
    const init = await call(`${runtime.url}/init`, { 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': '49983' }, 'POST', ['{"accessToken":"x"}']);
    assert.equal(init.status, 403);
    assert.equal((await sandbox.commands.run('echo still mine')).stdout, 'still mine\n');
  });

  it('requires the envd access token on a secure sandbox', async () => {
    const res = await fetch(`${runtime.url}/process.Process/List`, {
      method: 'POST',
      headers: { 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': '49983', 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 401);
  });

  it('routes signed file URLs that carry no sandbox headers to the sandbox whose token signs them', async () => {
    await sandbox.files.write('/home/user/signed.txt', 'signed content');
    const url = await sandbox.downloadUrl('/home/user/signed.txt', { useSignatureExpiration: 60 });
    assert.ok(url.startsWith(runtime.url), `the URL points at the runtime: ${url}`);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'signed content');
    const upload = await sandbox.uploadUrl('/home/user/uploaded.txt');
    const form = new FormData();
    form.append('file', new Blob(['via signed upload']), '/home/user/uploaded.txt');
    assert.equal((await fetch(upload, { method: 'POST', body: form })).status, 200);
    assert.equal(await sandbox.files.read('/home/user/uploaded.txt'), 'via signed upload');
    const forged = url.replace(/signature=[^&]+/, 'signature=v1_forged');
    assert.equal((await fetch(forged)).status, 404, 'a signature no sandbox made routes nowhere');
  });
});
