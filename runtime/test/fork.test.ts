// Forking a running sandbox through the official SDK: new sandboxes with the same files and the
// source's settings, the source untouched; bad counts, killed, unknown and paused sandboxes get
// E2B's errors; nothing is left on the host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, Sandbox, SandboxError, Volume } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { crunContainers, mountsUnder } from './helpers/host-traces';
import { waitUntil } from './helpers/wait';

describe('fork', () => {
  let runtime: RuntimeProcess;
  before(async () => {
    runtime = await RuntimeProcess.start(['--warm-pool', '0']);
  });
  after(async () => {
    await runtime?.dispose();
  });

  const sandboxDirs = () => readdirSync(join(runtime.dataDir, 'sandboxes'));
  const layers = () => {
    try {
      return readdirSync(join(runtime.dataDir, 'snapshots', 'layers'));
    } catch {
      return [];
    }
  };

  it('starts count sandboxes with the same files and settings; the source runs on', async () => {
    const source = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000, metadata: { branch: 'main' }, envs: { GREETING: 'hello' } });
    await source.files.write('/home/user/work/state.json', '{"step":3}');
    await source.commands.run('i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done', { background: true });

    const forks = await source.fork({ count: 2, timeoutMs: 60_000 });
    assert.equal(forks.length, 2);
    for (const fork of forks) {
      assert.ok(fork instanceof Sandbox, `a fork started: ${String(fork)}`);
      assert.notEqual(fork.sandboxId, source.sandboxId);
      assert.equal(await fork.files.read('/home/user/work/state.json'), '{"step":3}');
      assert.equal((await fork.commands.run('echo $GREETING')).stdout, 'hello\n', 'the env vars of the source');
      const info = await fork.getInfo();
      assert.deepEqual(info.metadata, { branch: 'main' });
      assert.equal(info.templateId, (await source.getInfo()).templateId, 'the template of the source');
      const left = info.endAt.getTime() - Date.now();
      assert.ok(left > 30_000 && left <= 61_000, `the fork's own timeout: ${left} ms left`);
      // Files only: the source's processes are not carried over.
      assert.equal((await fork.commands.run('ps -eo args | grep -c "[w]hile true" || true')).stdout.trim(), '0');
    }
    const [a, b] = forks as Sandbox[];
    await a.files.write('/home/user/work/state.json', 'a');
    assert.equal(await b.files.read('/home/user/work/state.json'), '{"step":3}', 'each fork has its own layer');
    assert.equal(await source.files.read('/home/user/work/state.json'), '{"step":3}');
    assert.equal((await source.getInfo()).state, 'running');
    const count = Number((await source.commands.run('cat /tmp/count')).stdout);
    await waitUntil('the source to run on', async () => Number((await source.commands.run('cat /tmp/count')).stdout) > count);

    // The moment the forks started from is no snapshot of the user's.
    assert.deepEqual(await Sandbox.listSnapshots(runtime.sdk).nextItems(), []);
    const byStatic = await Sandbox.fork(a.sandboxId, { ...runtime.sdk });
    assert.equal(byStatic.length, 1, 'count defaults to 1');
    const grandchild = byStatic[0] as Sandbox;
    assert.equal(await grandchild.files.read('/home/user/work/state.json'), 'a');
    const defaultLeft = (await grandchild.getInfo()).endAt.getTime() - Date.now();
    assert.ok(defaultLeft <= 15_000, `E2B's default fork lifetime is 15 s: ${defaultLeft} ms left`);

    await Promise.all([source, a, b, grandchild].map((s) => s.kill()));
    await waitUntil('the fork layers to go', () => layers().length === 0);
    assert.deepEqual(sandboxDirs(), []);
    assert.deepEqual(mountsUnder(runtime.dataDir), []);
    assert.deepEqual(crunContainers(runtime.dataDir), []);
  });

  it('keeps the volumes mounted and the network settings of the source', async () => {
    const volume = await Volume.create('fork-shared', runtime.sdk);
    const source = await Sandbox.create({
      ...runtime.sdk,
      timeoutMs: 120_000,
      volumeMounts: { '/mnt/shared': volume },
      network: { denyOut: ['10.0.0.0/8'], maskRequestHost: 'app.internal:${PORT}' },
    });
    await source.files.write('/mnt/shared/from-source', 'one');
    const [fork] = (await source.fork({ timeoutMs: 60_000 })) as Sandbox[];
    assert.equal(await fork.files.read('/mnt/shared/from-source'), 'one', 'the fork mounts the same volume');
    await fork.files.write('/mnt/shared/from-fork', 'two');
    assert.equal(await source.files.read('/mnt/shared/from-fork'), 'two', 'one volume, not a copy of it');
    const info = await fork.getInfo();
    assert.deepEqual(info.volumeMounts, [{ name: 'fork-shared', path: '/mnt/shared' }]);
    assert.deepEqual(info.network?.denyOut, ['10.0.0.0/8']);
    assert.equal(info.network?.maskRequestHost, 'app.internal:${PORT}');
    await Promise.all([source, fork].map((s) => s.kill()));
    await Volume.destroy(volume.volumeId, runtime.sdk);
  });

  it('refuses bad counts, killed, unknown and paused sandboxes, leaving nothing behind', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    await assert.rejects(
      sandbox.fork({ count: 0 }),
      (err: unknown) => err instanceof SandboxError && /400: Count must be at least 1/.test((err as Error).message),
    );
    await assert.rejects(
      sandbox.fork({ count: 101 }),
      (err: unknown) => err instanceof SandboxError && /400: Count cannot be greater than 100/.test((err as Error).message),
    );
    await assert.rejects(
      sandbox.fork({ count: 1.5 }),
      (err: unknown) => err instanceof SandboxError && /400: Count must be an integer/.test((err as Error).message),
    );
    await assert.rejects(Sandbox.fork('nosuchsandbox0000000', runtime.sdk), NotFoundError);

    await sandbox.pause();
    await assert.rejects(
      sandbox.fork(),
      (err: unknown) => err instanceof SandboxError && /409: .*paused and cannot be forked; resume it first/.test((err as Error).message),
    );
    await Sandbox.connect(sandbox.sandboxId, runtime.sdk);

    await sandbox.kill();
    await assert.rejects(sandbox.fork(), NotFoundError, 'a killed sandbox is not found');
    assert.deepEqual(sandboxDirs(), []);
    assert.deepEqual(layers(), []);
    assert.deepEqual(mountsUnder(runtime.dataDir), []);
    assert.deepEqual(crunContainers(runtime.dataDir), []);
  });
});

describe('fork with a warm pool', () => {
  let runtime: RuntimeProcess;
  before(async () => {
    runtime = await RuntimeProcess.start(['--warm-pool', 'base=1']);
    await runtime.waitForOutput('warm pool: 1 base sandbox(es) ready', 0);
  });
  after(async () => {
    await runtime?.dispose();
  });

  it('starts forks and sandboxes from snapshots fresh, leaving the pooled sandbox for plain creates', async () => {
    const mark = runtime.output.length;
    const source = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    await runtime.waitForOutput('warm pool: 1 base sandbox(es) ready', mark);
    const pooled = crunContainers(runtime.dataDir)
      .map((n) => n.replace(/^e2b-/, ''))
      .filter((id) => id !== source.sandboxId);
    assert.equal(pooled.length, 1);
    await source.files.write('/home/user/mine.txt', 'only in the source');

    const [fork] = await source.fork({ timeoutMs: 60_000 });
    assert.ok(fork instanceof Sandbox);
    assert.notEqual(fork.sandboxId, pooled[0], 'a fork is not the pooled sandbox');
    assert.equal(await fork.files.read('/home/user/mine.txt'), 'only in the source');
    const snapshot = await source.createSnapshot();
    const fromSnapshot = await Sandbox.create(snapshot.snapshotId, runtime.sdk);
    assert.equal(await fromSnapshot.files.read('/home/user/mine.txt'), 'only in the source');
    assert.ok(crunContainers(runtime.dataDir).includes(`e2b-${pooled[0]}`), 'the pooled sandbox is still there');

    const plain = await Sandbox.create(runtime.sdk);
    assert.equal(plain.sandboxId, pooled[0], 'a plain create still gets it');
    await Promise.all([source, fork, fromSnapshot, plain].map((s) => s.kill()));
    await Sandbox.deleteSnapshot(snapshot.snapshotId, runtime.sdk);
  });
});
