// The container boundary: what sandbox root can and cannot do, and what the host sees of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { hostUidOf, sandboxCgroupDirs, sandboxHostPids } from './helpers/host-traces';
import { waitUntil } from './helpers/wait';

function readCgroupFile(sandboxId: string, file: string): string | undefined {
  for (const dir of sandboxCgroupDirs(sandboxId)) {
    try {
      return readFileSync(join(dir, file), 'utf8').trim();
    } catch {
      /* other hierarchy */
    }
  }
  return undefined;
}

describe('sandbox isolation', () => {
  let runtime: RuntimeProcess;
  let sandbox: Sandbox;
  const asRoot = (cmd: string) => sandbox.commands.run(cmd, { user: 'root' }).catch((err) => err);
  before(async () => {
    runtime = await RuntimeProcess.start();
    sandbox = await Sandbox.create(runtime.sdk);
  });
  after(async () => {
    await runtime?.dispose();
  });

  it('runs sandbox root as an unprivileged host uid', async () => {
    await sandbox.commands.run('sleep 600', { user: 'root', background: true });
    // Short-lived processes may exit between listing and reading: judge those still there.
    const uids = sandboxHostPids(sandbox.sandboxId)
      .map((pid) => [pid, hostUidOf(pid)] as const)
      .filter(([, uid]) => uid !== undefined);
    assert.ok(uids.length >= 2, 'the host sees the sandbox processes in its cgroup');
    for (const [pid, uid] of uids) assert.ok(uid! >= 100000, `host pid ${pid} runs as uid ${uid}`);
  });

  it('limits CPU, memory and pids with cgroups, and never gives one sandbox every core', () => {
    const read = (file: string) => readCgroupFile(sandbox.sandboxId, file);
    const memory = read('memory.limit_in_bytes') ?? read('memory.max');
    assert.equal(Number(memory), 1024 * 1024 * 1024);
    assert.equal(read('pids.max'), '4096');
    const quota = Number(read('cpu.cfs_quota_us') ?? read('cpu.max')?.split(' ')[0]);
    const hostCpus = availableParallelism();
    assert.ok(quota <= 200000, `at most the 2 CPUs asked for: ${quota}`);
    assert.ok(
      quota < hostCpus * 100000 && quota >= (Math.min(2, hostCpus) - 0.5) * 100000,
      `some headroom on a ${hostCpus}-CPU host, no more: ${quota}`,
    );
  });

  it(
    'holds a fork bomb inside its sandbox: capped pids, throttled CPU, a neighbour that still runs, and a clean kill',
    { timeout: 120_000 },
    async () => {
      const [bomb, neighbour] = await Promise.all([Sandbox.create(runtime.sdk), Sandbox.create(runtime.sdk)]);
      await bomb.commands.run('bash -c ":(){ :|:& };:"', { background: true });
      const throttled = () => Number(/nr_throttled (\d+)/.exec(readCgroupFile(bomb.sandboxId, 'cpu.stat') ?? '')?.[1] ?? 0);
      await waitUntil('the bomb to reach its pids limit', () => Number(readCgroupFile(bomb.sandboxId, 'pids.current')) >= 4000, 60_000, 50);
      await waitUntil('the CPU quota to throttle the bomb', () => throttled() > 0, 60_000);
      for (let i = 0; i < 5; i++) assert.equal((await neighbour.commands.run(`echo neighbour ${i}`)).stdout, `neighbour ${i}\n`);
      assert.equal(await bomb.kill(), true);
      assert.deepEqual(sandboxCgroupDirs(bomb.sandboxId), [], 'every process of the bomb is gone with its cgroups');
      assert.equal((await neighbour.commands.run('echo still here')).stdout, 'still here\n');
      await neighbour.kill();
    },
  );

  it('kills a process that exceeds the memory limit, and the sandbox survives', async () => {
    const result = await asRoot('python3 -c "x = bytearray(1536 * 1024 * 1024); x[::4096] = b\'1\' * len(x[::4096])"');
    // The kernel's OOM killer sends SIGKILL: upstream reports a signal death as exit code -1.
    assert.equal(result.exitCode, -1);
    assert.match(result.error ?? '', /signal: killed/);
    assert.equal((await sandbox.commands.run('echo alive')).stdout, 'alive\n');
  });

  it('refuses new namespaces and mounts to sandbox root', async () => {
    const unshare = await asRoot('unshare -Urm true');
    assert.notEqual(unshare.exitCode, 0);
    const mount = await asRoot('mount -t tmpfs none /mnt');
    assert.notEqual(mount.exitCode, 0);
    const kcore = await asRoot('head -c 16 /proc/kcore | wc -c');
    assert.equal(kcore.stdout?.trim(), '0');
  });

  it('has its own hostname, pid space and a network with loopback only', async () => {
    assert.equal((await sandbox.commands.run('hostname')).stdout, 'e2b.local\n');
    const interfaces = await sandbox.commands.run("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
    assert.equal(interfaces.stdout, 'lo\n');
    const init = await sandbox.commands.run('cat /proc/1/comm');
    assert.equal(init.stdout, 'e2b-init\n');
  });

  it('cannot reach the host or another sandbox', async () => {
    const other = await Sandbox.create(runtime.sdk);
    await other.commands.run('python3 -m http.server 8123', { background: true });
    const port = new URL(runtime.url).port;
    const toHost = await sandbox.commands.run(`curl -sS -m 2 http://127.0.0.1:${port}/health`).catch((e) => e);
    assert.notEqual(toHost.exitCode, 0, 'the runtime on the host loopback is unreachable');
    const toOther = await sandbox.commands.run('curl -sS -m 2 http://127.0.0.1:8123/').catch((e) => e);
    assert.notEqual(toOther.exitCode, 0, "another sandbox's server is unreachable");
    await other.kill();
  });
});
