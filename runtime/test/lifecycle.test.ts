// Sandbox lifecycle through the official `e2b` SDK against a real runtime.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationError, NotFoundError, Sandbox, SandboxInfo } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { waitUntil } from './helpers/wait';

describe('sandbox lifecycle', () => {
  let runtime: RuntimeProcess;
  before(async () => {
    runtime = await RuntimeProcess.start();
  });
  after(async () => {
    await runtime?.dispose();
  });

  /** A sandbox's lifecycle events, oldest first, from E2B's events API (the SDK has no call for it). */
  async function eventTypes(sandboxId: string): Promise<string[]> {
    const res = await fetch(`${runtime.url}/events/sandboxes/${sandboxId}?orderAsc=true&limit=100`, {
      headers: { 'X-API-KEY': runtime.apiKey },
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { type: string }[]).map((e) => e.type);
  }

  it('creates a sandbox with metadata, env vars and timeout, and reports it', async () => {
    const before = Date.now();
    const sandbox = await Sandbox.create({
      ...runtime.sdk,
      metadata: { user: '42', purpose: 'test' },
      envs: { GREETING: 'hello' },
      timeoutMs: 120_000,
    });
    assert.match(sandbox.sandboxId, /^[a-z0-9]{20}$/);
    const info = await sandbox.getInfo();
    assert.equal(info.sandboxId, sandbox.sandboxId);
    assert.equal(info.templateId, 'base');
    assert.equal(info.state, 'running');
    assert.deepEqual(info.metadata, { user: '42', purpose: 'test' });
    const lifetime = info.endAt.getTime() - info.startedAt.getTime();
    assert.ok(Math.abs(lifetime - 120_000) < 2000, `lifetime ${lifetime}`);
    assert.ok(info.startedAt.getTime() >= before - 1000);
    assert.ok(info.cpuCount > 0 && info.memoryMB > 0);
    assert.equal(await sandbox.kill(), true);
  });

  it('lists with metadata and state filters and pages through long lists', async () => {
    const tag = `run-${Date.now()}`;
    const created = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => Sandbox.create({ ...runtime.sdk, metadata: { tag, index: String(i), odd: String(i % 2) } })),
    );
    try {
      const paginator = Sandbox.list({ ...runtime.sdk, limit: 2, query: { metadata: { tag } } });
      const seen: SandboxInfo[] = [];
      let pages = 0;
      while (paginator.hasNext) {
        const page = await paginator.nextItems();
        assert.ok(page.length <= 2);
        seen.push(...page);
        pages++;
      }
      assert.equal(pages, 3);
      assert.deepEqual(new Set(seen.map((s) => s.sandboxId)), new Set(created.map((s) => s.sandboxId)));

      const odd = await Sandbox.list({ ...runtime.sdk, query: { metadata: { tag, odd: '1' } } }).nextItems();
      assert.deepEqual(odd.map((s) => s.metadata.index).sort(), ['1', '3']);

      const paused = await Sandbox.list({ ...runtime.sdk, query: { state: ['paused'], metadata: { tag } } }).nextItems();
      assert.equal(paused.length, 0);
      const running = await Sandbox.list({ ...runtime.sdk, query: { state: ['running'], metadata: { tag } } }).nextItems();
      assert.equal(running.length, 5);
    } finally {
      await Promise.all(created.map((s) => s.kill()));
    }
  });

  it('moves the timeout either way with setTimeout, and connect only extends it', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 60_000 });
    try {
      await sandbox.setTimeout(600_000);
      let info = await sandbox.getInfo();
      assert.ok(info.endAt.getTime() - Date.now() > 590_000);
      await sandbox.setTimeout(30_000);
      info = await sandbox.getInfo();
      assert.ok(info.endAt.getTime() - Date.now() < 31_000);

      const connected = await Sandbox.connect(sandbox.sandboxId, { ...runtime.sdk, timeoutMs: 10_000 });
      assert.equal(connected.sandboxId, sandbox.sandboxId);
      info = await sandbox.getInfo();
      assert.ok(info.endAt.getTime() - Date.now() > 20_000, 'connect must not shorten the timeout');
      await Sandbox.connect(sandbox.sandboxId, { ...runtime.sdk, timeoutMs: 300_000 });
      info = await sandbox.getInfo();
      assert.ok(info.endAt.getTime() - Date.now() > 290_000, 'connect extends the timeout');
    } finally {
      await sandbox.kill();
    }
  });

  it('kills: true for a live sandbox, false for an unknown one; getInfo then says not found', async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    assert.equal(await Sandbox.kill(sandbox.sandboxId, runtime.sdk), true);
    assert.equal(await Sandbox.kill(sandbox.sandboxId, runtime.sdk), false);
    assert.equal(await Sandbox.kill('aaaaaaaaaaaaaaaaaaaa', runtime.sdk), false);
    await assert.rejects(Sandbox.getInfo(sandbox.sandboxId, runtime.sdk), NotFoundError);
    await assert.rejects(Sandbox.connect(sandbox.sandboxId, runtime.sdk), NotFoundError);
    // The events outlive the sandbox and end with one killed (the second kill found nothing).
    assert.deepEqual(await eventTypes(sandbox.sandboxId), ['sandbox.lifecycle.created', 'sandbox.lifecycle.killed']);
  });

  it('kills a sandbox when its timeout passes', async () => {
    // The timeout counts from the start of create: 5 s leave room for a slow create to be seen running.
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 5_000 });
    assert.equal(await sandbox.isRunning(), true);
    await waitUntil(
      'the timeout to kill it',
      () =>
        sandbox.getInfo().then(
          () => false,
          (err) => err instanceof NotFoundError,
        ),
      20_000,
    );
    assert.equal(await sandbox.isRunning(), false);
    assert.deepEqual(
      await eventTypes(sandbox.sandboxId),
      ['sandbox.lifecycle.created', 'sandbox.lifecycle.killed'],
      'a timeout kill is a killed event too',
    );
  });

  it('refuses a wrong or missing API key with AuthenticationError', async () => {
    const wrongKey = `e2b_${'0'.repeat(40)}`;
    await assert.rejects(Sandbox.create({ ...runtime.sdk, apiKey: wrongKey }), AuthenticationError);
    await assert.rejects(Sandbox.list({ ...runtime.sdk, apiKey: wrongKey }).nextItems(), AuthenticationError);
    const res = await fetch(`${runtime.url}/v2/sandboxes`);
    assert.equal(res.status, 401);
    const body = (await res.json()) as { code: number; message: string };
    assert.equal(body.code, 401);
    assert.ok(body.message.length > 0);
  });

  it('answers an unknown template with 404 and leaves nothing behind', async () => {
    await assert.rejects(Sandbox.create('no-such-template', runtime.sdk), /not found/);
    const all = await Sandbox.list(runtime.sdk).nextItems();
    assert.equal(all.filter((s) => s.templateId === 'no-such-template').length, 0);
  });

  it('lists templates and answers health', async () => {
    const health = await fetch(`${runtime.url}/health`);
    assert.equal(health.status, 200);
    const res = await fetch(`${runtime.url}/templates`, { headers: { 'X-API-KEY': runtime.apiKey } });
    assert.equal(res.status, 200);
    const templates = (await res.json()) as { templateID: string; aliases: string[] }[];
    assert.ok(templates.some((t) => t.templateID === 'base'));
  });

  it('serves sandbox logs: processes the agent ran and lifecycle events', async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.commands.run('echo logged-command');
    const headers = { 'X-API-KEY': runtime.apiKey };
    const v2 = (await (await fetch(`${runtime.url}/v2/sandboxes/${sandbox.sandboxId}/logs`, { headers })).json()) as {
      logs: { message: string; level: string }[];
    };
    const messages = v2.logs.map((l) => l.message);
    assert.ok(messages.includes('sandbox created'), messages.join('\n'));
    assert.ok(
      messages.some((m) => /process \d+ started: \/bin\/bash -l -c echo logged-command/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /process \d+ ended: exit status 0/.test(m)),
      messages.join('\n'),
    );
    const v1 = (await (await fetch(`${runtime.url}/sandboxes/${sandbox.sandboxId}/logs`, { headers })).json()) as {
      logs: { line: string }[];
      logEntries: unknown[];
    };
    assert.equal(v1.logs.length, v1.logEntries.length);
    assert.equal((await fetch(`${runtime.url}/v2/sandboxes/aaaaaaaaaaaaaaaaaaaa/logs`, { headers })).status, 404);
    await sandbox.kill();
  });
  it('starts many cold sandboxes at once, each on its own disk (they race for loop devices)', { timeout: 300_000 }, async () => {
    // More than the pool holds: most of these boot cold, and every one attaches a loop device
    // at the same moment as the others.
    const sandboxes = await Promise.all(Array.from({ length: 40 }, () => Sandbox.create({ ...runtime.sdk, timeoutMs: 300_000 })));
    try {
      const results = await Promise.all(sandboxes.map((s) => s.commands.run('df --output=size -m / | tail -1')));
      for (const result of results) assert.equal(result.exitCode, 0);
      assert.equal(new Set(sandboxes.map((s) => s.sandboxId)).size, 40);
    } finally {
      await Promise.all(sandboxes.map((s) => s.kill().catch(() => false)));
    }
  });
});
