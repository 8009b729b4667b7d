// The gateway: in-sandbox ports reached by sandbox headers or by <port>-<id>.<domain> host names.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IncomingHttpHeaders, request } from 'node:http';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  chunksAt: number[];
}

function call(url: string, headers: Record<string, string>, method = 'GET', body?: string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const req = request(url, { method, headers }, (res) => {
      const chunks: string[] = [];
      const chunksAt: number[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c.toString());
        chunksAt.push(Date.now() - started);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: chunks.join(''), chunksAt }));
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
  after(async () => {
    await runtime?.dispose();
  });

  it('routes by sandbox headers, streaming a chunked request and response', async () => {
    const reply = await call(`${runtime.url}/upload?x=1`, headers, 'POST', ['a'.repeat(1000), 'b'.repeat(2000)]);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'got 3000 /upload?x=1 done');
    // Half the server's 800 ms pause: a buffering gateway would deliver both parts together.
    assert.ok(
      reply.chunksAt.length >= 2 && reply.chunksAt[reply.chunksAt.length - 1] - reply.chunksAt[0] >= 400,
      `the first part was flushed before the second (${reply.chunksAt})`,
    );
  });

  it('routes by host name <port>-<sandboxId>.<domain>', async () => {
    const host = sandbox.getHost(8000);
    assert.equal(host, `8000-${sandbox.sandboxId}.e2b.localhost:${runtime.port}`);
    const reply = await call(`${runtime.url}/by-host`, { host });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'got 0 /by-host done');
  });

  it('splices upgraded connections both ways', async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = request(`${runtime.url}/ws`, { headers: { ...headers, Connection: 'Upgrade', Upgrade: 'echo' } });
      req.on('upgrade', (res, socket) => {
        assert.equal(res.statusCode, 101);
        socket.once('data', (data: Buffer) => {
          resolve(data.toString());
          socket.destroy();
        });
        socket.write('ping through the tunnel');
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(echoed, 'ping through the tunnel');
  });

  it("answers 502 with E2B's body for an unknown sandbox or a closed port", async () => {
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

  // The extension offers listeners on 127.0.0.1 and the wildcards, not on ::1 alone
  // (src/connection/listening-ports.ts isReachableAddress): that rests on what this gateway reaches.
  it('reaches servers bound to 127.0.0.1 or ::, not one bound to ::1 alone', async () => {
    const binds: Record<string, string> = { 8124: '127.0.0.1', 8125: '::', 8126: '::1' };
    for (const [port, address] of Object.entries(binds)) {
      await sandbox.commands.run(`python3 -m http.server ${port} --bind ${address}`, { background: true });
    }
    // Until each one listens (state 0A in the kernel's socket tables).
    const listening = Object.keys(binds)
      .map((p) => `grep -q ':${Number(p).toString(16).toUpperCase()} [0-9A-F]*:0000 0A' /proc/net/tcp /proc/net/tcp6`)
      .join(' && ');
    await sandbox.commands.run(`for i in $(seq 150); do ${listening} && exit 0; sleep 0.1; done; exit 1`);
    const status = async (port: string) => (await call(`${runtime.url}/`, { ...headers, 'E2b-Sandbox-Port': port })).status;
    assert.equal(await status('8124'), 200);
    assert.equal(await status('8125'), 200);
    assert.equal(await status('8126'), 502);
  });

  // What a browser sends for a page load.
  const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  it('answers a browser a readable page, not JSON, when nothing listens on the port', async () => {
    const page = await call(`${runtime.url}/`, { ...headers, 'E2b-Sandbox-Port': '8999', Accept: BROWSER_ACCEPT });
    assert.equal(page.status, 502, 'the same status as the JSON answer');
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.body, /<title>Nothing is listening on port 8999<\/title>/);
    assert.ok(page.body.includes(`<code>${sandbox.sandboxId}</code>`), 'names the sandbox');
    assert.ok(page.body.includes('<code>0.0.0.0:8999</code>'), 'says where a server must listen');
    assert.ok(page.body.includes('python3 -m http.server 8999'), 'gives a command that does it');
    assert.doesNotMatch(page.body, /<script/i);

    // The same host-name URL a browser tab opens.
    const byHost = await call(`${runtime.url}/`, { host: sandbox.getHost(8999), Accept: BROWSER_ACCEPT });
    assert.equal(byHost.status, 502);
    assert.match(byHost.body, /Nothing is listening on port 8999/);
  });

  it('keeps the JSON answer for API clients (no Accept, or one without text/html)', async () => {
    for (const accept of [undefined, '*/*', 'application/json']) {
      const reply = await call(`${runtime.url}/`, { ...headers, 'E2b-Sandbox-Port': '8999', ...(accept ? { Accept: accept } : {}) });
      assert.equal(reply.status, 502);
      assert.equal(reply.headers['content-type'], 'application/json', `Accept: ${accept}`);
      assert.deepEqual(JSON.parse(reply.body), {
        sandboxId: sandbox.sandboxId,
        message: 'nothing is listening on port 8999 in the sandbox',
        code: 502,
      });
    }
  });

  it('tells a browser that the sandbox is gone, with everything it repeats escaped', async () => {
    const id = '<img src=x onerror=alert(1)>&"\'';
    const page = await call(`${runtime.url}/`, { 'E2b-Sandbox-Id': id, 'E2b-Sandbox-Port': '8000', Accept: BROWSER_ACCEPT });
    assert.equal(page.status, 502);
    assert.match(page.body, /<title>This sandbox does not exist<\/title>/);
    assert.ok(page.body.includes('<code>&#60;img src=x onerror=alert(1)&#62;&#38;&#34;&#39;</code>'), page.body);
    assert.ok(!page.body.includes('<img'), 'no markup from the request reaches the page');
    assert.equal(page.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
  });

  it('tells a browser that the sandbox is paused and how to wake it', async () => {
    const paused = await Sandbox.create(runtime.sdk);
    try {
      assert.equal(await Sandbox.pause(paused.sandboxId, runtime.sdk), true);
      const page = await call(`${runtime.url}/`, {
        'E2b-Sandbox-Id': paused.sandboxId,
        'E2b-Sandbox-Port': '8000',
        Accept: BROWSER_ACCEPT,
      });
      assert.equal(page.status, 502);
      assert.match(page.body, /<title>This sandbox is paused<\/title>/);
      assert.match(page.body, /resume the sandbox/);
      assert.ok(page.body.includes(`<code>${paused.sandboxId}</code>`));
    } finally {
      await Sandbox.kill(paused.sandboxId, runtime.sdk);
    }
  });

  it('keeps envd internals away from public traffic', async () => {
    const init = await call(`${runtime.url}/init`, { 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': '49983' }, 'POST', [
      '{"accessToken":"x"}',
    ]);
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
