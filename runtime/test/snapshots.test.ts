// Snapshots of a sandbox's files through the official SDK: createSnapshot while it runs,
// listSnapshots (all, per sandbox, by name, paged), Sandbox.create(<snapshot>) several at once,
// deleteSnapshot (also while sandboxes use it), bad input, and nothing left on the host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, SandboxError, SandboxNotFoundError } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { crunContainers, mountsUnder } from './helpers/host-traces';
import { waitUntil } from './helpers/wait';

async function allSnapshots(opts: Parameters<typeof Sandbox.listSnapshots>[0]) {
  const paginator = Sandbox.listSnapshots(opts);
  const out = [];
  while (paginator.hasNext) out.push(...(await paginator.nextItems()));
  return out;
}

describe('snapshots', () => {
  let runtime: RuntimeProcess;
  // No warm pool: its ready sandboxes would count as leftovers in the checks below.
  before(async () => {
    runtime = await RuntimeProcess.start(['--warm-pool', '0']);
  });
  after(async () => {
    await runtime?.dispose();
  });

  const layersDir = () => join(runtime.dataDir, 'snapshots', 'layers');

  it('copies the files of a running sandbox, which keeps running, and starts several sandboxes from it', async () => {
    const source = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000, metadata: { role: 'source' } });
    await source.files.write('/home/user/project/notes.txt', 'first draft');
    await source.commands.run(
      [
        'ln -s notes.txt /home/user/project/link',
        'chmod 640 /home/user/project/notes.txt',
        'rm /etc/motd',
        // A directory replaced by a new one of the same name: the overlay marks it opaque.
        'rm -rf /usr/share/doc && mkdir -p /usr/share/doc && echo fresh > /usr/share/doc/only',
      ].join(' && '),
      { user: 'root' },
    );
    await source.commands.run('i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done', { background: true });
    const endBefore = (await source.getInfo()).endAt.getTime();

    const snapshot = await source.createSnapshot({ name: 'draft-1' });
    assert.equal(snapshot.snapshotId, 'draft-1:default');
    assert.deepEqual(snapshot.names, ['draft-1']);
    const info = await source.getInfo();
    assert.equal(info.state, 'running', 'the sandbox runs on after its snapshot');
    assert.equal(info.endAt.getTime(), endBefore, 'its timeout is untouched');
    const count = Number((await source.commands.run('cat /tmp/count')).stdout);
    await waitUntil('its processes to go on', async () => Number((await source.commands.run('cat /tmp/count')).stdout) > count);

    // Changes after the snapshot stay out of it.
    await source.files.write('/home/user/project/notes.txt', 'second draft');

    const started = await Promise.all(
      [snapshot.snapshotId, 'draft-1', 'draft-1'].map((ref) => Sandbox.create(ref, { ...runtime.sdk, timeoutMs: 120_000 })),
    );
    for (const sandbox of started) {
      assert.equal(await sandbox.files.read('/home/user/project/notes.txt'), 'first draft');
      const facts = await sandbox.commands.run(
        'readlink /home/user/project/link; stat -c "%a %U" /home/user/project/notes.txt; test -e /etc/motd && echo motd || echo no-motd; ls /usr/share/doc',
        { user: 'root' },
      );
      assert.equal(facts.stdout, 'notes.txt\n640 user\nno-motd\nonly\n');
      const detail = await sandbox.getInfo();
      assert.equal(detail.name, 'draft-1', 'a sandbox from a snapshot names it as its template');
    }
    // Each has a layer of its own on top of the snapshot.
    await started[0].files.write('/home/user/project/notes.txt', 'mine');
    assert.equal(await started[1].files.read('/home/user/project/notes.txt'), 'first draft');
    assert.equal(await source.files.read('/home/user/project/notes.txt'), 'second draft');
    // A sandbox from a snapshot is a new sandbox: its template's start, the caller's settings.
    assert.notDeepEqual((await started[0].getInfo()).metadata, { role: 'source' });

    // Deleting the snapshot does not pull the files from under the sandboxes using it.
    assert.equal(await Sandbox.deleteSnapshot(snapshot.snapshotId, runtime.sdk), true);
    assert.equal(await Sandbox.deleteSnapshot(snapshot.snapshotId, runtime.sdk), false, 'a second delete finds nothing');
    assert.equal(await started[1].files.read('/home/user/project/notes.txt'), 'first draft');
    assert.equal((await started[2].commands.run('cat /usr/share/doc/only')).stdout, 'fresh\n');
    await assert.rejects(
      Sandbox.create('draft-1', runtime.sdk),
      (err: unknown) => err instanceof SandboxError && /404/.test((err as Error).message),
    );
    assert.equal(readdirSync(layersDir()).length, 1, 'its layer stays while sandboxes use it');

    await Promise.all([source, ...started].map((s) => s.kill()));
    await waitUntil('the unused layer to go', () => readdirSync(layersDir()).length === 0);
    assert.deepEqual(mountsUnder(runtime.dataDir), []);
    assert.deepEqual(crunContainers(runtime.dataDir), []);
  });

  it('lists snapshots: all, per sandbox, by name (with a tag), in pages', async () => {
    const [a, b] = await Promise.all([0, 1].map(() => Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 })));
    const unnamed = await a.createSnapshot();
    assert.match(unnamed.snapshotId, /^[a-z0-9]{20}:default$/);
    assert.deepEqual(unnamed.names, []);
    const fromA = await Sandbox.createSnapshot(a.sandboxId, { ...runtime.sdk, name: 'from-a:v1' });
    assert.equal(fromA.snapshotId, 'from-a:v1');
    const fromB = await b.createSnapshot({ name: 'from-b' });

    const ids = (list: { snapshotId: string }[]) => list.map((s) => s.snapshotId).sort();
    assert.deepEqual(ids(await allSnapshots(runtime.sdk)), ids([unnamed, fromA, fromB]));
    assert.deepEqual(ids(await a.listSnapshots().nextItems()), ids([unnamed, fromA]));
    assert.deepEqual(ids(await allSnapshots({ ...runtime.sdk, sandboxId: b.sandboxId })), ['from-b:default']);
    assert.deepEqual(ids(await allSnapshots({ ...runtime.sdk, name: 'from-a' })), ['from-a:v1']);
    assert.deepEqual(ids(await allSnapshots({ ...runtime.sdk, name: 'from-a:v1' })), ['from-a:v1']);
    assert.deepEqual(await allSnapshots({ ...runtime.sdk, name: 'from-a:v2' }), []);
    assert.deepEqual(await allSnapshots({ ...runtime.sdk, name: 'nothing-here' }), []);

    const paginator = Sandbox.listSnapshots({ ...runtime.sdk, limit: 2 });
    const first = await paginator.nextItems();
    assert.equal(first.length, 2);
    assert.ok(paginator.hasNext, 'X-Next-Token says there is more');
    const second = await paginator.nextItems();
    assert.equal(second.length, 1);
    assert.ok(!paginator.hasNext);
    assert.deepEqual(ids([...first, ...second]), ids([unnamed, fromA, fromB]));

    // A name is like a branch: a new snapshot under it moves it, the sandbox of origin with it.
    await b.files.write('/home/user/which.txt', 'newer');
    const moved = await b.createSnapshot({ name: 'from-a:v1' });
    assert.equal(moved.snapshotId, 'from-a:v1');
    assert.deepEqual(ids(await allSnapshots({ ...runtime.sdk, name: 'from-a' })), ['from-a:v1']);
    const fromMoved = await Sandbox.create('from-a:v1', runtime.sdk);
    assert.equal(await fromMoved.files.read('/home/user/which.txt'), 'newer');

    for (const s of [unnamed, fromA, fromB]) await Sandbox.deleteSnapshot(s.snapshotId, runtime.sdk);
    assert.deepEqual(await allSnapshots(runtime.sdk), []);
    await Promise.all([a, b, fromMoved].map((s) => s.kill()));
  });

  it('snapshots a sandbox started from a snapshot, whatever happens to the first one', async () => {
    const first = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    await first.files.write('/home/user/a.txt', 'a');
    const one = await first.createSnapshot({ name: 'one' });
    const second = await Sandbox.create(one.snapshotId, runtime.sdk);
    await second.files.write('/home/user/b.txt', 'b');
    const two = await second.createSnapshot({ name: 'two' });
    await Promise.all([first.kill(), second.kill()]);
    await Sandbox.deleteSnapshot(one.snapshotId, runtime.sdk);

    const third = await Sandbox.create('two', runtime.sdk);
    assert.equal((await third.commands.run('cat /home/user/a.txt /home/user/b.txt')).stdout, 'ab');
    await third.kill();
    await Sandbox.deleteSnapshot(two.snapshotId, runtime.sdk);
    await waitUntil('both layers to go', () => readdirSync(layersDir()).length === 0);
  });

  it('keeps snapshots across a runtime restart', async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.files.write('/home/user/kept.txt', 'across');
    const snapshot = await sandbox.createSnapshot({ name: 'kept' });
    await sandbox.kill();
    await runtime.restart();
    assert.deepEqual(
      (await allSnapshots(runtime.sdk)).map((s) => s.snapshotId),
      ['kept:default'],
    );
    const again = await Sandbox.create(snapshot.snapshotId, runtime.sdk);
    assert.equal(await again.files.read('/home/user/kept.txt'), 'across');
    await again.kill();
    assert.equal(await Sandbox.deleteSnapshot('kept', runtime.sdk), true, 'by name');
  });

  it('recovers from a runtime that died mid-snapshot: the sandbox thawed, the partial copy gone', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    await sandbox.files.write('/home/user/alive.txt', 'yes');
    // What a crash during the copy leaves: the container frozen, a half-copied layer.
    execFileSync('crun', ['--root', join(runtime.dataDir, 'crun'), 'pause', `e2b-${sandbox.sandboxId}`]);
    mkdirSync(join(layersDir(), 'crashed-copy.partial', 'home'), { recursive: true });
    await runtime.crash();
    await runtime.launch();
    assert.equal((await sandbox.getInfo()).state, 'running');
    assert.equal(await sandbox.files.read('/home/user/alive.txt'), 'yes');
    assert.deepEqual(readdirSync(layersDir()), []);
    await sandbox.kill();
  });

  it('answers bad input as E2B does, and a failed snapshot leaves nothing behind', async () => {
    await assert.rejects(Sandbox.createSnapshot('nosuchsandbox0000000', runtime.sdk), SandboxNotFoundError);
    await assert.rejects(
      Sandbox.create('nosuchsnapshot:default', runtime.sdk),
      (err: unknown) => err instanceof SandboxError && /404/.test((err as Error).message),
    );
    assert.equal(await Sandbox.deleteSnapshot('nosuchsnapshot', runtime.sdk), false);

    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    await assert.rejects(
      sandbox.createSnapshot({ name: 'Bad Name!' }),
      (err: unknown) => err instanceof SandboxError && /400: Invalid name/.test((err as Error).message),
    );
    await assert.rejects(
      sandbox.createSnapshot({ name: 'base' }),
      (err: unknown) => err instanceof SandboxError && /409: 'base' is already the name of a template/.test((err as Error).message),
    );
    await assert.rejects(
      allSnapshots({ ...runtime.sdk, name: 'no/such/thing:*' }),
      (err: unknown) => err instanceof SandboxError && /400/.test((err as Error).message),
    );

    await sandbox.pause();
    await assert.rejects(
      Sandbox.createSnapshot(sandbox.sandboxId, runtime.sdk),
      (err: unknown) => err instanceof SandboxError && /409: .*paused.*resume it first/.test((err as Error).message),
    );
    await Sandbox.connect(sandbox.sandboxId, runtime.sdk);

    // The copy fails (the layers dir refuses new entries, even to root): the sandbox runs on,
    // thawed, and no partial layer or snapshot is left.
    mkdirSync(layersDir(), { recursive: true });
    execFileSync('chattr', ['+i', layersDir()]);
    try {
      await assert.rejects(
        sandbox.createSnapshot({ name: 'fails' }),
        (err: unknown) => err instanceof SandboxError && /500/.test((err as Error).message),
      );
    } finally {
      execFileSync('chattr', ['-i', layersDir()]);
    }
    assert.equal((await sandbox.getInfo()).state, 'running');
    assert.equal((await sandbox.commands.run('echo alive')).stdout, 'alive\n');
    assert.deepEqual(readdirSync(layersDir()), []);
    assert.deepEqual(await allSnapshots(runtime.sdk), []);
    await sandbox.kill();
    assert.ok(!existsSync(join(runtime.dataDir, 'sandboxes', sandbox.sandboxId)));
  });
});
