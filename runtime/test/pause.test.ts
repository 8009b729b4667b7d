// Pause and resume (cgroup freezer; filesystem-only pause that boots afresh), auto-pause, metrics and lifecycle events, through the
// official SDK against a real runtime.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, Template } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { crunContainers, mountsUnder, sandboxCgroupDirs, sandboxHostPids } from './helpers/host-traces';
import { sleep, waitUntil } from './helpers/wait';

const REMEMBERER = [
  'import os, time',
  'state = {"v": 42}',
  'while True:',
  '    if os.path.exists("/tmp/ask"):',
  '        open("/tmp/answer", "w").write(str(state["v"]))',
  '        os.remove("/tmp/ask")',
  '    time.sleep(0.05)',
].join('\n');

function cpuUsageNs(sandboxId: string): number {
  for (const dir of sandboxCgroupDirs(sandboxId)) {
    try {
      return Number(readFileSync(`${dir}/cpuacct.usage`, 'utf8'));
    } catch {
      /* other hierarchy */
    }
    try {
      return Number(/usage_usec (\d+)/.exec(readFileSync(`${dir}/cpu.stat`, 'utf8'))![1]) * 1000;
    } catch {
      /* other hierarchy */
    }
  }
  throw new Error('no cpu accounting found');
}

describe('pause and resume', () => {
  let runtime: RuntimeProcess;
  before(async () => {
    runtime = await RuntimeProcess.start();
  });
  after(async () => {
    await runtime?.dispose();
  });

  it('keeps files, memory and running processes, and uses no CPU while paused', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    await sandbox.files.write('/home/user/kept.txt', 'still here');
    await sandbox.commands.run(`cat > /tmp/remember.py <<'PY'\n${REMEMBERER}\nPY`);
    await sandbox.commands.run('python3 /tmp/remember.py', { background: true });
    await sandbox.commands.run('i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done', { background: true });
    await sleep(300);

    assert.equal(await Sandbox.pause(sandbox.sandboxId, runtime.sdk), true);
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'paused');
    assert.equal(await Sandbox.pause(sandbox.sandboxId, runtime.sdk), false, 'pausing a paused sandbox answers 409 → false');
    const paused = await Sandbox.list({ ...runtime.sdk, query: { state: ['paused'] } }).nextItems();
    assert.ok(paused.some((s) => s.sandboxId === sandbox.sandboxId));
    const cpuBefore = cpuUsageNs(sandbox.sandboxId);
    await sleep(1000);
    assert.equal(cpuUsageNs(sandbox.sandboxId), cpuBefore, 'no CPU used while paused');

    const resumed = await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'running');
    assert.equal(await resumed.files.read('/home/user/kept.txt'), 'still here');
    const first = Number((await resumed.commands.run('cat /tmp/count')).stdout);
    await waitUntil('the counter to go on', async () => Number((await resumed.commands.run('cat /tmp/count')).stdout) > first);
    await resumed.commands.run('touch /tmp/ask; for i in $(seq 50); do [ -f /tmp/answer ] && break; sleep 0.05; done');
    assert.equal(await resumed.files.read('/tmp/answer'), '42', 'the Python variable survived');
    await resumed.kill();
  });

  it('survives 20 pause/resume cycles', async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.commands.run('i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.02; done', { background: true });
    for (let i = 0; i < 20; i++) {
      assert.equal(await Sandbox.pause(sandbox.sandboxId, runtime.sdk), true);
      await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
    }
    const a = Number((await sandbox.commands.run('cat /tmp/count')).stdout);
    await waitUntil('the counter to go on', async () => Number((await sandbox.commands.run('cat /tmp/count')).stdout) > a);
    await sandbox.kill();
  });

  it('does not count paused time toward the timeout', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 30_000 });
    // Measured against the sandbox's own clock just before the pause, so slow calls cost nothing.
    const leftBefore = (await sandbox.getInfo()).endAt.getTime() - Date.now();
    await Sandbox.pause(sandbox.sandboxId, runtime.sdk);
    await sleep(8000);
    await Sandbox.connect(sandbox.sandboxId, { ...runtime.sdk, timeoutMs: 1000 });
    const left = (await sandbox.getInfo()).endAt.getTime() - Date.now();
    // Counting the 8 s paused would leave less than leftBefore - 8000.
    assert.ok(left > leftBefore - 4000, `time left: ${leftBefore} ms before the pause, ${left} ms after the resume`);
    await sandbox.kill();
  });

  it('pauses instead of killing when the timeout passes with onTimeout: pause', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 2000, lifecycle: { onTimeout: 'pause' } });
    await sandbox.files.write('/home/user/note.txt', 'auto');
    // getInfo throws once a sandbox is killed, so waiting cannot mistake a kill for a pause.
    await waitUntil('the timeout to pause it', async () => (await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state === 'paused');
    const again = await Sandbox.connect(sandbox.sandboxId, { ...runtime.sdk, timeoutMs: 60_000 });
    assert.equal(await again.files.read('/home/user/note.txt'), 'auto');
    await again.kill();
  });

  it('keeps a paused sandbox across a runtime restart', async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.files.write('/home/user/across.txt', 'restart');
    await Sandbox.pause(sandbox.sandboxId, runtime.sdk);
    await runtime.stop();
    await runtime.launch();
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'paused');
    const again = await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
    assert.equal(await again.files.read('/home/user/across.txt'), 'restart');
    await again.kill();
  });

  it('pauses without memory: processes end, files stay, and resume boots it afresh', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    await sandbox.files.write('/home/user/kept.txt', 'files only');
    await sandbox.commands.run('sleep 600', { background: true });
    const bootBefore = (await sandbox.commands.run('cat /proc/1/stat | cut -d" " -f22')).stdout;
    assert.equal(await sandbox.pause({ keepMemory: false }), true);
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'paused');
    assert.deepEqual(sandboxHostPids(sandbox.sandboxId), [], 'no process of it is left on the host');
    assert.deepEqual(
      crunContainers(runtime.dataDir).filter((c) => c.includes(sandbox.sandboxId)),
      [],
      'nor its container',
    );
    assert.deepEqual(mountsUnder(join(runtime.dataDir, 'sandboxes', sandbox.sandboxId)), [], 'nor its mounts');
    assert.equal(await Sandbox.pause(sandbox.sandboxId, runtime.sdk), false, 'already paused');

    const again = await Sandbox.connect(sandbox.sandboxId, { ...runtime.sdk, timeoutMs: 60_000 });
    assert.equal(await again.files.read('/home/user/kept.txt'), 'files only');
    assert.equal((await again.commands.run('pgrep -x sleep || echo none')).stdout.trim(), 'none', 'the processes ended');
    assert.notEqual((await again.commands.run('cat /proc/1/stat | cut -d" " -f22')).stdout, bootBefore, 'a new init');
    await again.files.write('/home/user/after.txt', 'new boot');
    assert.equal((await again.commands.run('cat /home/user/after.txt')).stdout, 'new boot');
    await again.kill();
  });

  it('runs the template start command again when a filesystem-only pause resumes', async () => {
    // base has no start command: one built on it with a start command shows every boot.
    const template = Template()
      .fromTemplate('base')
      .setStartCmd('echo started >> /home/user/starts.log; sleep infinity', 'test -f /home/user/starts.log');
    await Template.build(template, 'fs-pause-start', { ...runtime.sdk });
    const sandbox = await Sandbox.create('fs-pause-start', { ...runtime.sdk, timeoutMs: 120_000 });
    assert.equal(await sandbox.files.read('/home/user/starts.log'), 'started\n');
    await sandbox.pause({ keepMemory: false });
    const again = await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
    assert.equal(await again.files.read('/home/user/starts.log'), 'started\nstarted\n');
    // A memory pause resumed with onResume: 'reboot' boots afresh too.
    await again.pause();
    const rebooted = await Sandbox.connect(sandbox.sandboxId, { ...runtime.sdk, onResume: 'reboot' });
    assert.equal(await rebooted.files.read('/home/user/starts.log'), 'started\nstarted\nstarted\n');
    await rebooted.kill();
  });

  it('is not woken by traffic when paused without memory, even with autoResume; connect boots it', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 60_000, lifecycle: { onTimeout: 'pause', autoResume: true } });
    await sandbox.files.write('/home/user/wake.txt', 'explicitly');
    await sandbox.pause({ keepMemory: false });
    await assert.rejects(sandbox.files.read('/home/user/wake.txt'));
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'paused', 'traffic did not boot it');
    const again = await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
    assert.equal(await again.files.read('/home/user/wake.txt'), 'explicitly');
    await again.kill();
  });

  it('auto-pauses without memory with onTimeout {action: pause, keepMemory: false}', async () => {
    await assert.rejects(
      fetch(`${runtime.url}/sandboxes`, {
        method: 'POST',
        headers: { 'X-API-KEY': runtime.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ templateID: 'base', autoPause: true, autoPauseMemory: false, autoResume: { enabled: true } }),
      }).then(async (r) => {
        if (r.status !== 400) throw new Error(`status ${r.status}`);
        throw new Error(((await r.json()) as { message: string }).message);
      }),
      /autoResume cannot be combined with autoPauseMemory: false/,
    );
    const sandbox = await Sandbox.create({
      ...runtime.sdk,
      timeoutMs: 2000,
      lifecycle: { onTimeout: { action: 'pause', keepMemory: false } },
    });
    await sandbox.files.write('/home/user/note.txt', 'auto, files only');
    await sandbox.commands.run('sleep 600', { background: true });
    await waitUntil('the timeout to pause it', async () => (await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state === 'paused');
    assert.deepEqual(sandboxHostPids(sandbox.sandboxId), []);
    // Kept across a restart of the runtime, though it has no container any more.
    await runtime.restart();
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'paused');
    const again = await Sandbox.connect(sandbox.sandboxId, { ...runtime.sdk, timeoutMs: 60_000 });
    assert.equal(await again.files.read('/home/user/note.txt'), 'auto, files only');
    assert.equal((await again.commands.run('pgrep -x sleep || echo none')).stdout.trim(), 'none');
    await again.kill();
    assert.ok(!existsSync(join(runtime.dataDir, 'sandboxes', sandbox.sandboxId)));
  });

  it('reports metrics that follow CPU use under load, and lifecycle events in order', async () => {
    // However busy the machine, a busy loop gets some CPU and an idle sandbox next to it gets almost
    // none: the metrics must show the loaded one clearly above the idle one, sampled at the same
    // moments, and as high as the loop's own share measured from its cgroup.
    const [sandbox, idle] = await Promise.all([0, 1].map(() => Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 })));
    await sandbox.commands.run('timeout 14 sh -c "while :; do :; done"', { background: true });
    const loadStart = Date.now();
    const cpuStart = cpuUsageNs(sandbox.sandboxId);
    // Samples come every 5 s and each covers the 5 s before it: by 11 s two cover load only.
    await sleep(11_000);
    const loopPct = ((cpuUsageNs(sandbox.sandboxId) - cpuStart) / ((Date.now() - loadStart) * 1e6 * 2)) * 100;
    const duringLoad = (m: { timestamp: Date }) => m.timestamp.getTime() > loadStart;
    const busyMetrics = (await sandbox.getMetrics()).filter(duringLoad);
    const idleMetrics = (await idle.getMetrics()).filter(duringLoad);
    assert.ok(
      busyMetrics.length >= 2 && idleMetrics.length >= 2,
      `samples during the load: ${busyMetrics.length} and ${idleMetrics.length}`,
    );
    const last = busyMetrics[busyMetrics.length - 1];
    assert.equal(last.cpuCount, 2);
    assert.ok(last.memTotal === 1024 * 1024 * 1024 && last.memUsed > 0 && last.diskTotal > 0);
    const peak = Math.max(...busyMetrics.map((m) => m.cpuUsedPct));
    const idlePeak = Math.max(...idleMetrics.map((m) => m.cpuUsedPct));
    const shares = `loaded peak ${peak} %, idle peak ${idlePeak} %, the loop's own share ${loopPct.toFixed(2)} %`;
    assert.ok(peak > 2 * idlePeak && peak - idlePeak > 0.5, `the loaded sandbox shows clearly above the idle one: ${shares}`);
    assert.ok(peak >= loopPct / 2, `the metrics show the load the cgroup counted: ${shares}`);
    await idle.kill();

    await sandbox.setTimeout(90_000);
    await sandbox.pause();
    await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
    await sandbox.kill();
    const res = await fetch(`${runtime.url}/events/sandboxes/${sandbox.sandboxId}?orderAsc=true&limit=100`, {
      headers: { 'X-API-KEY': runtime.apiKey },
    });
    const events = (await res.json()) as { type: string; sandboxId: string; timestamp: string }[];
    assert.deepEqual(
      events.map((e) => e.type.replace('sandbox.lifecycle.', '')),
      ['created', 'updated', 'paused', 'resumed', 'killed'],
    );
    assert.ok(events.every((e) => e.sandboxId === sandbox.sandboxId));
    const latest = await fetch(`${runtime.url}/events/sandboxes?limit=1`, { headers: { 'X-API-KEY': runtime.apiKey } });
    assert.equal(((await latest.json()) as { type: string }[])[0].type, 'sandbox.lifecycle.killed');
  });
});
