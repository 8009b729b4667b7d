// Pause and resume (cgroup freezer), auto-pause, metrics and lifecycle events, through the
// official SDK against a real runtime.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { sandboxCgroupDirs } from './helpers/host-traces';

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
    try { return Number(readFileSync(`${dir}/cpuacct.usage`, 'utf8')); } catch { /* other hierarchy */ }
    try { return Number(/usage_usec (\d+)/.exec(readFileSync(`${dir}/cpu.stat`, 'utf8'))![1]) * 1000; } catch { /* other hierarchy */ }
  }
  throw new Error('no cpu accounting found');
}

describe('pause and resume', () => {
  let runtime: RuntimeProcess;
  before(async () => { runtime = await RuntimeProcess.start(); });
  after(async () => { await runtime?.dispose(); });

  it('keeps files, memory and running processes, and uses no CPU while paused', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    await sandbox.files.write('/home/user/kept.txt', 'still here');
    await sandbox.commands.run(`cat > /tmp/remember.py <<'PY'\n${REMEMBERER}\nPY`);
    await sandbox.commands.run('python3 /tmp/remember.py', { background: true });
    await sandbox.commands.run('i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done', { background: true });
    await new Promise((r) => setTimeout(r, 300));

    assert.equal(await Sandbox.pause(sandbox.sandboxId, runtime.sdk), true);
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'paused');
    assert.equal(await Sandbox.pause(sandbox.sandboxId, runtime.sdk), false, 'pausing a paused sandbox answers 409 → false');
    const paused = await Sandbox.list({ ...runtime.sdk, query: { state: ['paused'] } }).nextItems();
    assert.ok(paused.some((s) => s.sandboxId === sandbox.sandboxId));
    const cpuBefore = cpuUsageNs(sandbox.sandboxId);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(cpuUsageNs(sandbox.sandboxId), cpuBefore, 'no CPU used while paused');

    const resumed = await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'running');
    assert.equal(await resumed.files.read('/home/user/kept.txt'), 'still here');
    const first = Number((await resumed.commands.run('cat /tmp/count')).stdout);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(Number((await resumed.commands.run('cat /tmp/count')).stdout) > first, 'the counter goes on');
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
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(Number((await sandbox.commands.run('cat /tmp/count')).stdout) > a);
    await sandbox.kill();
  });

  it('does not count paused time toward the timeout', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 30_000 });
    await Sandbox.pause(sandbox.sandboxId, runtime.sdk);
    await new Promise((r) => setTimeout(r, 2500));
    await Sandbox.connect(sandbox.sandboxId, { ...runtime.sdk, timeoutMs: 1000 });
    const left = (await sandbox.getInfo()).endAt.getTime() - Date.now();
    assert.ok(left > 28_000, `time left after resume: ${left} ms`);
    await sandbox.kill();
  });

  it('pauses instead of killing when the timeout passes with onTimeout: pause', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 2000, lifecycle: { onTimeout: 'pause' } });
    await sandbox.files.write('/home/user/note.txt', 'auto');
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk)).state, 'paused');
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

  it('reports metrics that rise under load, and lifecycle events in order', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    await sandbox.commands.run('timeout 14 sh -c "while :; do :; done"', { background: true });
    let peak = 0;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && peak < 50) {
      await new Promise((r) => setTimeout(r, 1000));
      const metrics = await sandbox.getMetrics();
      peak = Math.max(0, ...metrics.map((m) => m.cpuUsedPct));
      if (metrics.length) {
        const last = metrics[metrics.length - 1];
        assert.equal(last.cpuCount, 2);
        assert.ok(last.memTotal === 1024 * 1024 * 1024 && last.memUsed > 0 && last.diskTotal > 0);
      }
    }
    assert.ok(peak >= 40, `a busy loop shows in cpuUsedPct (peak ${peak})`);

    await sandbox.setTimeout(90_000);
    await sandbox.pause();
    await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
    await sandbox.kill();
    const res = await fetch(`${runtime.url}/events/sandboxes/${sandbox.sandboxId}?orderAsc=true&limit=100`, { headers: { 'X-API-KEY': runtime.apiKey } });
    const events = (await res.json()) as { type: string; sandboxId: string; timestamp: string }[];
    assert.deepEqual(events.map((e) => e.type.replace('sandbox.lifecycle.', '')), ['created', 'updated', 'paused', 'resumed', 'killed']);
    assert.ok(events.every((e) => e.sandboxId === sandbox.sandboxId));
    const latest = await fetch(`${runtime.url}/events/sandboxes?limit=1`, { headers: { 'X-API-KEY': runtime.apiKey } });
    assert.equal(((await latest.json()) as { type: string }[])[0].type, 'sandbox.lifecycle.killed');
  });
});
