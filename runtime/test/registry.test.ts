// Templates from registry images, with the official SDK against loopback registries (Debian's
// docker-registry) that the test starts and fills with images made from this machine's own files:
// the image's userland in the sandbox, an index picking this platform, zstd layers and
// whiteouts, Basic and token auth, clear failures that leave nothing half-written in the cache,
// blobs shared between templates, and crafted layers that try to escape the image root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { BuildError, Sandbox, Template } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { freePort, gzipLayer, Layer, sha256, TestRegistry, TokenAuthProxy, userlandItems, zstdLayer } from './helpers/registry';

// bcrypt of "s3cret" (htpasswd's format), made once with Python's crypt module.
const HTPASSWD_LINE = 'tester:$2b$12$2s03c1.7AWNgtg2zSubApOMjQGEfftRqrfy7TkcZL1x8S6lKU.q2u';

interface LogEntry {
  level: string;
  message: string;
}

/** Every file under the runtime's registry cache, relative to it. */
function cacheFiles(runtime: RuntimeProcess): string[] {
  const root = join(runtime.dataDir, 'registry');
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (rel.startsWith('images/') && rel.split('/').length > 2) continue;
      out.push(`${rel}${name}`);
      if (statSync(path).isDirectory()) walk(path, `${rel}${name}/`);
    }
  };
  if (existsSync(root)) walk(root, '');
  return out;
}

function halfWritten(runtime: RuntimeProcess): string[] {
  return cacheFiles(runtime).filter((f) => /\.tmp-/.test(f));
}

describe('templates from registry images', () => {
  let runtime: RuntimeProcess;
  let registry: TestRegistry;
  let locked: TestRegistry;
  let tokenProxy: TokenAuthProxy;
  let userland: Layer;
  let app: Layer;
  const hostDir = mkdtempSync(join(tmpdir(), 'e2b-reg-host-'));

  const build = async (template: Parameters<typeof Template.build>[0], name: string) => {
    const logs: LogEntry[] = [];
    await Template.build(template, name, { ...runtime.sdk, onBuildLogs: (e) => logs.push({ level: e.level, message: e.message }) });
    return logs;
  };

  before(async () => {
    registry = await TestRegistry.start();
    locked = await TestRegistry.start({ username: 'tester', password: 's3cret', line: HTPASSWD_LINE });
    tokenProxy = await TokenAuthProxy.start(registry.port, { username: 'robot', password: 'token-pass' });
    userland = gzipLayer(userlandItems());
    app = gzipLayer([
      { path: 'app/', type: 'dir' },
      { path: 'app/only-in-image.txt', content: 'from the registry image\n' },
      { path: 'app/remove-me.txt', content: 'hidden by a whiteout\n' },
      { path: 'app/dir/', type: 'dir' },
      { path: 'app/dir/old.txt', content: 'hidden by an opaque dir\n' },
    ]);
    // test/app:1 is an index: an arm64 image (which must not be chosen) and the amd64 one.
    const arm = await registry.pushImage('test/app', undefined, [userland, gzipLayer([{ path: 'platform.txt', content: 'arm64\n' }])], {
      architecture: 'arm64',
    });
    const amd = await registry.pushImage(
      'test/app',
      undefined,
      [userland, app, gzipLayer([{ path: 'platform.txt', content: 'amd64\n' }])],
      { env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'IMAGE_GREETING=hello from the image config'] },
    );
    await registry.pushIndex('test/app', '1', [
      { ...arm, architecture: 'arm64' },
      { ...amd, architecture: 'amd64' },
    ]);
    await registry.pushIndex('test/app', 'arm-only', [{ ...arm, architecture: 'arm64' }]);
    // test/app:2 adds a zstd layer with whiteouts over the same first layers.
    await registry.pushImage('test/app', '2', [
      userland,
      app,
      zstdLayer([
        { path: 'app/.wh.remove-me.txt' },
        { path: 'app/dir/.wh..wh..opq' },
        { path: 'app/dir/new.txt', content: 'new in the zstd layer\n' },
        { path: 'app/zstd.txt', content: 'unpacked with zstd\n' },
      ]),
    ]);
    // test/private:1, behind Basic auth, is a Docker v2 manifest list over a Docker v2 manifest.
    const privateImage = await locked.pushImage(
      'test/private',
      undefined,
      [userland, gzipLayer([{ path: 'secret.txt', content: 'behind basic auth\n' }])],
      { docker: true },
    );
    await locked.pushIndex('test/private', '1', [{ ...privateImage, architecture: 'amd64' }], { docker: true });
    await registry.pushImage('test/app', 'arm-manifest', [userland], { architecture: 'arm64' });
    runtime = await RuntimeProcess.start(['--warm-pool', '0']);
  });

  after(async () => {
    await runtime?.stop();
    await tokenProxy?.stop();
    await registry?.stop();
    await locked?.stop();
    if (runtime) rmSync(runtime.dataDir, { recursive: true, force: true });
    rmSync(hostDir, { recursive: true, force: true });
  });

  it("builds fromImage on a loopback registry: the index's amd64 image, a RUN step, a start command, the image's userland", async () => {
    const image = `${registry.host}/test/app:1`;
    const template = Template()
      .fromImage(image)
      .runCmd('echo built by RUN as $(id -un) > /home/user/built.txt')
      .setStartCmd('echo started > /tmp/started; sleep 3600', 'test -f /tmp/started');
    const logs = await build(template, 'reg-app');
    assert.ok(
      logs.some((l) => /layer 1\/3 .*downloaded/.test(l.message)),
      `the pull's progress is in the build log: ${logs.map((l) => l.message).join('\n')}`,
    );
    assert.ok(
      logs.some((l) => /3 layer\(s\), [\d.]+ [KM]B/.test(l.message)),
      'the layer count and size are logged',
    );
    const sandbox = await Sandbox.create('reg-app', runtime.sdk);
    try {
      const run = async (cmd: string) => (await sandbox.commands.run(cmd)).stdout.trim();
      assert.match(await run('cat /etc/os-release'), /^ID=e2btest$/m, "the image's own os-release");
      assert.equal(await run('cat /app/only-in-image.txt'), 'from the registry image');
      assert.equal(await run('cat /platform.txt'), 'amd64', 'the amd64 manifest of the index');
      assert.equal(await run('test -e /usr/bin/python3 && echo base || echo not-base'), 'not-base', 'not the local Debian base');
      assert.equal(await run('cat /home/user/built.txt'), 'built by RUN as user');
      assert.equal(await run('cat /tmp/started'), 'started', 'the start command ran');
      assert.equal(await run('id -un; pwd'), 'user\n/home/user');
      assert.equal(await run('echo $IMAGE_GREETING'), 'hello from the image config', "the image config's ENV");
    } finally {
      await sandbox.kill();
    }
  });

  it('pulls the FROM image of a Dockerfile, and fromTemplate chains keep the image underneath', async () => {
    const dockerfile = `FROM ${registry.host}/test/app:1\nENV STAGE=docker\nRUN echo "$STAGE step as $(id -un)" > /dockerfile.txt\n`;
    await build(Template().fromDockerfile(dockerfile), 'reg-dockerfile');
    await build(Template().fromTemplate('reg-dockerfile').runCmd('echo child > /home/user/child.txt'), 'reg-child');
    const sandbox = await Sandbox.create('reg-child', runtime.sdk);
    try {
      const run = async (cmd: string) => (await sandbox.commands.run(cmd)).stdout.trim();
      assert.equal(await run('cat /dockerfile.txt'), 'docker step as root', 'the Dockerfile RUN ran on the pulled image');
      assert.equal(await run('cat /home/user/child.txt'), 'child');
      assert.match(await run('cat /etc/os-release'), /^ID=e2btest$/m);
      assert.equal(await run('echo $STAGE'), 'docker');
    } finally {
      await sandbox.kill();
    }
  });

  it('applies zstd layers and whiteouts, and shares the cached blobs between templates', async () => {
    const blobsBefore = readdirSync(join(runtime.dataDir, 'registry', 'blobs', 'sha256'));
    const logs = await build(Template().fromImage(`${registry.host}/test/app:2`), 'reg-zstd');
    assert.ok(
      logs.some((l) => /layer 1\/3 .*cached/.test(l.message)) && logs.some((l) => /layer 2\/3 .*cached/.test(l.message)),
      'the shared layers come from the cache',
    );
    assert.ok(
      logs.some((l) => /layer 3\/3 .*downloaded/.test(l.message)),
      'only the new layer is downloaded',
    );
    const blobsAfter = readdirSync(join(runtime.dataDir, 'registry', 'blobs', 'sha256'));
    assert.equal(blobsAfter.length, blobsBefore.length + 2, 'only the new config and the zstd layer were added');
    const sandbox = await Sandbox.create('reg-zstd', runtime.sdk);
    try {
      const run = async (cmd: string) => (await sandbox.commands.run(cmd)).stdout.trim();
      assert.equal(await run('cat /app/zstd.txt'), 'unpacked with zstd');
      assert.equal(await run('ls /app/dir'), 'new.txt', "the opaque whiteout hid the earlier layer's files");
      assert.equal(await run('test -e /app/remove-me.txt && echo present || echo gone'), 'gone');
      assert.equal(await run('cat /app/only-in-image.txt'), 'from the registry image', 'files not whited out stay');
    } finally {
      await sandbox.kill();
    }
    // The same image again: nothing downloaded, the unpacked root shared.
    const again = await build(Template().fromImage(`${registry.host}/test/app:1`).runCmd('echo other > /tmp/x'), 'reg-app-twice');
    assert.ok(
      again.some((l) => /already unpacked \(cached\)/.test(l.message)),
      'the second template reuses the unpacked image',
    );
    assert.ok(!again.some((l) => /downloaded/.test(l.message)));

    // Two templates from a new image at once: one download of its new layer, one unpacked root.
    await registry.pushImage('test/app', '3', [userland, app, gzipLayer([{ path: 'app/three.txt', content: 'three\n' }])]);
    const imagesBefore = readdirSync(join(runtime.dataDir, 'registry', 'images')).length;
    const both = await Promise.all(
      ['reg-three-a', 'reg-three-b'].map((name) => build(Template().fromImage(`${registry.host}/test/app:3`), name)),
    );
    assert.equal(both.flat().filter((l) => /layer 3\/3 .*downloaded/.test(l.message)).length, 1, 'the shared layer is downloaded once');
    assert.equal(readdirSync(join(runtime.dataDir, 'registry', 'images')).length, imagesBefore + 1, 'and unpacked once');
    assert.deepEqual(halfWritten(runtime), []);
  });

  it('pulls with Basic auth (Docker v2 media types) and with the token flow; wrong or missing credentials fail clearly', async () => {
    await build(Template().fromImage(`${locked.host}/test/private:1`, { username: 'tester', password: 's3cret' }), 'reg-basic');
    const sandbox = await Sandbox.create('reg-basic', runtime.sdk);
    try {
      assert.equal((await sandbox.commands.run('cat /secret.txt')).stdout.trim(), 'behind basic auth');
    } finally {
      await sandbox.kill();
    }
    await assert.rejects(
      build(Template().fromImage(`${locked.host}/test/private:1`, { username: 'tester', password: 'wrong' }), 'reg-basic-wrong'),
      (err: Error) => err instanceof BuildError && /unauthorized: .* refused the username and password/.test(err.message),
    );
    await assert.rejects(
      build(Template().fromImage(`${locked.host}/test/private:1`), 'reg-basic-none'),
      (err: Error) => err instanceof BuildError && /pull access denied .* needs credentials/.test(err.message),
    );

    const viaToken = `127.0.0.1:${tokenProxy.port}/test/app:2`;
    await build(Template().fromImage(viaToken, { username: 'robot', password: 'token-pass' }), 'reg-token');
    assert.ok(tokenProxy.tokensIssued.length > 0, 'a token was asked for with the credentials');
    await assert.rejects(
      build(Template().fromImage(viaToken, { username: 'robot', password: 'nope' }), 'reg-token-wrong'),
      (err: Error) => err instanceof BuildError && /unauthorized/.test(err.message),
    );
    // A token service named over plain http off this machine is refused before it is contacted
    // (198.18.0.0/15 is reserved for tests; nothing is sent there).
    const cleartext = await TokenAuthProxy.start(registry.port, { username: 'robot', password: 'token-pass' }, 'http://198.18.0.1/token');
    try {
      await assert.rejects(
        build(
          Template().fromImage(`127.0.0.1:${cleartext.port}/test/app:2`, { username: 'robot', password: 'token-pass' }),
          'reg-token-http',
        ),
        (err: Error) =>
          err instanceof BuildError && /token service http:\/\/198\.18\.0\.1\/token, which is not https: refused/.test(err.message),
      );
    } finally {
      await cleartext.stop();
    }
    assert.deepEqual(halfWritten(runtime), []);
  });

  it('fails clearly on an unreachable registry, an unknown tag or a missing platform, leaving nothing half-written', async () => {
    const closed = await freePort();
    const imagesBefore = readdirSync(join(runtime.dataDir, 'registry', 'images'));
    const cases: [string, RegExp][] = [
      [`127.0.0.1:${closed}/test/app:1`, /cannot reach the registry 127\.0\.0\.1:\d+ .*connection refused/],
      [`${registry.host}/test/app:no-such-tag`, /not found: .* has no manifest 'no-such-tag'/],
      [`${registry.host}/test/nothing:1`, /not found/],
      [`${registry.host}/test/app:arm-only`, /has no linux\/amd64 variant \(it has: linux\/arm64\)/],
      [`${registry.host}/test/app:arm-manifest`, /is for linux\/arm64, not this machine's linux\/amd64/],
    ];
    for (const [image, expected] of cases) {
      await assert.rejects(build(Template().fromImage(image), 'reg-fails'), (err: Error) => {
        assert.ok(err instanceof BuildError, String(err));
        assert.match(err.message, expected);
        return true;
      });
    }
    const aliases = await fetch(`${runtime.url}/templates/aliases/reg-fails`, { headers: { 'X-API-KEY': runtime.apiKey } });
    assert.equal(aliases.status, 404, 'a failed pull makes no template');
    assert.deepEqual(readdirSync(join(runtime.dataDir, 'registry', 'images')), imagesBefore, 'no image was added');
    assert.deepEqual(halfWritten(runtime), []);
    // What a crash in the middle of a pull leaves is removed when the runtime starts again.
    mkdirSync(join(runtime.dataDir, 'registry', 'images', '.0123abcd.tmp-deadbeef', 'rootfs'), { recursive: true });
    writeFileSync(join(runtime.dataDir, 'registry', 'blobs', 'sha256', `${'0'.repeat(64)}.tmp-deadbeef`), 'partial');
    await runtime.stop();
    await runtime.launch();
    assert.deepEqual(halfWritten(runtime), []);
  });

  it('builds from a digest-pinned image again without asking its registry (which may be gone)', async () => {
    const own = await TestRegistry.start();
    let image: string;
    try {
      const pushed = await own.pushImage('pin/app', '1', [userland, gzipLayer([{ path: 'pinned.txt', content: 'pinned\n' }])]);
      image = `${own.host}/pin/app@${pushed.digest}`;
      await build(Template().fromImage(image), 'reg-pinned');
    } finally {
      await own.stop();
    }
    const logs = await build(Template().fromImage(image).runCmd('cat /pinned.txt'), 'reg-pinned-again');
    assert.ok(logs.some((l) => /pinned by digest and already unpacked \(cached\): the registry is not asked/.test(l.message)));
    assert.ok(
      logs.some((l) => l.message === 'pinned'),
      'the RUN step ran on the pinned image',
    );
  });

  it('builds on the local base only when the runtime was started with --offline-fallback, and says so', async () => {
    const closed = await freePort();
    const offline = await RuntimeProcess.start(['--warm-pool', '0', '--offline-fallback']);
    try {
      const logs: LogEntry[] = [];
      await Template.build(Template().fromImage(`127.0.0.1:${closed}/test/app:1`), 'reg-offline', {
        ...offline.sdk,
        onBuildLogs: (e) => logs.push({ level: e.level, message: e.message }),
      });
      assert.ok(
        logs.some(
          (l) =>
            l.level === 'warn' &&
            /cannot reach the registry .* building on the local Debian image 'base' instead, as the runtime's --offline-fallback asks/.test(
              l.message,
            ),
        ),
        'the build log says what was substituted',
      );
      const sandbox = await Sandbox.create('reg-offline', offline.sdk);
      try {
        assert.equal((await sandbox.commands.run('test -x /usr/bin/python3 && echo base')).stdout.trim(), 'base');
      } finally {
        await sandbox.kill();
      }
      // Only an unreachable registry falls back: a registry that answers "no such tag" still fails the build.
      await assert.rejects(
        Template.build(Template().fromImage(`${registry.host}/test/app:no-such-tag`), 'reg-offline-tag', offline.sdk),
        (err: Error) => err instanceof BuildError && /not found/.test(err.message),
      );
    } finally {
      await offline.stop();
      rmSync(offline.dataDir, { recursive: true, force: true });
    }
  });

  it('stops a pull under way when the runtime stops, leaving no partial blob', async () => {
    // A registry that serves a manifest and config, then trickles one byte of a large layer and stalls.
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layerDigest = `sha256:${'e'.repeat(64)}`;
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: 100 * 1024 * 1024 }],
    });
    let stalled: (() => void) | undefined;
    const blobAsked = new Promise<void>((resolve) => {
      stalled = resolve;
    });
    const server = createServer((req, res) => {
      if (req.url === '/v2/slow/app/manifests/1')
        return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest);
      if (req.url === `/v2/slow/app/blobs/${sha256(config)}`) return void res.writeHead(200).end(config);
      if (req.url === `/v2/slow/app/blobs/${layerDigest}`) {
        res.writeHead(200, { 'content-length': String(100 * 1024 * 1024) });
        res.write(Buffer.alloc(1));
        stalled!();
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    try {
      const building = Template.build(
        Template().fromImage(`127.0.0.1:${(server.address() as AddressInfo).port}/slow/app:1`),
        'reg-slow',
        runtime.sdk,
      ).catch((err: Error) => err);
      await blobAsked;
      await runtime.stop();
      assert.ok((await building) instanceof Error, 'the build did not finish');
      assert.deepEqual(halfWritten(runtime), [], 'the partial download was removed');
      assert.ok(!existsSync(join(runtime.dataDir, 'registry', 'blobs', 'sha256', 'e'.repeat(64))));
    } finally {
      server.closeAllConnections();
      server.close();
      await runtime.launch();
    }
  });

  it('keeps crafted layers inside the image root: .. paths, symlinks out, hard links out, device nodes, a file larger than the disk', async () => {
    const secret = join(hostDir, 'secret.txt');
    writeFileSync(secret, 'host only\n');
    const refusedCases: [string, Layer, RegExp][] = [
      ['dotdot', gzipLayer([{ path: '../../escape.txt', content: 'x' }]), /refused: entry '..\/..\/escape.txt' has a '..' component/],
      [
        'hardlink-out',
        gzipLayer([{ path: 'leak', type: 'hardlink', linkpath: secret }]),
        /refused: hard link 'leak' names .* which the image does not have/,
      ],
      ['whiteout-parent', gzipLayer([{ path: '.wh...' }]), /refused: whiteout '\.wh\.\.\.' names no file/],
      ['bomb', gzipLayer([{ path: 'huge.bin', declaredSize: 2 ** 50 }]), /refused: the disk holding .* is nearly full/],
    ];
    for (const [name, layer, expected] of refusedCases) {
      await registry.pushImage(`evil/${name}`, '1', [userland, layer]);
      await assert.rejects(
        build(Template().fromImage(`${registry.host}/evil/${name}:1`), `evil-${name}`),
        (err: Error) => err instanceof BuildError && expected.test(err.message),
      );
    }
    assert.equal(statSync(secret).nlink, 1, 'no hard link to the host file was made');
    assert.ok(!existsSync(join(runtime.dataDir, '..', 'escape.txt')) && !existsSync('/escape.txt'));

    // Symlinks pointing out of the root, written through by a later layer (and the same layer).
    const through = gzipLayer([
      { path: 'out', type: 'symlink', linkpath: hostDir },
      { path: 'up', type: 'symlink', linkpath: '../../../../../../../..' },
      { path: 'dev/', type: 'dir' },
      { path: 'dev/mem', type: 'char' },
    ]);
    const writes = zstdLayer([
      { path: 'out/pwned.txt', content: 'must stay in the image\n' },
      { path: `up${hostDir}/pwned-up.txt`, content: 'must stay in the image too\n' },
    ]);
    await registry.pushImage('evil/symlinks', '1', [userland, through, writes]);
    const logs = await build(Template().fromImage(`${registry.host}/evil/symlinks:1`), 'evil-symlinks');
    assert.deepEqual(readdirSync(hostDir), ['secret.txt'], 'nothing was written to the host through the symlinks');
    assert.ok(
      logs.some((l) => l.level === 'warn' && /skipped 1 device node.*\/dev\/mem/.test(l.message)),
      'the device node is refused, with a warning',
    );
    const roots = readdirSync(join(runtime.dataDir, 'registry', 'images')).map((k) =>
      join(runtime.dataDir, 'registry', 'images', k, 'rootfs'),
    );
    const devices = execFileSync('find', [...roots, '-xdev', '(', '-type', 'c', '-o', '-type', 'b', ')', '-print'], {
      encoding: 'utf8',
    }).trim();
    assert.equal(devices, '', 'no device node exists in any unpacked image');
    const sandbox = await Sandbox.create('evil-symlinks', runtime.sdk);
    try {
      const run = async (cmd: string) => (await sandbox.commands.run(cmd)).stdout.trim();
      assert.equal(
        await run(`cat ${hostDir}/pwned.txt ${hostDir}/pwned-up.txt`),
        'must stay in the image\nmust stay in the image too',
        'the writes landed inside the image, where the links point in a sandbox',
      );
    } finally {
      await sandbox.kill();
    }
    assert.deepEqual(halfWritten(runtime), []);
  });
});
