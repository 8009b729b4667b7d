// Behaviour E2B's users meet right after the basics, through the official `e2b` SDK against a
// real runtime: command timeouts, the team id inside sandboxes, updateNetwork and network
// settings, the gateway's answer for a killed sandbox, maskRequestHost, and the logs endpoints.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { ALL_TRAFFIC, Sandbox, SandboxError, SandboxNotFoundError, TimeoutError } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { waitUntil } from './helpers/wait';

interface LogEntry {
  timestamp: string;
  level: string;
  message: string;
  fields: Record<string, string>;
}

/** A GET through the gateway (or the API), answered as status, headers and text. */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Answers every request with the Host and X-Forwarded-Host it received, as JSON.
const HOST_ECHO = `
import http.server, json, sys
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({'host': self.headers.get('Host'), 'forwarded': self.headers.get('X-Forwarded-Host')}).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(('0.0.0.0', int(sys.argv[1])), Echo).serve_forever()
`;

describe('E2B parity: commands, environment, network, gateway, logs', () => {
  let runtime: RuntimeProcess;
  let headers: Record<string, string>;
  before(async () => {
    runtime = await RuntimeProcess.start();
    headers = { 'X-API-KEY': runtime.apiKey };
  });
  after(async () => {
    await runtime?.dispose();
  });

  async function api<T>(path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`${runtime.url}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as T };
  }

  async function startHostEcho(sandbox: Sandbox, port: number): Promise<void> {
    await sandbox.files.write('/tmp/host_echo.py', HOST_ECHO);
    await sandbox.commands.run(`python3 /tmp/host_echo.py ${port}`, { background: true });
    await sandbox.commands.run(
      `for i in $(seq 150); do (echo > /dev/tcp/127.0.0.1/${port}) 2>/dev/null && exit 0; sleep 0.1; done; exit 1`,
    );
  }

  /** process.Process/Start as a raw Connect stream with Connect-Timeout-Ms: its frames, in order. */
  async function startOverConnect(
    sandbox: Sandbox,
    cmd: string,
    timeoutMs: number,
  ): Promise<{ flags: number; message: Record<string, unknown> }[]> {
    const request = Buffer.from(JSON.stringify({ process: { cmd: '/bin/bash', args: ['-l', '-c', cmd] } }));
    const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), request]);
    envelope.writeUInt32BE(request.length, 1);
    const res = await fetch(`${runtime.url}/process.Process/Start`, {
      method: 'POST',
      headers: {
        'E2b-Sandbox-Id': sandbox.sandboxId,
        'E2b-Sandbox-Port': '49983',
        // The SDK keeps the token to itself (protected).
        'X-Access-Token': (sandbox as unknown as { envdAccessToken: string }).envdAccessToken,
        'Content-Type': 'application/connect+json',
        'Connect-Protocol-Version': '1',
        'Connect-Timeout-Ms': String(timeoutMs),
      },
      body: envelope,
    });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    const frames: { flags: number; message: Record<string, unknown> }[] = [];
    for (let at = 0; at < body.length;) {
      const length = body.readUInt32BE(at + 1);
      frames.push({ flags: body[at], message: JSON.parse(body.subarray(at + 5, at + 5 + length).toString()) });
      at += 5 + length;
    }
    return frames;
  }

  it("ends a command whose timeoutMs passes with the SDK's TimeoutError, and kills it", async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    try {
      await assert.rejects(sandbox.commands.run('echo started; sleep 30; echo never', { timeoutMs: 1500 }), TimeoutError);
      const background = await sandbox.commands.run('sleep 31', { background: true, timeoutMs: 1000 });
      await assert.rejects(background.wait(), TimeoutError);
      // On the wire, for clients that leave the deadline to the server (the Python SDK does): the
      // stream ends with deadline_exceeded, never with an end event for the killed process.
      const frames = await startOverConnect(sandbox, 'sleep 32', 1200);
      assert.ok('start' in (frames[0].message.event as object), JSON.stringify(frames));
      assert.ok(
        frames.every((f) => !('end' in ((f.message.event ?? {}) as object))),
        JSON.stringify(frames),
      );
      const last = frames[frames.length - 1];
      assert.equal(last.flags, 2);
      assert.equal((last.message.error as { code: string }).code, 'deadline_exceeded');
      // The timeout is the command's lifetime, as in envd: no sleep is left running.
      await waitUntil('the timed-out commands to be gone', async () => {
        const { stdout } = await sandbox.commands.run('ps -eo args');
        return !/sleep 3[012]/.test(stdout);
      });
      // A command that ends in time is unaffected.
      assert.equal((await sandbox.commands.run('echo quick', { timeoutMs: 10_000 })).stdout, 'quick\n');
    } finally {
      await sandbox.kill();
    }
  });

  it('sets E2B_TEAM_ID inside sandboxes to the team its events report', async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    try {
      const env = await sandbox.commands.run('echo "$E2B_SANDBOX|$E2B_SANDBOX_ID|$E2B_TEMPLATE_ID|$E2B_TEAM_ID"');
      const events = await api<{ sandboxTeamId: string }[]>(`/events/sandboxes/${sandbox.sandboxId}`);
      const teamId = events.body[0].sandboxTeamId;
      assert.match(teamId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(env.stdout.trim(), `true|${sandbox.sandboxId}|base|${teamId}`);
    } finally {
      await sandbox.kill();
    }
  });

  it("updates a sandbox's network settings, reports them in getInfo and records the update", async () => {
    const sandbox = await Sandbox.create({
      ...runtime.sdk,
      network: {
        allowOut: ['1.1.1.1'],
        denyOut: [ALL_TRAFFIC],
        maskRequestHost: 'app.internal:${PORT}',
        egressProxy: { address: 'Proxy.Example.com:1080', username: 'u', password: 'p' },
      },
    });
    try {
      const created = await sandbox.getInfo();
      assert.deepEqual(created.network?.allowOut, ['1.1.1.1']);
      assert.deepEqual(created.network?.denyOut, [ALL_TRAFFIC]);
      assert.equal(created.network?.maskRequestHost, 'app.internal:${PORT}');
      assert.deepEqual(created.network?.egressProxy, { address: 'proxy.example.com:1080', username: 'u' }, 'the password is never shown');

      await sandbox.updateNetwork({ allowOut: ['example.com', '*.example.org', '8.8.8.8/32'], denyOut: [ALL_TRAFFIC, '10.0.0.0/8'] });
      const updated = await sandbox.getInfo();
      assert.deepEqual(updated.network?.allowOut, ['example.com', '*.example.org', '8.8.8.8/32']);
      assert.deepEqual(updated.network?.denyOut, [ALL_TRAFFIC, '10.0.0.0/8']);
      assert.equal(updated.network?.egressProxy, undefined, 'an omitted setting is cleared');
      assert.equal(updated.network?.maskRequestHost, 'app.internal:${PORT}', 'what is not egress stays');

      await sandbox.updateNetwork({ allowInternetAccess: false });
      const closed = await sandbox.getInfo();
      assert.equal(closed.allowInternetAccess, false);
      assert.equal(closed.network?.allowOut, undefined);

      const events = await api<{ type: string; eventData: { network_egress?: Record<string, string[]> } | null }[]>(
        `/events/sandboxes/${sandbox.sandboxId}?orderAsc=true&limit=100`,
      );
      const egress = events.body.filter((e) => e.type === 'sandbox.lifecycle.updated').map((e) => e.eventData?.network_egress);
      assert.deepEqual(egress[0], {
        allowed_cidrs: ['8.8.8.8/32'],
        denied_cidrs: [ALL_TRAFFIC, '10.0.0.0/8'],
        allowed_domains: ['example.com', '*.example.org'],
      });
    } finally {
      await sandbox.kill();
    }
  });

  it('refuses network settings E2B refuses, with its messages, and leaves the sandbox as it was', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, network: { allowOut: ['1.1.1.1'] } });
    try {
      const refused = async (network: Parameters<Sandbox['updateNetwork']>[0], message: RegExp) => {
        const err = await sandbox.updateNetwork(network).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof SandboxError, `refused: ${JSON.stringify(network)}`);
        assert.equal((err as SandboxError & { statusCode?: number }).statusCode, 400);
        assert.match((err as Error).message, message);
      };
      await refused({ denyOut: ['example.com'] }, /invalid denied CIDR example\.com/);
      await refused({ denyOut: ['0.0.0.0'] }, /invalid denied CIDR 0\.0\.0\.0/);
      await refused({ allowOut: ['10.0.0.0/33'], denyOut: [ALL_TRAFFIC] }, /invalid allowed address 10\.0\.0\.0\/33/);
      await refused({ allowOut: ['example.com'] }, /include 'ALL_TRAFFIC' in deny out/);
      await refused({ egressProxy: { address: 'no-port' } }, /host:port/);
      await refused({ egressProxy: { address: 'proxy:70000' } }, /not a valid 1-65535 value/);
      assert.deepEqual((await sandbox.getInfo()).network?.allowOut, ['1.1.1.1'], 'nothing was changed by a refused update');

      await assert.rejects(Sandbox.updateNetwork('aaaaaaaaaaaaaaaaaaaa', { allowOut: ['1.1.1.1'] }, runtime.sdk), SandboxNotFoundError);
      assert.equal(await sandbox.pause(), true);
      const paused = await sandbox.updateNetwork({ allowOut: ['1.1.1.1'] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(paused instanceof SandboxError);
      assert.equal((paused as SandboxError & { statusCode?: number }).statusCode, 409);
    } finally {
      await sandbox.kill();
    }
  });

  it('refuses a create with bad network settings before any sandbox exists', async () => {
    const before = (await Sandbox.list(runtime.sdk).nextItems()).length;
    await assert.rejects(Sandbox.create({ ...runtime.sdk, network: { denyOut: ['not-a-cidr'] } }), /400: invalid denied CIDR not-a-cidr/);
    await assert.rejects(
      Sandbox.create({ ...runtime.sdk, network: { maskRequestHost: 'bad host/path' } }),
      /400: mask request host is not valid/,
    );
    await assert.rejects(
      Sandbox.create({ ...runtime.sdk, network: { maskRequestHost: 'höst.example' } }),
      /400: mask request host 'höst.example' is not ASCII/,
    );
    assert.equal((await Sandbox.list(runtime.sdk).nextItems()).length, before);
  });

  it("answers traffic for a killed sandbox as E2B's gateway does", async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.kill();
    const reply = await get(`${runtime.url}/`, { 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': '8000' });
    assert.equal(reply.status, 502);
    assert.deepEqual(JSON.parse(reply.body), { sandboxId: sandbox.sandboxId, message: 'The sandbox was not found', code: 502 });
    const byHost = await get(`${runtime.url}/`, { host: sandbox.getHost(49983) });
    assert.equal(byHost.status, 502);
    assert.equal(JSON.parse(byHost.body).message, 'The sandbox was not found');
  });

  it('shows a sandbox created with maskRequestHost that Host on its ports, ${PORT} filled in', async () => {
    const masked = await Sandbox.create({ ...runtime.sdk, network: { maskRequestHost: 'masked-${PORT}.example.internal' } });
    const plain = await Sandbox.create(runtime.sdk);
    try {
      await Promise.all([startHostEcho(masked, 8000), startHostEcho(plain, 8000)]);
      const viaHost = await get(`${runtime.url}/`, { host: masked.getHost(8000) });
      assert.equal(viaHost.status, 200);
      assert.deepEqual(JSON.parse(viaHost.body), { host: 'masked-8000.example.internal', forwarded: masked.getHost(8000) });
      const viaHeaders = await get(`${runtime.url}/`, { 'E2b-Sandbox-Id': masked.sandboxId, 'E2b-Sandbox-Port': '8000' });
      assert.equal(JSON.parse(viaHeaders.body).host, 'masked-8000.example.internal');
      const unmasked = await get(`${runtime.url}/`, { host: plain.getHost(8000) });
      assert.deepEqual(JSON.parse(unmasked.body), { host: plain.getHost(8000), forwarded: null });
      // envd's own port is never masked: the SDK keeps working.
      assert.equal((await masked.commands.run('echo envd')).stdout, 'envd\n');
    } finally {
      await Promise.all([masked.kill(), plain.kill()]);
    }
  });

  it("serves logs in E2B's structured form, filtered and paged as upstream, also after the kill", async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.commands.run('echo logged-for-search');
    await sandbox.commands.run('echo error: it failed');
    const id = sandbox.sandboxId;

    const v1 = await api<{ logs: { timestamp: string; line: string }[]; logEntries: LogEntry[] }>(`/sandboxes/${id}/logs`);
    assert.equal(v1.status, 200);
    assert.equal(v1.body.logs.length, v1.body.logEntries.length);
    v1.body.logs.forEach((log, i) => {
      const line = JSON.parse(log.line) as Record<string, string>;
      const entry = v1.body.logEntries[i];
      assert.equal(log.timestamp, entry.timestamp);
      assert.equal(line.level, entry.level);
      assert.equal(line.message, entry.message);
      assert.equal(line.logger, entry.fields.logger);
      assert.equal(line.sandboxID, id);
    });
    const times = v1.body.logEntries.map((e) => Date.parse(e.timestamp));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'v1 is oldest first',
    );
    const created = v1.body.logEntries.find((e) => e.message === 'sandbox created')!;
    assert.equal(created.fields.logger, 'lifecycle');

    const since = await api<{ logEntries: LogEntry[] }>(`/sandboxes/${id}/logs?start=${Date.parse(created.timestamp) + 1}`);
    assert.ok(since.body.logEntries.every((e) => Date.parse(e.timestamp) > Date.parse(created.timestamp)));

    const v2 = await api<{ logs: LogEntry[] }>(`/v2/sandboxes/${id}/logs`);
    const v2Times = v2.body.logs.map((e) => Date.parse(e.timestamp));
    assert.deepEqual(
      v2Times,
      [...v2Times].sort((a, b) => b - a),
      'v2 is newest first by default',
    );
    const forward = await api<{ logs: LogEntry[] }>(`/v2/sandboxes/${id}/logs?direction=forward&cursor=${Date.parse(created.timestamp)}`);
    assert.ok(forward.body.logs.some((e) => e.message === 'sandbox created'));
    assert.ok(
      forward.body.logs.every((e) => Date.parse(e.timestamp) >= Date.parse(created.timestamp)),
      'forward starts at the cursor',
    );
    assert.equal((await api<{ logs: LogEntry[] }>(`/v2/sandboxes/${id}/logs?limit=1`)).body.logs.length, 1);

    const searched = await api<{ logs: LogEntry[] }>(`/v2/sandboxes/${id}/logs?search=logged-for-search`);
    assert.ok(searched.body.logs.length >= 1);
    assert.ok(searched.body.logs.every((e) => e.message.includes('logged-for-search')));
    assert.equal(
      (await api<{ logs: LogEntry[] }>(`/v2/sandboxes/${id}/logs?search=LOGGED-FOR-SEARCH`)).body.logs.length,
      0,
      'search is case-sensitive',
    );

    const info = await api<{ logs: LogEntry[] }>(`/v2/sandboxes/${id}/logs?level=info`);
    assert.ok(info.body.logs.some((e) => e.message === 'sandbox created'));
    const errors = await api<{ logs: LogEntry[] }>(`/v2/sandboxes/${id}/logs?level=error`);
    assert.ok(
      errors.body.logs.every((e) => e.level === 'error'),
      'level is a minimum',
    );
    const quoted = info.body.logs.filter((e) => e.message.includes('echo error: it failed'));
    assert.ok(quoted.length > 0 && quoted.every((e) => e.level === 'info'), "a command's words do not make its line an error");

    for (const bad of ['direction=sideways', 'level=fatal', 'limit=5000', 'cursor=-1']) {
      assert.equal((await fetch(`${runtime.url}/v2/sandboxes/${id}/logs?${bad}`, { headers })).status, 400, bad);
    }

    await sandbox.kill();
    const afterKill = await api<{ logs: LogEntry[] }>(`/v2/sandboxes/${id}/logs?direction=forward`);
    assert.equal(afterKill.status, 200, "a killed sandbox's logs stay readable");
    assert.deepEqual(
      afterKill.body.logs.map((e) => e.message),
      ['sandbox created', 'sandbox killed'],
    );
    assert.equal((await fetch(`${runtime.url}/v2/sandboxes/aaaaaaaaaaaaaaaaaaaa/logs`, { headers })).status, 404);
  });
});
