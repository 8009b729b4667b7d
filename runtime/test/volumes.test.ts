// Volumes through the official SDK: create/list/get/destroy, the content API's file operations,
// volumes mounted into sandboxes (several at once, outliving them and the runtime), E2B's errors,
// and that the content API (host root) never reaches outside a volume whatever a sandbox plants.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  AuthenticationError,
  Sandbox,
  SandboxError,
  Volume,
  VolumeError,
  VolumeFileType,
  VolumeNotFoundError,
  VolumePathNotFoundError,
} from 'e2b';
import { parseEnvFile, runtimeFiles } from '../src/contract/local-runtime-contract';
import { RuntimeProcess } from './helpers/runtime-process';
import { mountsUnder } from './helpers/host-traces';
import { waitUntil } from './helpers/wait';

/** The status code at the start of a VolumeError's message ("409: …"). */
const statusOf = (err: unknown) => Number(/^(\d{3}):/.exec((err as Error).message)?.[1]);

describe('volumes', () => {
  let runtime: RuntimeProcess;
  let names = 0;
  const uniqueName = () => `vol_${process.pid}-${++names}`;

  before(async () => {
    runtime = await RuntimeProcess.start(['--volume-size-mb', '64']);
    // What `source DATA_DIR/env` sets: the SDK finds the content API there.
    const volumeUrl = parseEnvFile(readFileSync(runtimeFiles(runtime.dataDir).env, 'utf8')).E2B_VOLUME_API_URL;
    assert.equal(volumeUrl, runtime.url, 'the env file points the SDK at the volume content API');
    process.env.E2B_VOLUME_API_URL = volumeUrl;
  });
  after(async () => {
    await runtime?.dispose();
  });

  it("creates, lists, gets, connects and destroys volumes, with E2B's errors", async () => {
    const name = uniqueName();
    const volume = await Volume.create(name, runtime.sdk);
    assert.match(volume.volumeId, /^[0-9a-f-]{36}$/);
    assert.equal(volume.name, name);
    assert.ok(volume.token && volume.token.length >= 32);

    const listed = await Volume.list(runtime.sdk);
    assert.deepEqual(
      listed.find((v) => v.volumeId === volume.volumeId),
      { volumeId: volume.volumeId, name },
    );
    const info = await Volume.getInfo(volume.volumeId, runtime.sdk);
    assert.equal(info.name, name);
    assert.equal(info.token, volume.token);
    const connected = await Volume.connect(volume.volumeId, runtime.sdk);
    assert.equal(connected.token, volume.token);

    await assert.rejects(
      Volume.create(name, runtime.sdk),
      (err) => err instanceof VolumeError && statusOf(err) === 400 && /already exists/.test(err.message),
    );
    const racing = uniqueName();
    const both = await Promise.allSettled([Volume.create(racing, runtime.sdk), Volume.create(racing, runtime.sdk)]);
    assert.equal(both.filter((r) => r.status === 'fulfilled').length, 1, 'two creates of one name: one wins');
    await Volume.destroy((both.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Volume>).value.volumeId, runtime.sdk);
    await assert.rejects(
      Volume.create('bad name!', runtime.sdk),
      (err) => err instanceof VolumeError && statusOf(err) === 400 && /Invalid volume name/.test(err.message),
    );
    await assert.rejects(Volume.create('', runtime.sdk), (err) => err instanceof VolumeError && statusOf(err) === 400);
    const unknown = '00000000-0000-4000-8000-000000000000';
    await assert.rejects(Volume.getInfo(unknown, runtime.sdk), VolumeNotFoundError);
    await assert.rejects(Volume.getInfo('not-a-uuid', runtime.sdk), (err) => err instanceof VolumeError && statusOf(err) === 400);
    assert.equal(await Volume.destroy(unknown, runtime.sdk), false);

    assert.equal(await Volume.destroy(volume.volumeId, runtime.sdk), true);
    await assert.rejects(Volume.getInfo(volume.volumeId, runtime.sdk), VolumeNotFoundError);
    assert.equal(await Volume.destroy(volume.volumeId, runtime.sdk), false);
    assert.ok(!(await Volume.list(runtime.sdk)).some((v) => v.volumeId === volume.volumeId));
    assert.ok(!existsSync(join(runtime.dataDir, 'volumes', volume.volumeId)), 'its files are gone from the host');
    assert.deepEqual(mountsUnder(join(runtime.dataDir, 'volumes', volume.volumeId)), []);
    // The name is free again.
    await Volume.destroy((await Volume.create(name, runtime.sdk)).volumeId, runtime.sdk);
  });

  it("reads, writes, lists, stats, chmods and removes files, with E2B's errors", async () => {
    const volume = await Volume.create(uniqueName(), runtime.sdk);
    try {
      assert.deepEqual(await volume.list('/'), [], 'a new volume is empty');
      const written = await volume.writeFile('/notes/today.txt', 'hello volume', { force: true });
      assert.equal(written.type, VolumeFileType.FILE);
      assert.equal(written.path, '/notes/today.txt');
      assert.equal(written.name, 'today.txt');
      assert.equal(written.size, 12);
      assert.equal(written.mode, 0o666);
      assert.ok(written.mtime instanceof Date && Math.abs(written.mtime.getTime() - Date.now()) < 60_000);
      assert.equal(await volume.readFile('notes/today.txt'), 'hello volume');
      const bytes = Uint8Array.from([0, 1, 2, 253, 254, 255]);
      await volume.writeFile('/bin.dat', bytes.buffer);
      assert.deepEqual(await volume.readFile('/bin.dat', { format: 'bytes' }), bytes);

      await assert.rejects(volume.writeFile('/bin.dat', 'again'), (err) => err instanceof VolumeError && statusOf(err) === 409);
      await volume.writeFile('/bin.dat', 'again', { force: true });
      assert.equal(await volume.readFile('/bin.dat'), 'again');
      await assert.rejects(volume.writeFile('/missing/parent.txt', 'x'), VolumePathNotFoundError);

      const dir = await volume.makeDir('/a/b/c', { force: true, mode: 0o750, uid: 1000, gid: 1000 });
      assert.equal(dir.type, VolumeFileType.DIRECTORY);
      assert.deepEqual([dir.mode, dir.uid, dir.gid], [0o750, 1000, 1000]);
      await assert.rejects(volume.makeDir('/a/b/c'), (err) => err instanceof VolumeError && statusOf(err) === 409);
      assert.equal((await volume.makeDir('/a/b/c', { force: true })).path, '/a/b/c', 'force accepts an existing dir');
      await assert.rejects(volume.makeDir('/x/y'), VolumePathNotFoundError);
      await assert.rejects(volume.makeDir('/bin.dat/sub', { force: true }), (err) => err instanceof VolumeError && statusOf(err) === 400);

      assert.deepEqual((await volume.list('/')).map((e) => e.path).sort(), ['/a', '/bin.dat', '/notes']);
      assert.deepEqual((await volume.list('/', { depth: 3 })).map((e) => e.path).sort(), [
        '/a',
        '/a/b',
        '/a/b/c',
        '/bin.dat',
        '/notes',
        '/notes/today.txt',
      ]);
      await assert.rejects(volume.list('/', { depth: 11 }), (err) => err instanceof VolumeError && statusOf(err) === 400);
      await assert.rejects(volume.list('/nowhere'), VolumePathNotFoundError);
      await assert.rejects(volume.list('/bin.dat'), (err) => err instanceof VolumeError && statusOf(err) === 400);

      assert.equal(await volume.exists('/notes/today.txt'), true);
      assert.equal(await volume.exists('/notes/tomorrow.txt'), false);
      assert.equal((await volume.getInfo('/notes')).type, VolumeFileType.DIRECTORY);
      await assert.rejects(volume.getInfo('/nope'), VolumePathNotFoundError);
      await assert.rejects(volume.readFile('/nope'), VolumePathNotFoundError);
      await assert.rejects(volume.readFile('/notes'), (err) => err instanceof VolumeError && statusOf(err) === 400);

      const updated = await volume.updateMetadata('/notes/today.txt', { mode: 0o600, uid: 1000, gid: 1000 });
      assert.deepEqual([updated.mode, updated.uid, updated.gid], [0o600, 1000, 1000]);
      await assert.rejects(volume.updateMetadata('/nope', { mode: 0o600 }), VolumePathNotFoundError);
      await assert.rejects(volume.updateMetadata('/notes', { uid: 70000 }), (err) => err instanceof VolumeError && statusOf(err) === 400);

      await volume.remove('/a');
      assert.equal(await volume.exists('/a/b/c'), false);
      await assert.rejects(volume.remove('/a'), VolumePathNotFoundError);
      await assert.rejects(volume.remove('/'), (err) => err instanceof VolumeError && statusOf(err) === 400);

      const forged = new Volume(volume.volumeId, volume.name, 'f'.repeat(64));
      await assert.rejects(forged.readFile('/bin.dat'), AuthenticationError);
    } finally {
      await Volume.destroy(volume.volumeId, runtime.sdk);
    }
  });

  it("mounts one volume in two sandboxes at once, which see each other's writes; it outlives them", async () => {
    const volume = await Volume.create(uniqueName(), runtime.sdk);
    const [a, b] = await Promise.all([
      Sandbox.create({ ...runtime.sdk, volumeMounts: { '/mnt/data': volume } }),
      Sandbox.create({ ...runtime.sdk, volumeMounts: { '/home/user/shared': volume.name } }),
    ]);
    try {
      const info = await Sandbox.getInfo(a.sandboxId, runtime.sdk);
      assert.deepEqual(info.volumeMounts, [{ name: volume.name, path: '/mnt/data' }]);
      const listed = (await Sandbox.list({ ...runtime.sdk }).nextItems()).find((s) => s.sandboxId === b.sandboxId);
      assert.deepEqual(listed?.volumeMounts, [{ name: volume.name, path: '/home/user/shared' }]);

      // The default user writes there, and the other sandbox (and the content API) sees it at once.
      await a.commands.run('echo from-a > /mnt/data/a.txt');
      assert.equal((await b.commands.run('cat /home/user/shared/a.txt')).stdout, 'from-a\n');
      assert.equal(await volume.readFile('/a.txt'), 'from-a\n');
      assert.equal((await volume.getInfo('/a.txt')).uid, 1000, 'owned by the sandbox user who wrote it');
      await volume.writeFile('/from-api.txt', 'from the API');
      assert.equal((await b.commands.run('cat /home/user/shared/from-api.txt && echo more >> /home/user/shared/from-api.txt')).exitCode, 0);
      assert.equal((await a.commands.run('cat /mnt/data/from-api.txt')).stdout, 'from the APImore\n');
      assert.match((await a.commands.run('grep " /mnt/data " /proc/mounts')).stdout, /nosuid/);
      // Programs kept on a volume run (setuid bits do not).
      assert.equal(
        (
          await b.commands.run(
            'printf "#!/bin/sh\\necho ran\\n" > /home/user/shared/run.sh && chmod +x /home/user/shared/run.sh && /home/user/shared/run.sh',
          )
        ).stdout,
        'ran\n',
      );
      await b.commands.run('cp /usr/bin/id /home/user/shared/suid-id && chmod 4755 /home/user/shared/suid-id', { user: 'root' });
      assert.equal(
        (await b.commands.run('/home/user/shared/suid-id -u')).stdout,
        '1000\n',
        'a setuid-root program on a volume runs as its caller',
      );

      // Mounted volumes cannot be destroyed (not even by a paused sandbox).
      await b.pause();
      await assert.rejects(
        Volume.destroy(volume.volumeId, runtime.sdk),
        (err) => err instanceof VolumeError && statusOf(err) === 409 && /in use/.test(err.message),
      );
      await a.kill();
      await assert.rejects(
        Volume.destroy(volume.volumeId, runtime.sdk),
        (err) => err instanceof VolumeError && statusOf(err) === 409 && err.message.includes(b.sandboxId),
      );
      await b.kill();

      // Outlives both; a new sandbox finds it all.
      assert.equal(await volume.readFile('/a.txt'), 'from-a\n');
      const c = await Sandbox.create({ ...runtime.sdk, volumeMounts: { '/data': volume } });
      assert.equal((await c.commands.run('cat /data/a.txt /data/from-api.txt')).stdout, 'from-a\nfrom the APImore\n');
      await c.kill();
    } finally {
      await Promise.all([a.kill().catch(() => undefined), b.kill().catch(() => undefined)]);
      assert.equal(await Volume.destroy(volume.volumeId, runtime.sdk), true);
    }
  });

  it('caps a volume at its size: a full volume says so, the host disk is untouched', async () => {
    const volume = await Volume.create(uniqueName(), runtime.sdk);
    const sandbox = await Sandbox.create({ ...runtime.sdk, volumeMounts: { '/mnt/data': volume } });
    try {
      await assert.rejects(
        volume.writeFile('/big.bin', new Uint8Array(80 * 1024 * 1024).buffer),
        (err) => err instanceof VolumeError && statusOf(err) === 507 && /full/.test(err.message),
      );
      const dd = await sandbox.commands.run('dd if=/dev/zero of=/mnt/data/fill bs=1M count=100', { user: 'root' }).catch((err) => err);
      assert.match(String(dd.stderr ?? dd), /No space left on device/);
      await volume.remove('/fill');
      await volume.remove('/big.bin').catch(() => undefined);
      await volume.writeFile('/small.txt', 'room again');
      assert.equal(await volume.readFile('/small.txt'), 'room again');
    } finally {
      await sandbox.kill();
      await Volume.destroy(volume.volumeId, runtime.sdk);
    }
  });

  it('ends the helper of an upload the client broke off', async () => {
    const volume = await Volume.create(uniqueName(), runtime.sdk);
    const helpers = () =>
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes('e2b-volume-io') && l.includes(volume.volumeId));
    try {
      const url = new URL(`/volumecontent/${volume.volumeId}/file?path=/broken.bin`, runtime.url);
      const upload = request(url, {
        method: 'PUT',
        headers: { authorization: `Bearer ${volume.token}`, 'content-type': 'application/octet-stream', 'content-length': 10_000_000 },
      });
      upload.on('error', () => undefined);
      upload.write(Buffer.alloc(64 * 1024, 1));
      await waitUntil("the upload's helper to run", () => helpers().length > 0);
      upload.destroy();
      await waitUntil('the helper to end', () => helpers().length === 0);
      assert.ok((await volume.list('/')).length <= 1, 'the runtime still answers');
    } finally {
      await Volume.destroy(volume.volumeId, runtime.sdk);
    }
  });

  it('leaves nothing behind when a volume cannot be made', async () => {
    // 20 TB: more than one file on this host's ext4 can be, so making the disk fails midway.
    const tooBig = await RuntimeProcess.start(['--volume-size-mb', '20000000', '--warm-pool', '0']);
    try {
      await assert.rejects(Volume.create(uniqueName(), tooBig.sdk), (err) => err instanceof VolumeError && statusOf(err) === 500);
      assert.deepEqual(readdirSync(join(tooBig.dataDir, 'volumes')), []);
      assert.deepEqual(mountsUnder(join(tooBig.dataDir, 'volumes')), []);
      assert.deepEqual(await Volume.list(tooBig.sdk), []);
    } finally {
      await tooBig.dispose();
    }
  });

  it('refuses bad volumeMounts at create and leaves nothing half-created', async () => {
    const volume = await Volume.create(uniqueName(), runtime.sdk);
    const sandboxDirs = () => readdirSync(join(runtime.dataDir, 'sandboxes')).sort();
    const before = sandboxDirs();
    const running = (await Sandbox.list({ ...runtime.sdk }).nextItems()).length;
    try {
      await assert.rejects(
        Sandbox.create({ ...runtime.sdk, volumeMounts: { '/mnt/x': 'no-such-volume' } }),
        (err) =>
          err instanceof SandboxError && /400: invalid mounts/.test(err.message) && /volume 'no-such-volume' not found/.test(err.message),
      );
      await assert.rejects(
        Sandbox.create({ ...runtime.sdk, volumeMounts: { 'relative/path': volume } }),
        (err) => err instanceof SandboxError && /must be absolute/.test(err.message),
      );
      await assert.rejects(
        Sandbox.create({ ...runtime.sdk, volumeMounts: { '/mnt/../etc': volume } }),
        (err) => err instanceof SandboxError && /'\.\.'/.test(err.message),
      );
      await assert.rejects(
        Sandbox.create({ ...runtime.sdk, volumeMounts: { '/run/e2b': volume } }),
        (err) => err instanceof SandboxError && /reserved/.test(err.message),
      );
      assert.deepEqual(sandboxDirs(), before);
      assert.equal((await Sandbox.list({ ...runtime.sdk }).nextItems()).length, running);
    } finally {
      await Volume.destroy(volume.volumeId, runtime.sdk);
    }
  });

  it('keeps volumes, their files and their mounts across a runtime restart', async () => {
    const volume = await Volume.create(uniqueName(), runtime.sdk);
    const sandbox = await Sandbox.create({ ...runtime.sdk, volumeMounts: { '/mnt/data': volume } });
    try {
      await volume.writeFile('/kept.txt', 'still here');
      await runtime.restart();
      assert.equal((await Volume.getInfo(volume.volumeId, runtime.sdk)).token, volume.token, 'the token still works');
      assert.equal(await volume.readFile('/kept.txt'), 'still here');
      const again = await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
      await again.commands.run('echo after-restart > /mnt/data/after.txt');
      assert.equal(await volume.readFile('/after.txt'), 'after-restart\n');
      await assert.rejects(Volume.destroy(volume.volumeId, runtime.sdk), (err) => err instanceof VolumeError && statusOf(err) === 409);
    } finally {
      await Sandbox.kill(sandbox.sandboxId, runtime.sdk);
    }
    // As after a host reboot: the runtime finds the volume's disk unmounted and mounts it again.
    await runtime.stop();
    const data = join(runtime.dataDir, 'volumes', volume.volumeId, 'data');
    execFileSync('umount', [data]);
    await runtime.launch();
    assert.equal(await volume.readFile('/kept.txt'), 'still here');
    assert.deepEqual(mountsUnder(data), [data]);
    await Volume.destroy(volume.volumeId, runtime.sdk);
  });

  it('never reads, writes, lists, chmods or removes outside the volume through links a sandbox plants', async () => {
    const volume = await Volume.create(uniqueName(), runtime.sdk);
    const sandbox = await Sandbox.create({ ...runtime.sdk, volumeMounts: { '/mnt/data': volume } });
    try {
      // Host paths the links point at, all of which exist on the host.
      const hostDir = runtime.dataDir;
      assert.ok(existsSync('/etc/hostname') && existsSync(join(hostDir, 'api-key')));
      const planted = await sandbox.commands.run(
        [
          'cd /mnt/data',
          'ln -s /etc etc-link',
          'ln -s / root-link',
          'ln -s ../../../../../../.. up-link',
          `ln -s ${hostDir}/api-key key-link`,
          `mkdir real && ln -s ${hostDir} real/data-link`,
        ].join(' && '),
        { user: 'root' },
      );
      assert.equal(planted.exitCode, 0);

      for (const path of [
        '/etc-link/hostname',
        '/root-link/etc/hostname',
        '/up-link/etc/hostname',
        '/key-link',
        `/root-link${hostDir}/api-key`,
        '/real/data-link/api-key',
      ]) {
        await assert.rejects(volume.readFile(path), VolumePathNotFoundError, `read ${path}`);
        await assert.rejects(volume.list(path), VolumePathNotFoundError, `list ${path}`);
      }
      // Names may hold any byte a sandbox likes.
      await sandbox.commands.run(`touch "/mnt/data/real/$(printf 'two\\nlines')" "/mnt/data/real/ü ñ.txt"`, { user: 'root' });
      assert.deepEqual((await volume.list('/real')).map((e) => e.name).sort(), ['data-link', 'two\nlines', 'ü ñ.txt']);
      await sandbox.commands.run('rm /mnt/data/real/two* /mnt/data/real/ü*', { user: 'root' });

      // Listing never descends through a link; a link reads as E2B reports it: resolved inside
      // the volume (its type and target), or "unknown" when nothing there is what it names.
      const listing = await volume.list('/', { depth: 10 });
      assert.deepEqual(listing.map((e) => e.path).sort(), ['/etc-link', '/key-link', '/real', '/real/data-link', '/root-link', '/up-link']);
      const entry = (path: string) => listing.find((e) => e.path === path);
      assert.deepEqual([entry('/etc-link')?.type, entry('/etc-link')?.target], [VolumeFileType.UNKNOWN, '/etc-link']);
      assert.deepEqual([entry('/root-link')?.type, entry('/root-link')?.target], [VolumeFileType.DIRECTORY, '/']);
      assert.deepEqual([entry('/up-link')?.type, entry('/up-link')?.target], [VolumeFileType.DIRECTORY, '/']);
      // The links resolve inside the volume: through root-link, / is the volume's root.
      assert.deepEqual((await volume.list('/root-link')).map((e) => e.name).sort(), [
        'etc-link',
        'key-link',
        'real',
        'root-link',
        'up-link',
      ]);

      const hostEtc = readdirSync('/etc');
      await assert.rejects(volume.writeFile('/etc-link/e2b-escape', 'x'), VolumePathNotFoundError);
      await assert.rejects(volume.writeFile('/etc-link/e2b-escape', 'x', { force: true }), VolumeError);
      await assert.rejects(volume.makeDir('/etc-link/e2b-escape-dir', { force: true }), VolumeError);
      await assert.rejects(volume.writeFile('/real/data-link/api-key', 'x', { force: true }), VolumeError);
      assert.deepEqual(readdirSync('/etc'), hostEtc, "nothing was created in the host's /etc");
      // Writing through a link to a dir that exists only on the host lands in the volume, if at all.
      await volume.writeFile('/root-link/inside.txt', 'in the volume');
      assert.equal((await sandbox.commands.run('cat /mnt/data/inside.txt')).stdout, 'in the volume');
      assert.ok(!existsSync('/inside.txt'));

      const rootMode = statSync('/').mode;
      const keyMode = statSync(join(hostDir, 'api-key')).mode;
      await volume.updateMetadata('/root-link', { mode: 0o700 });
      await assert.rejects(volume.updateMetadata('/key-link', { mode: 0o777 }), VolumePathNotFoundError);
      assert.equal(statSync('/').mode, rootMode);
      assert.equal(statSync(join(hostDir, 'api-key')).mode, keyMode);
      await volume.updateMetadata('/', { mode: 0o777 });

      // Removing a link removes the link, never what it points at.
      await volume.remove('/etc-link');
      await volume.remove('/real');
      assert.ok(existsSync('/etc/hostname') && existsSync(join(hostDir, 'api-key')));
      await assert.rejects(volume.remove('/up-link/etc'), VolumePathNotFoundError);
      assert.ok(existsSync('/etc/hostname'));

      // A dir swapped for a link and back, as fast as the sandbox can, while the API reads through it.
      await sandbox.commands.run('mkdir -p /mnt/data/swap && echo volume-side > /mnt/data/swap/hostname', { user: 'root' });
      const swapper = await sandbox.commands.run(
        'cd /mnt/data; while true; do mv swap swap.d; ln -s /etc swap; rm swap; mv swap.d swap; done',
        { user: 'root', background: true },
      );
      const hostHostname = readFileSync('/etc/hostname', 'utf8');
      for (let i = 0; i < 60; i++) {
        const seen = await volume
          .readFile('/swap/hostname')
          .catch((err) => (err instanceof VolumePathNotFoundError ? null : Promise.reject(err)));
        assert.ok(
          seen === null || seen === 'volume-side\n',
          `read ${i}: ${JSON.stringify(seen)} ${seen === hostHostname ? "(the host's file!)" : ''}`,
        );
      }
      await swapper.kill();
    } finally {
      await sandbox.kill();
      await Volume.destroy(volume.volumeId, runtime.sdk);
    }
  });
});
