// Where the runtime, as host root, touches what a sandbox controls: each test performs an attack
// from inside a sandbox as root, or from the API without credentials, that once worked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, Server } from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { sandboxCgroupDirs } from './helpers/host-traces';
import { waitUntil } from './helpers/wait';

const ENVD = '49983';

/**
 * Sends `first` on a raw TCP connection to the runtime, waits for its answer, then sends `then`
 * on the same connection; resolves to everything received until the connection closes (or 3 s).
 */
function rawExchange(port: number, first: string, then: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let sentSecond = false;
    const done = () => {
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(done, 3000);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (!sentSecond && received.includes('\r\n\r\n')) {
        sentSecond = true;
        socket.write(then, () => undefined);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(first);
  });
}

function spliceRequest(sandboxId: string, port: string): string {
  return `GET /health HTTP/1.1\r\nHost: x\r\nE2b-Sandbox-Id: ${sandboxId}\r\nE2b-Sandbox-Port: ${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`;
}

/** Headers for the envd port of a sandbox, with its access token (the SDK keeps it private). */
function envdHeaders(sandbox: Sandbox): Record<string, string> {
  return {
    'E2b-Sandbox-Id': sandbox.sandboxId,
    'E2b-Sandbox-Port': ENVD,
    'X-Access-Token': (sandbox as unknown as { envdAccessToken: string }).envdAccessToken,
  };
}

function gatewayHealth(runtime: RuntimeProcess, sandboxId: string): Promise<number> {
  return fetch(`${runtime.url}/health`, { headers: { 'E2b-Sandbox-Id': sandboxId, 'E2b-Sandbox-Port': ENVD } }).then((r) => r.status);
}

describe('the host-side edges a sandbox can reach', () => {
  let runtime: RuntimeProcess;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${runtime.url}${path}`, {
      ...init,
      headers: { 'X-API-KEY': runtime.apiKey, 'Content-Type': 'application/json', ...init.headers },
    });
  before(async () => {
    runtime = await RuntimeProcess.start();
  });
  after(async () => {
    await runtime?.dispose();
  });

  it('checks every request that reaches the agent, whatever came before it on the connection', async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    const init = `POST /init HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{"accessToken":""}`;
    const received = await rawExchange(runtime.port, spliceRequest(sandbox.sandboxId, ENVD), init);
    assert.match(received, /^HTTP\/1\.1 204/, 'the upgrade request itself is answered');
    assert.equal(received.match(/HTTP\/1\.1 /g)?.length, 1, `nothing answers the request smuggled after it:\n${received}`);
    // The access token is still required, and still the owner's.
    const list = await fetch(`${runtime.url}/process.Process/List`, {
      method: 'POST',
      headers: { 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': ENVD, 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(list.status, 401);
    assert.equal((await sandbox.commands.run('echo still mine')).stdout, 'still mine\n');
    await sandbox.kill();
  });

  it('keeps a private port private against a CONNECT smuggled after an upgrade', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, network: { allowPublicTraffic: false } });
    await sandbox.commands.run(
      `python3 -c "import http.server as h; h.HTTPServer(('127.0.0.1', 8080), type('H', (h.BaseHTTPRequestHandler,), {'do_GET': lambda s: (s.send_response(200), s.end_headers(), s.wfile.write(b'private-answer'))})).serve_forever()"`,
      { background: true },
    );
    await waitUntil('the private server', async () =>
      (
        await sandbox.commands
          .run('python3 -c "import urllib.request as u; print(u.urlopen(\'http://127.0.0.1:8080\').read())"')
          .catch(() => undefined)
      )?.stdout.includes('private-answer'),
    );
    const received = await rawExchange(
      runtime.port,
      spliceRequest(sandbox.sandboxId, ENVD),
      'CONNECT 127.0.0.1:8080 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    assert.doesNotMatch(received, /private-answer|200 Connection Established/, received);
    await sandbox.kill();
  });

  it("never follows a link the sandbox put where the agent's socket was", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2b-host-socket-'));
    const hostSocket = join(dir, 'host.sock');
    let reached = 0;
    const server: Server = createServer((c) => {
      reached++;
      c.end('HTTP/1.1 204 No Content\r\n\r\n');
    });
    await new Promise<void>((r) => server.listen(hostSocket, r));
    const [attacker, neighbour] = await Promise.all([Sandbox.create(runtime.sdk), Sandbox.create(runtime.sdk)]);
    try {
      const neighbourSocket = join(runtime.dataDir, 'sandboxes', neighbour.sandboxId, 'run', 'agent.sock');
      for (const target of [hostSocket, neighbourSocket]) {
        await attacker.commands
          .run(`rm -f /run/e2b/agent.sock && ln -s ${target} /run/e2b/agent.sock`, { user: 'root' })
          .catch(() => undefined);
        // Connections pooled before the swap go to the real agent until it closes them after 5 s
        // idle; each answer from it restarts that wait, so ask less often than that. Once one is
        // refused, every later one must be; a runtime that followed the link never refuses.
        await waitUntil(
          'the pooled connections to the real agent to close',
          async () => (await gatewayHealth(runtime, attacker.sandboxId)) === 502,
          90_000,
          7000,
        );
        for (let i = 0; i < 3; i++)
          assert.equal(
            await gatewayHealth(runtime, attacker.sandboxId),
            502,
            `a request to the attacker's sandbox is not served through ${target}`,
          );
      }
      assert.equal(reached, 0, 'the host socket was never connected to');
      assert.equal(await gatewayHealth(runtime, neighbour.sandboxId), 204, 'the neighbour is unharmed');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'refuses a path too long to create, removes trees deeper than any path, and restarts past leftovers it cannot remove',
    { timeout: 180_000 },
    async () => {
      const sandbox = await Sandbox.create(runtime.sdk);
      const deepPath = `/tmp/${'b/'.repeat(2100)}f`;
      const upload = await fetch(`${runtime.url}/files?path=${encodeURIComponent(deepPath)}&username=user`, {
        method: 'POST',
        headers: { ...envdHeaders(sandbox), 'Content-Type': 'application/octet-stream' },
        body: 'x',
      });
      assert.equal(upload.status, 400, await upload.text());
      assert.equal(
        (await sandbox.commands.run('test -e /tmp/b && echo made || echo none')).stdout,
        'none\n',
        'no directory was made on the way',
      );
      // A tree deeper than PATH_MAX, made from inside.
      const deep = `python3 -c "import os; os.chdir('/tmp'); [(os.mkdir('a'), os.chdir('a')) for _ in range(2100)]"`;
      await sandbox.commands.run(deep, { user: 'root' });
      const sandboxDir = join(runtime.dataDir, 'sandboxes', sandbox.sandboxId);
      assert.equal(await sandbox.kill(), true);
      assert.equal(existsSync(sandboxDir), false, "the sandbox's host directory is gone");

      // The same tree in a sandbox whose container vanished while the runtime was down, and beside it
      // a directory that cannot be removed at all: the runtime still starts, and cleans what it can.
      const other = await Sandbox.create(runtime.sdk);
      await other.commands.run(deep, { user: 'root' });
      await runtime.stop();
      execFileSync('crun', ['--root', join(runtime.dataDir, 'crun'), 'delete', '--force', `e2b-${other.sandboxId}`]);
      const stuck = join(runtime.dataDir, 'sandboxes', 'stuck000000000000000');
      mkdirSync(stuck, { recursive: true });
      writeFileSync(join(stuck, 'immutable'), '');
      execFileSync('chattr', ['+i', join(stuck, 'immutable')]);
      try {
        await runtime.launch();
        assert.equal(existsSync(join(runtime.dataDir, 'sandboxes', other.sandboxId)), false, 'the deep leftovers are removed');
        assert.match(runtime.output, /restore: stuck000000000000000 left as it is/);
        const fresh = await Sandbox.create(runtime.sdk);
        assert.equal((await fresh.commands.run('echo alive')).stdout, 'alive\n');
        await fresh.kill();
      } finally {
        execFileSync('chattr', ['-i', join(stuck, 'immutable')]);
        rmSync(stuck, { recursive: true, force: true });
      }
    },
  );

  it('keeps the sandbox, its files and its token when the agent inside is killed', { timeout: 120_000 }, async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.files.write('/home/user/kept.txt', 'kept');
    const scores = (await sandbox.commands.run('cat /proc/1/oom_score_adj /proc/self/oom_score_adj', { user: 'root' })).stdout
      .split('\n')
      .map(Number);
    assert.ok(scores[1] > scores[0], `the OOM killer takes what the agent starts before init: ${scores}`);
    for (const kill of ["kill -9 $(pgrep -xf '/opt/e2b/node /opt/e2b/agent.js')", 'kill -9 -1']) {
      await sandbox.commands.run(kill, { user: 'root' }).catch(() => undefined);
      await waitUntil(
        `the agent back after ${kill}`,
        () =>
          sandbox.commands.run('cat /home/user/kept.txt').then(
            (r) => r.stdout === 'kept',
            () => false,
          ),
        30_000,
        250,
      );
      assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'running');
      const noToken = await fetch(`${runtime.url}/process.Process/List`, {
        method: 'POST',
        headers: { 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': ENVD, 'Content-Type': 'application/json' },
        body: '{}',
      });
      assert.equal(noToken.status, 401, 'the restarted agent still wants the token');
    }
    await sandbox.kill();
  });

  it("keeps what a sandbox writes to its init's output inside the sandbox, and the logs API apart from it", async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    const hostLog = join(runtime.dataDir, 'sandboxes', sandbox.sandboxId, 'container.log');
    const before = existsSync(hostLog) ? readFileSync(hostLog).length : 0;
    await sandbox.commands.run(
      "echo '[e2b-agent] 2020-01-01T00:00:00.000Z forged line' >> /proc/1/fd/1; head -c 20000000 /dev/zero >> /proc/1/fd/1; true",
      { user: 'root' },
    );
    const after = existsSync(hostLog) ? readFileSync(hostLog).length : 0;
    assert.equal(after, before, 'nothing reached the file the host keeps');
    const res = await api(`/v2/sandboxes/${sandbox.sandboxId}/logs`);
    assert.equal(res.status, 200);
    const { logs } = (await res.json()) as { logs: { message: string; fields: { logger: string } }[] };
    assert.ok(
      logs.some((l) => l.fields.logger === 'lifecycle' && l.message === 'sandbox created'),
      "the runtime's own events are there",
    );
    assert.ok(
      logs.filter((l) => l.message.includes('forged')).every((l) => l.fields.logger === 'agent'),
      "a line the sandbox wrote is never the runtime's",
    );
    const direct = await fetch(`${runtime.url}/logs`, { headers: envdHeaders(sandbox) });
    assert.equal(direct.status, 403, "the agent's log is the host's to read, not the gateway's");
    await sandbox.kill();
  });

  it('lists files whose names are not UTF-8', async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.commands.run(
      `python3 -c "import os; os.makedirs('/home/user/odd/sub'); open(b'/home/user/odd/caf\\xe9', 'w').close(); open(b'/home/user/odd/sub/\\xff', 'w').close(); open('/home/user/odd/plain', 'w').close()"`,
    );
    const names = (await sandbox.files.list('/home/user/odd', { depth: 2 })).map((e) => e.name).sort();
    assert.deepEqual(names, ['caf\uFFFD', 'plain', 'sub', '\uFFFD'], 'every entry is listed, its undecodable bytes shown as U+FFFD');
    await sandbox.kill();
  });

  it("gives each sandbox a disk of its advertised size: ENOSPC inside, never the host's disk", { timeout: 120_000 }, async () => {
    const small = await RuntimeProcess.start(['--disk-size-mb', '64', '--warm-pool', '0']);
    try {
      const sandbox = await Sandbox.create(small.sdk);
      const info = await fetch(`${small.url}/sandboxes/${sandbox.sandboxId}`, { headers: { 'X-API-KEY': small.apiKey } });
      assert.equal(((await info.json()) as { diskSizeMB: number }).diskSizeMB, 64, 'the size it advertises');
      const fill = await sandbox.commands.run('head -c 100M /dev/zero > /home/user/fill', { user: 'root' }).catch((err) => err);
      assert.match(String(fill.stderr ?? fill), /No space left on device/);
      const image = join(small.dataDir, 'sandboxes', sandbox.sandboxId, 'disk.img');
      const allocatedMB = Number(execFileSync('du', ['-m', image]).toString().split('\t')[0]);
      assert.ok(allocatedMB <= 70, `the host holds ${allocatedMB} MB of it`);
      // Freed inside, freed on the host (discard): the disk is usable again.
      await sandbox.commands.run('rm /home/user/fill && echo ok > /home/user/after', { user: 'root' });
      assert.equal(await sandbox.files.read('/home/user/after'), 'ok\n');
      await sandbox.kill();
    } finally {
      await small.dispose();
    }
  });

  it('answers a timeout that is not a number with 400 and keeps the sandbox', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    const endAt = (await sandbox.getInfo()).endAt.getTime();
    for (const timeout of [null, '', false, true, [5], '30', {}]) {
      const res = await api(`/sandboxes/${sandbox.sandboxId}/timeout`, { method: 'POST', body: JSON.stringify({ timeout }) });
      assert.equal(res.status, 400, `timeout ${JSON.stringify(timeout)}`);
      assert.match(((await res.json()) as { message: string }).message, /timeout must be a number/);
    }
    const missing = await api(`/sandboxes/${sandbox.sandboxId}/timeout`, { method: 'POST', body: '{}' });
    assert.equal(missing.status, 400, 'no timeout at all');
    assert.equal((await sandbox.getInfo()).endAt.getTime(), endAt, 'the timeout is unchanged');
    assert.equal(await sandbox.isRunning(), true);
    await sandbox.kill();
  });

  it('checks a connect before acting on it: a bad timeout leaves a paused sandbox frozen', async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.pause();
    const res = await api(`/sandboxes/${sandbox.sandboxId}/connect`, { method: 'POST', body: JSON.stringify({ timeout: -5 }) });
    assert.equal(res.status, 400);
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'paused');
    assert.equal(freezerState(sandbox.sandboxId), 'frozen', 'its processes are still frozen');
    await Sandbox.kill(sandbox.sandboxId, runtime.sdk);
  });

  it('answers bad input with the 4xx the SDK expects, saying what was wrong', async () => {
    for (const templateID of [42, { name: 'base' }, ['base'], true]) {
      const res = await api('/sandboxes', { method: 'POST', body: JSON.stringify({ templateID }) });
      assert.equal(res.status, 400, `templateID ${JSON.stringify(templateID)}`);
      assert.match(((await res.json()) as { message: string }).message, /templateID must be a string/);
    }
    for (const [method, path] of [
      ['GET', '/sandboxes/%ff'],
      ['DELETE', '/sandboxes/%ff'],
      ['POST', '/sandboxes/%ff/timeout'],
      ['POST', '/sandboxes/%ff/pause'],
      ['GET', '/sandboxes/%ff/metrics'],
    ]) {
      const res = await api(path, { method, body: method === 'POST' ? '{"timeout": 5}' : undefined });
      assert.equal(res.status, 400, `${method} ${path}`);
      assert.match(((await res.json()) as { message: string }).message, /percent-encoding/);
    }

    const sandbox = await Sandbox.create(runtime.sdk);
    const files = (path: string, method = 'POST') =>
      fetch(`${runtime.url}/files?path=${encodeURIComponent(path)}&username=user`, {
        method,
        headers: { ...envdHeaders(sandbox), 'Content-Type': 'application/octet-stream' },
        body: method === 'POST' ? 'x' : undefined,
      });
    for (const [path, why] of [
      [`/tmp/${'c'.repeat(4200)}`, /too long/],
      [`/tmp/${'n'.repeat(300)}`, /file name .* too long/],
    ] as const) {
      for (const method of ['POST', 'GET']) {
        const res = await files(path, method);
        assert.equal(res.status, 400, `${method} of a ${path.length}-character path`);
        assert.match(await res.text(), why);
      }
    }
    await sandbox.commands.run('ln -s /nowhere/at/all /home/user/dangling && ln -s /proc/version /home/user/readonly');
    assert.equal((await files('/home/user/dangling')).status, 404, 'writing through a link to nowhere');
    assert.equal((await files('/home/user/readonly')).status, 403, 'writing through a link to a place the user may not write');
    await sandbox.kill();
  });
});

/** 'frozen' or 'thawed', from the sandbox's freezer cgroup (v1 freezer.state, v2 cgroup.freeze). */
function freezerState(sandboxId: string): string {
  for (const dir of sandboxCgroupDirs(sandboxId)) {
    if (existsSync(join(dir, 'freezer.state')))
      return readFileSync(join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN' ? 'frozen' : 'thawed';
    if (existsSync(join(dir, 'cgroup.freeze')))
      return readFileSync(join(dir, 'cgroup.freeze'), 'utf8').trim() === '1' ? 'frozen' : 'thawed';
  }
  throw new Error('no freezer cgroup found');
}
