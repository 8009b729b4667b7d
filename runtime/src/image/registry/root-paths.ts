// Paths inside an image root being unpacked, resolved as a chroot would: a symlink met on the way
// (one the image itself made, in this layer or an earlier one) is followed, but `/` and `..` in
// its target stay at the root, so no entry of an untrusted image reaches outside it. The root is
// a fresh directory only the unpacking writes to, so checking with lstat is not racy.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST_ID_BASE } from '../../container/idmap';
import { lchown, chmod } from 'node:fs/promises';

const MAX_SYMLINKS = 40;

export class UnsafePathError extends Error {}

/** An archive path as components: leading `/` and `./` dropped; `..` is refused. */
export function entryComponents(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafePathError(`entry '${path}' has a '..' component`);
  return parts;
}

/** lstat of a path, undefined when nothing is there. */
export async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * `components` resolved inside `root`: every symlink on the way is followed within the root (the
 * last one too when `followLast`). With `createDirs` (for a directory that must exist), every
 * missing component is made a directory; without, the walk stops at the first missing one (the
 * rest is appended as it is).
 */
export async function resolveInRoot(
  root: string,
  components: string[],
  options: { followLast: boolean; createDirs?: boolean },
): Promise<string> {
  const out: string[] = [];
  let queue = [...components];
  let links = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      out.pop();
      continue;
    }
    const isLast = queue.length === 0;
    const path = join(root, ...out, part);
    const st = await lstatOrUndefined(path);
    if (!st) {
      if (!options.createDirs) return join(root, ...out, part, ...queue);
      await makeRootOwnedDir(path, 0o755);
      out.push(part);
      continue;
    }
    if (st.isSymbolicLink() && (!isLast || options.followLast)) {
      if (++links > MAX_SYMLINKS) throw new UnsafePathError(`too many levels of symbolic links at '/${[...out, part].join('/')}'`);
      const target = await readlink(path);
      if (target.startsWith('/')) out.length = 0;
      queue = [...target.split('/'), ...queue];
      continue;
    }
    if (!isLast && !st.isDirectory()) throw new UnsafePathError(`'/${[...out, part].join('/')}' is not a directory`);
    out.push(part);
  }
  return join(root, ...out);
}

export async function makeRootOwnedDir(path: string, mode: number): Promise<void> {
  await mkdir(path, { mode });
  await lchown(path, HOST_ID_BASE, HOST_ID_BASE);
  await chmod(path, mode);
}

/** A sandbox id (0…65535) as the host stores it; ids beyond the sandbox's range become nobody. */
export function shiftedId(id: number): number {
  return HOST_ID_BASE + (Number.isInteger(id) && id >= 0 && id < 65536 ? id : 65534);
}

/** A file's path inside the root: its directory made when missing, a symlink in its place followed within the root. */
async function resolveFile(root: string, path: string): Promise<string> {
  const components = entryComponents(path);
  const parent = await resolveInRoot(root, components.slice(0, -1), { followLast: true, createDirs: true });
  const direct = join(parent, components[components.length - 1]);
  return (await lstatOrUndefined(direct))?.isSymbolicLink() ? resolveInRoot(root, components, { followLast: true }) : direct;
}

/** Reads a file inside the root (symlinks followed within it); undefined when there is none. */
export async function readInRoot(root: string, path: string): Promise<string | undefined> {
  const resolved = await resolveInRoot(root, entryComponents(path), { followLast: true });
  const st = await lstatOrUndefined(resolved);
  if (!st?.isFile()) return undefined;
  return readFile(resolved, 'utf8');
}

/** Writes a file inside the root, owned by the sandbox's root (or `owner`), never through a symlink. */
export async function writeInRoot(root: string, path: string, content: string, mode: number, owner = 0): Promise<void> {
  const resolved = await resolveFile(root, path);
  const handle = await open(resolved, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
  try {
    await handle.writeFile(content);
    await handle.chown(shiftedId(owner), shiftedId(owner));
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

/** Whether `path` inside the root is (or links within the root to) an executable file. */
export async function isExecutableInRoot(root: string, path: string): Promise<boolean> {
  const resolved = await resolveInRoot(root, entryComponents(path), { followLast: true });
  const st = await lstatOrUndefined(resolved);
  return !!st?.isFile() && (st.mode & 0o111) !== 0;
}

/** Makes a directory inside the root when missing, owned by `owner` (a sandbox uid). */
export async function ensureDirInRoot(root: string, path: string, mode: number, owner = 0): Promise<void> {
  const resolved = await resolveFile(root, path);
  const st = await lstatOrUndefined(resolved);
  if (st?.isDirectory()) return;
  if (st) throw new UnsafePathError(`'${path}' exists in the image and is not a directory`);
  await mkdir(resolved, { mode });
  await lchown(resolved, shiftedId(owner), shiftedId(owner));
  await chmod(resolved, mode);
}
