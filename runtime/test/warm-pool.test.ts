// The warm pool: creates are served by sandboxes booted ahead of time, each handed out once with
// the caller's env vars, metadata and access token; the pool refills itself and leaves nothing
// behind when the runtime stops or dies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, Template } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { crunContainers, mountsUnder } from './helpers/host-traces';

const FULL = 'warm pool: 2 base sandbox(es) ready';

/** Sandbox ids of the containers the runtime has (running sandboxes and pooled ones). */
function containerIds(runtime: RuntimeProcess): string[] {
  return crunContainers(runtime.dataDir).map((name) => name.replace(/^e2b-/, ''));
}

describe('warm pool', () => {
  let runtime: RuntimeProcess;
  before(async () => {
    runtime = await RuntimeProcess.start(['--warm-pool', 'base=2']);
    await runtime.waitForOutput(FULL, 0);
  });
  after(async () => {
    await runtime?.dispose();
  });

  it("hands out a pooled sandbox with the caller's env vars, metadata and token, then refills", async () => {
    const pooled = containerIds(runtime);
    assert.equal(pooled.length, 2, `two pooled containers: ${pooled}`);
    assert.deepEqual(
      (await Sandbox.list(runtime.sdk).nextItems()).map((s) => s.sandboxId),
      [],
      'pooled sandboxes are not listed',
    );

    const mark = runtime.output.length;
    const sandbox = await Sandbox.create({ ...runtime.sdk, envs: { GREETING: 'hello from the caller' }, metadata: { owner: 'pool-test' } });
    assert.ok(pooled.includes(sandbox.sandboxId), 'the sandbox came from the pool');
    const run = await sandbox.commands.run('echo "$GREETING|$E2B_SANDBOX_ID"');
    assert.equal(run.stdout.trim(), `hello from the caller|${sandbox.sandboxId}`);
    assert.deepEqual((await sandbox.getInfo()).metadata, { owner: 'pool-test' });

    // The caller's token guards the agent: a request without it is refused.
    const unauthorised = await fetch(`${runtime.url}/process.Process/List`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'e2b-sandbox-id': sandbox.sandboxId, 'e2b-sandbox-port': '49983' },
      body: '{}',
    });
    assert.equal(unauthorised.status, 401);

    await runtime.waitForOutput(FULL, mark);
    const refilled = containerIds(runtime).filter((id) => id !== sandbox.sandboxId);
    assert.equal(refilled.length, 2);
    assert.ok(!refilled.includes(sandbox.sandboxId));
    await sandbox.kill();
  });

  it('hands out a pooled sandbox that needs no token to a caller who asks for none', async () => {
    await runtime.waitForOutput(FULL, 0);
    const pooled = containerIds(runtime);
    const sandboxID = await runtime.createInsecureSandbox();
    assert.ok(pooled.includes(sandboxID), 'the sandbox came from the pool');

    // Nothing of the pool is left: no token, and not the warm-up's command.
    const listed = await fetch(`${runtime.url}/process.Process/List`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'e2b-sandbox-id': sandboxID, 'e2b-sandbox-port': '49983' },
      body: '{}',
    });
    assert.equal(listed.status, 200, 'no token is needed');
    const { processes } = (await listed.json()) as { processes: { config: { cmd: string; args?: string[] } }[] };
    assert.ok(!processes.some((p) => p.config.args?.join(' ') === '-l -c true'), `the warm-up is not listed: ${JSON.stringify(processes)}`);
    const killed = await fetch(`${runtime.url}/sandboxes/${sandboxID}`, { method: 'DELETE', headers: { 'X-API-KEY': runtime.apiKey } });
    assert.equal(killed.status, 204);
  });

  it('never hands out the same sandbox twice', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const sandbox = await Sandbox.create(runtime.sdk);
      assert.ok(!seen.has(sandbox.sandboxId), `${sandbox.sandboxId} was handed out before`);
      seen.add(sandbox.sandboxId);
      // What one caller did must not be visible to the next.
      assert.equal((await sandbox.commands.run('cat /tmp/mark 2>/dev/null || echo clean')).stdout.trim(), 'clean');
      await sandbox.commands.run('echo used > /tmp/mark');
      await sandbox.kill();
      assert.ok(!containerIds(runtime).includes(sandbox.sandboxId), 'a killed sandbox is gone, not returned to the pool');
    }
  });

  it('boots nothing for the pool while creates run, and refills once they are over', async () => {
    await runtime.waitForOutput(FULL, 0);
    const pooled = new Set(containerIds(runtime));
    // Two take the pooled sandboxes, the rest boot cold: the burst runs well past its last take.
    const burst = Promise.all(Array.from({ length: 20 }, () => Sandbox.create(runtime.sdk)));
    const seen = new Set<string>();
    let over = false;
    void burst.finally(() => (over = true)).catch(() => undefined);
    while (!over) {
      for (const id of containerIds(runtime)) seen.add(id);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sandboxes = await burst;
    for (const id of containerIds(runtime)) seen.add(id);
    const created = new Set(sandboxes.map((s) => s.sandboxId));
    const refills = [...seen].filter((id) => !pooled.has(id) && !created.has(id));
    assert.deepEqual(refills, [], 'no pool sandbox was booted while the creates ran');

    const mark = runtime.output.length;
    await runtime.waitForOutput(FULL, mark);
    await Promise.all(sandboxes.map((s) => s.kill()));
  });

  it('refills while a create waits on a slow ready command', { timeout: 120_000 }, async () => {
    // Ready 12 s after it starts: refills stop waiting for such a create after 5 s.
    const slow = Template().fromTemplate('base').setStartCmd('sleep 12; touch /tmp/ready; sleep infinity', 'test -f /tmp/ready');
    await Template.build(slow, 'pool-slow-ready', { ...runtime.sdk });
    await runtime.waitForOutput(FULL, 0);
    const mark = runtime.output.length;
    let slowCreated = false;
    const slowCreate = Sandbox.create('pool-slow-ready', { ...runtime.sdk }).finally(() => (slowCreated = true));
    // Both pooled sandboxes taken while the slow create runs.
    const taken = await Promise.all([Sandbox.create(runtime.sdk), Sandbox.create(runtime.sdk)]);
    await runtime.waitForOutput(FULL, mark, 60_000);
    assert.equal(slowCreated, false, 'the pool waited for the slow create to be ready');
    await Promise.all([...taken, await slowCreate].map((s) => s.kill()));
  });

  it('removes its pooled sandboxes when the runtime stops, and after a crash on the next start', async () => {
    await runtime.waitForOutput(FULL, 0);
    await runtime.stop();
    assert.deepEqual(containerIds(runtime), [], 'a stopped runtime leaves no pooled containers');
    assert.deepEqual(mountsUnder(runtime.dataDir), []);

    // launch() starts a fresh output log, so offset 0 means "since this start".
    await runtime.launch();
    await runtime.waitForOutput(FULL, 0);
    const beforeCrash = containerIds(runtime);
    assert.equal(beforeCrash.length, 2);
    await runtime.crash();
    await runtime.launch();
    await runtime.waitForOutput(FULL, 0);
    const afterRestart = containerIds(runtime);
    assert.equal(afterRestart.length, 2);
    assert.ok(
      beforeCrash.every((id) => !afterRestart.includes(id)),
      "the crashed runtime's pooled sandboxes were removed",
    );
  });
});
