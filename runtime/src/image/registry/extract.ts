// Applies image layers, in order, to one directory: the image's flattened root. A layer is
// untrusted input unpacked by host root, so every path is resolved inside the root (see
// root-paths.ts), hard links may only name files already inside it, device nodes are refused
// (skipped, with a warning: the sandbox's /dev is its own tmpfs), and nothing is written through
// a symlink. Whiteouts (`.wh.NAME`, and `.wh..wh..opq` for a directory whose earlier contents
// are hidden) delete what earlier layers put there. Ownership is shifted into the sandboxes' uid
// range, as for the runtime's own images; extended attributes (file capabilities) are dropped.
import { constants, createReadStream } from 'node:fs';
import { link, lstat, lutimes, mkdir, open, readdir, rm, statfs, symlink, lchown, chmod, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { entryComponents, lstatOrUndefined, resolveInRoot, shiftedId, UnsafePathError } from './root-paths';
import { TarEntry, TarReader } from './tar';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
/** A layer may hold far more than it weighs: the disk is checked as it fills, and kept from filling up. */
const SPACE_CHECK_EVERY_BYTES = 64 * 1024 * 1024;
const SPACE_CHECK_EVERY_ENTRIES = 4096;
const KEEP_FREE_BYTES = 2 * 1024 * 1024 * 1024;
const KEEP_FREE_INODES = 100_000;

export interface LayerOutcome {
  entries: number;
  skipped: string[];
}

export class LayerError extends Error {}

/** The uncompressed tar of a layer blob: gzip and zstd found by their magic bytes, else plain tar. */
export async function openLayer(blobPath: string): Promise<{ stream: AsyncIterable<Buffer>; finished: () => Promise<void> }> {
  const head = Buffer.alloc(4);
  const handle = await open(blobPath, 'r');
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const stream = createReadStream(blobPath).pipe(createGunzip());
    return { stream, finished: async () => undefined };
  }
  if (head.readUInt32LE(0) === 0xfd2fb528) {
    // Node 20's zlib has no zstd; Debian's zstd binary does it (scripts/setup.sh installs it).
    const child = spawn('zstd', ['-d', '-c', '-q', '--', blobPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<void>((resolve, reject) => {
      child.on('error', (err) => reject(new LayerError(`cannot run zstd to unpack a zstd layer (${err.message}): run scripts/setup.sh`)));
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new LayerError(`zstd could not unpack the layer: ${stderr.trim() || `exit ${code}`}`)),
      );
    });
    exited.catch(() => undefined);
    return { stream: child.stdout as Readable, finished: () => exited };
  }
  return { stream: createReadStream(blobPath), finished: async () => undefined };
}

/**
 * Unpacks one layer blob onto `root`; `diffId` (the config's sha256 of the uncompressed tar) is
 * checked when given. Throws LayerError / UnsafePathError on anything it refuses.
 */
export async function applyLayer(
  root: string,
  blobPath: string,
  diffId: string | undefined,
  warn: (message: string) => void,
): Promise<LayerOutcome> {
  const { stream, finished } = await openLayer(blobPath);
  const hash = createHash('sha256');
  const iterator = stream[Symbol.asyncIterator]();
  const hashed: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const r = await iterator.next();
        if (!r.done) hash.update(r.value);
        return r;
      },
    }),
  };
  const tar = new TarReader(hashed);
  const created = new Set<string>();
  const skipped: string[] = [];
  let entries = 0;
  let bytesSinceCheck = 0;
  try {
    for (let entry = await tar.next(); entry; entry = await tar.next()) {
      entries++;
      bytesSinceCheck += entry.type === 'file' ? entry.size : 0;
      if (bytesSinceCheck >= SPACE_CHECK_EVERY_BYTES || entries % SPACE_CHECK_EVERY_ENTRIES === 0) {
        bytesSinceCheck = 0;
        await checkSpace(root, entry.size);
      }
      await applyEntry(root, entry, tar, created, skipped);
    }
    // The rest of the stream (the end-of-archive blocks) still counts toward the diff id.
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) hash.update(r.value);
    await finished();
  } catch (err) {
    (stream as Readable).destroy?.();
    if (err instanceof UnsafePathError || err instanceof LayerError) throw err;
    throw new LayerError(`cannot unpack the layer: ${(err as Error).message}`);
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (diffId && digest !== diffId)
    throw new LayerError(`the layer's content does not match the image config (diff id ${diffId}, got ${digest})`);
  if (skipped.length > 0)
    warn(
      `skipped ${skipped.length} device node(s) and FIFO(s) the layer holds (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', …' : ''}): a sandbox's /dev is its own`,
    );
  return { entries, skipped };
}

async function checkSpace(root: string, next: number): Promise<void> {
  const fs = await statfs(root);
  if (fs.bavail * fs.bsize - next < KEEP_FREE_BYTES || fs.ffree < KEEP_FREE_INODES) {
    throw new LayerError(
      `the disk holding ${root.replace(/\/images\/[^/]+\/rootfs$/, '')} is nearly full (the image is larger than the space left, or a layer expands without end)`,
    );
  }
}

/** Removes whatever is at `path` (never following a symlink there). */
async function removeExisting(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

async function applyEntry(root: string, entry: TarEntry, tar: TarReader, created: Set<string>, skipped: string[]): Promise<void> {
  const components = entryComponents(entry.path);
  if (components.length === 0) {
    if (entry.type === 'directory') await setOwnerAndMode(root, entry);
    return;
  }
  const name = components[components.length - 1];
  const parentComponents = components.slice(0, -1);
  if (name.startsWith(WHITEOUT)) {
    await applyWhiteout(root, parentComponents, name, created);
    return;
  }
  const parent = await resolveInRoot(root, parentComponents, { followLast: true, createDirs: true });
  const target = join(parent, name);
  const existing = await lstatOrUndefined(target);
  switch (entry.type) {
    case 'directory': {
      if (existing && !existing.isDirectory()) await removeExisting(target);
      if (!existing || !existing.isDirectory()) await mkdir(target, { mode: 0o700 });
      await setOwnerAndMode(target, entry);
      break;
    }
    case 'file': {
      if (existing) await removeExisting(target);
      const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        for await (const chunk of tar.body()) await handle.write(chunk);
        await handle.chown(shiftedId(entry.uid), shiftedId(entry.gid));
        // After chown, which clears setuid and setgid.
        await handle.chmod(entry.mode);
      } finally {
        await handle.close();
      }
      await utimes(target, entry.mtime, entry.mtime).catch(() => undefined);
      break;
    }
    case 'symlink': {
      if (existing) await removeExisting(target);
      // Its target is only ever followed by resolveInRoot (or inside the sandbox): any text is safe.
      await symlink(entry.linkpath, target);
      await lchown(target, shiftedId(entry.uid), shiftedId(entry.gid));
      await lutimes(target, entry.mtime, entry.mtime).catch(() => undefined);
      break;
    }
    case 'hardlink': {
      const source = await resolveInRoot(root, entryComponents(entry.linkpath), { followLast: false });
      const st = await lstatOrUndefined(source);
      if (!st) throw new UnsafePathError(`hard link '${entry.path}' names '${entry.linkpath}', which the image does not have`);
      if (st.isDirectory()) throw new UnsafePathError(`hard link '${entry.path}' names a directory`);
      if (existing && existing.ino === st.ino && existing.dev === st.dev) break;
      if (existing) await removeExisting(target);
      await link(source, target);
      break;
    }
    case 'char-device':
    case 'block-device':
    case 'fifo':
      skipped.push(`/${components.join('/')}`);
      return;
    default:
      throw new LayerError(`entry '${entry.path}' has an unsupported type '${entry.flag}'`);
  }
  created.add(target);
}

async function setOwnerAndMode(path: string, entry: TarEntry): Promise<void> {
  await lchown(path, shiftedId(entry.uid), shiftedId(entry.gid));
  await chmod(path, entry.mode);
}

/** `.wh.NAME` deletes NAME; `.wh..wh..opq` empties the directory of what earlier layers put there. */
async function applyWhiteout(root: string, parentComponents: string[], name: string, created: Set<string>): Promise<void> {
  const parent = await resolveInRoot(root, parentComponents, { followLast: true });
  const st = await lstatOrUndefined(parent);
  if (!st?.isDirectory()) return;
  if (name === OPAQUE) {
    await clearEarlierContent(parent, created);
    return;
  }
  if (name.startsWith(`${WHITEOUT}${WHITEOUT}`)) return; // other AUFS metadata (.wh..wh.plnk, …)
  const hidden = name.slice(WHITEOUT.length);
  // `.wh.` alone or `.wh...` would name the directory itself or its parent (the root's, at the top).
  if (hidden === '' || hidden === '.' || hidden === '..') throw new UnsafePathError(`whiteout '${name}' names no file`);
  const victim = join(parent, hidden);
  if (created.has(victim)) return;
  await removeExisting(victim);
}

/** Removes every entry below `dir` that this layer did not create (its own stay). */
async function clearEarlierContent(dir: string, created: Set<string>): Promise<void> {
  for (const child of await readdir(dir)) {
    const path = join(dir, child);
    if (!created.has(path)) {
      await removeExisting(path);
      continue;
    }
    const st = await lstat(path);
    if (st.isDirectory()) await clearEarlierContent(path, created);
  }
}
