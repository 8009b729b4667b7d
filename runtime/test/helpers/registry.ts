// Test registries on loopback and images made from local files: Debian's docker-registry (the CNCF
// distribution registry) started in a temp dir, a tar writer for layers (well-formed or crafted),
// and a push client speaking the distribution API. Nothing here talks to anything off this machine.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import { createServer, IncomingMessage, request, Server } from 'node:http';
import { AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sleep } from './wait';

export interface TarItem {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char';
  content?: Buffer | string;
  mode?: number;
  linkpath?: string;
  uid?: number;
  gid?: number;
  /** A size field that lies (GNU base-256, for sizes octal cannot hold); no data follows. */
  declaredSize?: number;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar archive of `items`, in order (names under 100 bytes). */
export function tarOf(items: TarItem[]): Buffer {
  const blocks: Buffer[] = [];
  for (const item of items) {
    const type = item.type ?? 'file';
    const content = type === 'file' ? Buffer.from(item.content ?? '') : Buffer.alloc(0);
    const h = Buffer.alloc(512);
    h.write(item.path, 0, 100, 'utf8');
    h.write(octal(item.mode ?? (type === 'dir' ? 0o755 : 0o644), 8), 100, 'latin1');
    h.write(octal(item.uid ?? 0, 8), 108, 'latin1');
    h.write(octal(item.gid ?? 0, 8), 116, 'latin1');
    if (item.declaredSize !== undefined) {
      h[124] = 0x80;
      let n = item.declaredSize;
      for (let i = 135; i > 124; i--) {
        h[i] = n % 256;
        n = Math.floor(n / 256);
      }
    } else {
      h.write(octal(content.length, 12), 124, 'latin1');
    }
    h.write(octal(1700000000, 12), 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write({ file: '0', dir: '5', symlink: '2', hardlink: '1', char: '3' }[type], 156, 'latin1');
    if (item.linkpath) h.write(item.linkpath, 157, 100, 'utf8');
    h.write('ustar\0', 257, 'latin1');
    h.write('00', 263, 'latin1');
    if (type === 'char') {
      h.write(octal(1, 8), 329, 'latin1');
      h.write(octal(1, 8), 337, 'latin1');
    }
    let sum = 0;
    for (const b of h) sum += b;
    h.write(octal(sum, 7) + ' ', 148, 'latin1');
    blocks.push(h, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/**
 * A tiny userland from this machine's own files: bash (also as sh), a few coreutils and the
 * libraries they link, in a merged-usr layout, plus an os-release of its own ("e2btest").
 */
export function userlandItems(): TarItem[] {
  const programs = ['bash', 'cat', 'ls', 'id', 'sleep', 'mkdir', 'rm', 'env', 'uname', 'touch', 'chown', 'chmod', 'readlink'];
  const items: TarItem[] = [
    { path: 'usr/', type: 'dir' },
    { path: 'usr/bin/', type: 'dir' },
    { path: 'usr/lib/', type: 'dir' },
    { path: 'usr/lib/x86_64-linux-gnu/', type: 'dir' },
    { path: 'usr/lib64/', type: 'dir' },
    { path: 'bin', type: 'symlink', linkpath: 'usr/bin' },
    { path: 'lib', type: 'symlink', linkpath: 'usr/lib' },
    { path: 'lib64', type: 'symlink', linkpath: 'usr/lib64' },
    { path: 'etc/', type: 'dir' },
    { path: 'etc/os-release', content: 'ID=e2btest\nNAME="E2B registry test image"\nPRETTY_NAME="E2B registry test image"\n' },
    { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/bash\n' },
    { path: 'etc/group', content: 'root:x:0:\n' },
  ];
  const libs = new Set<string>();
  for (const program of programs) {
    const path = realpathSync(execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim());
    items.push({ path: `usr/bin/${program}`, content: readFileSync(path), mode: 0o755 });
    for (const line of execFileSync('ldd', [path], { encoding: 'utf8' }).split('\n')) {
      const m = /(\/\S+) \(0x/.exec(line);
      if (m) libs.add(m[1]);
    }
  }
  items.push({ path: 'usr/bin/sh', type: 'symlink', linkpath: 'bash' });
  for (const lib of libs) {
    const inImage = lib.replace(/^\/(usr\/)?lib64\//, 'usr/lib64/').replace(/^\/(usr\/)?lib\//, 'usr/lib/');
    items.push({ path: inImage, content: readFileSync(realpathSync(lib)), mode: 0o755 });
  }
  return items;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface Layer {
  blob: Buffer;
  diffId: string;
  mediaType: string;
}

export function gzipLayer(items: TarItem[]): Layer {
  const tar = tarOf(items);
  return { blob: gzipSync(tar), diffId: sha256(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
}

export function zstdLayer(items: TarItem[]): Layer {
  const tar = tarOf(items);
  return {
    blob: execFileSync('zstd', ['-q', '-c'], { input: tar }),
    diffId: sha256(tar),
    mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd',
  };
}

/** A registry process on a free loopback port, its storage in a temp dir; optional htpasswd auth. */
export class TestRegistry {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
    readonly auth?: { username: string; password: string },
  ) {}

  /** `htpasswd.line`: `user:$2b$…` (bcrypt), for Basic auth. */
  static async start(htpasswd?: { username: string; password: string; line: string }): Promise<TestRegistry> {
    const dir = mkdtempSync(join(tmpdir(), 'e2b-test-registry-'));
    const port = await freePort();
    const auth = htpasswd ? `auth: {htpasswd: {realm: test, path: ${join(dir, 'htpasswd')}}}\n` : '';
    if (htpasswd) writeFileSync(join(dir, 'htpasswd'), `${htpasswd.line}\n`);
    writeFileSync(
      join(dir, 'config.yml'),
      `version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:${port}}\n${auth}`,
    );
    const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const registry = new TestRegistry(dir, port, child, htpasswd && { username: htpasswd.username, password: htpasswd.password });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${port}/v2/`)
        .then((r) => r.status)
        .catch(() => 0);
      if (status === 200 || status === 401) return registry;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`docker-registry did not start: ${stderr}`);
      await sleep(50);
    }
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  private headers(): Record<string, string> {
    return this.auth ? { authorization: `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}` } : {};
  }

  async pushBlob(repo: string, blob: Buffer): Promise<string> {
    const digest = sha256(blob);
    const start = await fetch(`http://${this.host}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: this.headers() });
    if (start.status !== 202) throw new Error(`upload start: ${start.status} ${await start.text()}`);
    const location = new URL(start.headers.get('location')!, `http://${this.host}`);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      body: new Uint8Array(blob),
      headers: { ...this.headers(), 'content-type': 'application/octet-stream' },
    });
    if (put.status !== 201) throw new Error(`upload: ${put.status} ${await put.text()}`);
    return digest;
  }

  async pushManifest(repo: string, reference: string, manifest: object, mediaType: string): Promise<string> {
    const body = Buffer.from(JSON.stringify(manifest));
    const res = await fetch(`http://${this.host}/v2/${repo}/manifests/${reference}`, {
      method: 'PUT',
      body,
      headers: { ...this.headers(), 'content-type': mediaType },
    });
    if (res.status !== 201) throw new Error(`manifest: ${res.status} ${await res.text()}`);
    return sha256(body);
  }

  /** Pushes an image (config + layers) → its manifest's descriptor. */
  /** `docker`: Docker's v2 schema 2 media types instead of OCI's. */
  async pushImage(
    repo: string,
    tag: string | undefined,
    layers: Layer[],
    options: { architecture?: string; env?: string[]; docker?: boolean } = {},
  ): Promise<{ digest: string; size: number; mediaType: string }> {
    const config = Buffer.from(
      JSON.stringify({
        architecture: options.architecture ?? 'amd64',
        os: 'linux',
        config: { Env: options.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      }),
    );
    const configDigest = await this.pushBlob(repo, config);
    const layerDescriptors = [];
    for (const layer of layers) {
      const mediaType =
        options.docker && layer.mediaType.endsWith('+gzip') ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : layer.mediaType;
      layerDescriptors.push({ mediaType, digest: await this.pushBlob(repo, layer.blob), size: layer.blob.length });
    }
    const mediaType = options.docker
      ? 'application/vnd.docker.distribution.manifest.v2+json'
      : 'application/vnd.oci.image.manifest.v1+json';
    const configType = options.docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json';
    const manifest = {
      schemaVersion: 2,
      mediaType,
      config: { mediaType: configType, digest: configDigest, size: config.length },
      layers: layerDescriptors,
    };
    const size = Buffer.byteLength(JSON.stringify(manifest));
    const digest = await this.pushManifest(repo, tag ?? sha256(JSON.stringify(manifest)), manifest, mediaType);
    return { digest, size, mediaType };
  }

  async pushIndex(
    repo: string,
    tag: string,
    entries: { digest: string; size: number; mediaType: string; architecture: string }[],
    options: { docker?: boolean } = {},
  ): Promise<void> {
    const mediaType = options.docker
      ? 'application/vnd.docker.distribution.manifest.list.v2+json'
      : 'application/vnd.oci.image.index.v1+json';
    await this.pushManifest(
      repo,
      tag,
      {
        schemaVersion: 2,
        mediaType,
        manifests: entries.map((e) => ({
          mediaType: e.mediaType,
          digest: e.digest,
          size: e.size,
          platform: { os: 'linux', architecture: e.architecture },
        })),
      },
      mediaType,
    );
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null)
      await new Promise<void>((done) => {
        this.child.once('exit', () => done());
        this.child.kill('SIGTERM');
      });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A loopback proxy in front of a registry that asks for Bearer tokens as Docker Hub does:
 * 401 with `WWW-Authenticate: Bearer realm=…/token`, a token for Basic credentials at /token.
 */
export class TokenAuthProxy {
  readonly tokensIssued: string[] = [];
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** `realm`: the token service to name instead of this proxy's own /token. */
  static async start(upstreamPort: number, credentials: { username: string; password: string }, realm?: string): Promise<TokenAuthProxy> {
    const valid = new Set<string>();
    const server = createServer((req: IncomingMessage, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
        if (req.headers.authorization !== expected || url.searchParams.get('service') !== 'test-registry') {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
          return;
        }
        const token = createHash('sha256').update(String(Math.random())).digest('hex');
        valid.add(token);
        proxy.tokensIssued.push(token);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
        return;
      }
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!bearer || !valid.has(bearer)) {
        res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="${realm ?? `http://127.0.0.1:${proxy.port}/token`}",service="test-registry",scope="repository:test/app:pull"`,
            'content-type': 'application/json',
          })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      const upstream = request(
        { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: { ...req.headers, authorization: '' } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const proxy = new TokenAuthProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  stop(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
