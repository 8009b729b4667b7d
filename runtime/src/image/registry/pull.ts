// Pulls an image from a registry into the runtime's image cache and hands back its flattened,
// sandbox-ready root:
//   <dir>/blobs/sha256/<hex>    every blob (configs, layers), verified by sha256 before it is kept
//   <dir>/images/<key>/rootfs   one image's layers applied in order plus the runtime's additions
//   <dir>/images/<key>/image.json
//   <dir>/pinned/<hex>          the config a digest-pinned reference led to (no registry asked again)
// Blobs and images are shared by every template built from the same image. Everything is written under a
// temporary name and renamed into place once complete and verified, so a failed pull leaves no
// half-written blob or image behind. Progress (layers, bytes) goes to `log`, for the build log.
import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  chmodSync,
  chownSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { HOST_ID_BASE } from '../../container/idmap';
import { removeTree } from '../../container/bundle';
import { PullError, RegistryClient, RegistryCredentials } from './client';
import { RegistryHttp } from './http';
import { parseImageReference, ImageReference, ImageReferenceError } from './reference';
import { applyLayer, LayerError } from './extract';
import { Descriptor, DIGEST, hostPlatform, resolveManifest } from './manifest';
import { prepareSandboxRoot } from './prepare';
import { UnsafePathError } from './root-paths';

export { PullError, RegistryUnreachableError } from './client';
export type { RegistryCredentials } from './client';

/** Bump when prepare.ts changes what it adds: images unpacked before are unpacked again. */
const PREPARE_VERSION = '1';
const PROGRESS_INTERVAL_MS = 1000;

export interface PulledImage {
  rootfs: string;
  /** The image config's digest (the image ID). */
  id: string;
  /** The image's ENV, as E2B takes it into the template. */
  envs: Record<string, string>;
  display: string;
}

export type PullLog = (level: 'info' | 'warn', message: string) => void;

interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: { Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string; User?: string };
  rootfs?: { diff_ids?: string[] };
}

export class ImagePuller {
  private readonly blobsInFlight = new Map<string, Promise<void>>();
  private readonly imagesInFlight = new Map<string, Promise<void>>();
  /** Shared by every pull: it remembers which loopback registries speak plain http, and ends them all on close(). */
  private readonly http = new RegistryHttp();
  private closed = false;

  constructor(readonly dir: string) {
    this.removeLeftovers();
  }

  /** Ends the downloads under way (their builds fail) and stops unpacking between layers. */
  close(): void {
    this.closed = true;
    this.http.close();
  }

  /** What a pull interrupted by a crash left under temporary names (never used by anything). */
  private removeLeftovers(): void {
    for (const dir of [this.blobsDir, this.imagesDir, join(this.dir, 'pinned')]) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names.filter((n) => n.includes('.tmp-'))) rmSync(join(dir, name), { recursive: true, force: true });
    }
  }

  get blobsDir(): string {
    return join(this.dir, 'blobs', 'sha256');
  }
  get imagesDir(): string {
    return join(this.dir, 'images');
  }
  blobPath(digest: string): string {
    return join(this.blobsDir, digest.slice('sha256:'.length));
  }

  async pull(image: string, credentials: RegistryCredentials | undefined, log: PullLog): Promise<PulledImage> {
    let ref: ImageReference;
    try {
      ref = parseImageReference(image);
    } catch (err) {
      if (err instanceof ImageReferenceError) throw new PullError(err.message);
      throw err;
    }
    this.makeDirs();
    const platform = hostPlatform();
    // A digest names content that never changes: once unpacked, no registry needs asking (offline too).
    const pinned = ref.digest ? this.unpackedImage(this.pinnedConfig(ref.digest), ref) : undefined;
    if (pinned) {
      log('info', `image ${ref.display} is pinned by digest and already unpacked (cached): the registry is not asked`);
      return pinned;
    }
    const client = new RegistryClient(ref, credentials, this.http);
    log('info', `pulling ${ref.display} for ${platform.os}/${platform.architecture} from ${ref.apiHost}`);
    const manifest = await resolveManifest(client, ref, platform);
    await this.fetchBlob(client, ref, manifest.config, undefined);
    const config = this.readConfig(manifest.config.digest);
    if (config.architecture && config.architecture !== platform.architecture) {
      throw new PullError(
        `image '${ref.display}' is for ${config.os ?? 'linux'}/${config.architecture}, not this machine's ${platform.os}/${platform.architecture}`,
      );
    }
    const cached = this.unpackedImage(manifest.config.digest, ref);
    if (cached) {
      log('info', `image ${manifest.config.digest.slice(0, 19)} is already unpacked (cached)`);
    } else {
      const total = manifest.layers.reduce((sum, l) => sum + l.size, 0);
      log('info', `${manifest.layers.length} layer(s), ${formatBytes(total)}`);
      for (const [i, layer] of manifest.layers.entries())
        await this.fetchBlob(client, ref, layer, { index: i + 1, count: manifest.layers.length, log });
      await this.once(this.imagesInFlight, imageKey(manifest.config.digest), () =>
        this.unpack(join(this.imagesDir, imageKey(manifest.config.digest)), ref, manifest.layers, config, log),
      );
    }
    if (ref.digest) this.pin(ref.digest, manifest.config.digest);
    return this.unpackedImage(manifest.config.digest, ref)!;
  }

  private readConfig(configDigest: string): ImageConfig {
    return JSON.parse(readFileSync(this.blobPath(configDigest), 'utf8')) as ImageConfig;
  }

  /** The unpacked image of a config digest, when it is complete. */
  private unpackedImage(configDigest: string | undefined, ref: ImageReference): PulledImage | undefined {
    if (!configDigest) return undefined;
    const imageDir = join(this.imagesDir, imageKey(configDigest));
    if (!existsSync(join(imageDir, 'image.json')) || !existsSync(this.blobPath(configDigest))) return undefined;
    const envs = imageEnvs(this.readConfig(configDigest).config?.Env ?? []);
    return { rootfs: join(imageDir, 'rootfs'), id: configDigest, envs, display: ref.display };
  }

  private pinnedFile(digest: string): string {
    return join(this.dir, 'pinned', digest.slice('sha256:'.length));
  }

  private pinnedConfig(digest: string): string | undefined {
    try {
      const config = readFileSync(this.pinnedFile(digest), 'utf8').trim();
      return DIGEST.test(config) ? config : undefined;
    } catch {
      return undefined;
    }
  }

  /** Remembers which config a pinned manifest (or index, for this platform) led to. */
  private pin(digest: string, configDigest: string): void {
    const file = this.pinnedFile(digest);
    mkdirSync(join(this.dir, 'pinned'), { recursive: true });
    const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, `${configDigest}\n`);
    renameSync(tmp, file);
  }

  private makeDirs(): void {
    mkdirSync(this.dir, { recursive: true });
    // Image roots hold files owned by the sandboxes' root (setuid ones too): host users stay out.
    chmodSync(this.dir, 0o700);
    mkdirSync(this.blobsDir, { recursive: true });
    mkdirSync(this.imagesDir, { recursive: true });
  }

  /** Downloads a blob into the cache (verified) unless it is there; progress for layers. */
  private async fetchBlob(
    client: RegistryClient,
    ref: ImageReference,
    blob: Descriptor,
    progress: { index: number; count: number; log: PullLog } | undefined,
  ): Promise<void> {
    const target = this.blobPath(blob.digest);
    const label = progress ? `layer ${progress.index}/${progress.count} ${blob.digest.slice(7, 19)}` : '';
    if (existsSync(target)) {
      progress?.log('info', `${label}: cached (${formatBytes(blob.size)})`);
      return;
    }
    await this.once(this.blobsInFlight, blob.digest, async () => {
      if (existsSync(target)) return;
      const tmp = `${target}.tmp-${randomBytes(4).toString('hex')}`;
      try {
        const res = await client.blob(blob.digest);
        const hash = createHash('sha256');
        let received = 0;
        let lastReport = Date.now();
        const meter = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            received += chunk.length;
            if (progress && Date.now() - lastReport >= PROGRESS_INTERVAL_MS) {
              lastReport = Date.now();
              progress.log('info', `${label}: ${formatBytes(received)} of ${formatBytes(blob.size)}`);
            }
            done(null, chunk);
          },
        });
        await pipeline(res.body, meter, createWriteStream(tmp, { mode: 0o600 }));
        const digest = `sha256:${hash.digest('hex')}`;
        if (digest !== blob.digest || (blob.size && received !== blob.size)) {
          throw new PullError(`blob ${blob.digest} of '${ref.display}' failed verification: got ${received} bytes with digest ${digest}`);
        }
        renameSync(tmp, target);
        progress?.log('info', `${label}: downloaded ${formatBytes(received)}`);
      } catch (err) {
        rmSync(tmp, { force: true });
        if (err instanceof PullError) throw err;
        throw new PullError(`download of ${blob.digest} from ${ref.apiHost} failed: ${(err as Error).message}`);
      }
    });
  }

  private async unpack(imageDir: string, ref: ImageReference, layers: Descriptor[], config: ImageConfig, log: PullLog): Promise<void> {
    if (existsSync(join(imageDir, 'image.json'))) return;
    const work = join(this.imagesDir, `.${imageDir.split('/').pop()}.tmp-${randomBytes(4).toString('hex')}`);
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs, { recursive: true });
    chownSync(rootfs, HOST_ID_BASE, HOST_ID_BASE);
    chmodSync(rootfs, 0o755);
    const started = Date.now();
    try {
      for (const [i, layer] of layers.entries()) {
        if (this.closed) throw new PullError('the runtime is shutting down');
        log('info', `unpacking layer ${i + 1}/${layers.length} ${layer.digest.slice(7, 19)}`);
        await applyLayer(rootfs, this.blobPath(layer.digest), config.rootfs?.diff_ids?.[i], (message) =>
          log('warn', `layer ${i + 1}/${layers.length}: ${message}`),
        );
      }
      await prepareSandboxRoot(rootfs, ref.display);
      // What the image itself would run (unused by templates, which have their start command; kept
      // for running catalog MCP server images later).
      const { Entrypoint, Cmd, WorkingDir, User } = config.config ?? {};
      writeFileSync(
        join(work, 'image.json'),
        JSON.stringify(
          {
            reference: ref.display,
            layers: layers.map((l) => l.digest),
            pulledAt: new Date().toISOString(),
            entrypoint: Entrypoint,
            cmd: Cmd,
            workingDir: WorkingDir,
            user: User,
          },
          null,
          2,
        ),
      );
      // Another unpacking may have finished first: keep that one (sandboxes may run on it).
      if (existsSync(imageDir)) await removeTree(work);
      else renameSync(work, imageDir);
      log('info', `image ${ref.display} unpacked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      await removeTree(work);
      if (err instanceof UnsafePathError || err instanceof LayerError)
        throw new PullError(`image '${ref.display}' was refused: ${err.message}`);
      throw err;
    }
  }

  /** Runs `work` once per key at a time; concurrent callers wait for the same run. */
  private async once(map: Map<string, Promise<void>>, key: string, work: () => Promise<void>): Promise<void> {
    const running = map.get(key);
    if (running) return running;
    const started = work().finally(() => map.delete(key));
    map.set(key, started);
    return started;
  }
}

/** The unpacked image's directory name: its config digest and what prepare.ts adds. */
function imageKey(configDigest: string): string {
  return createHash('sha256').update(`${configDigest}\n${PREPARE_VERSION}`).digest('hex').slice(0, 32);
}

/** `["K=V", …]` → { K: V }, skipping empty names (E2B also drops empty values). */
function imageEnvs(env: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of env) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key && value) out[key] = value;
  }
  return out;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}
