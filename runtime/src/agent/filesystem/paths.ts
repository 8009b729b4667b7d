// Where a requested path points: envd's rules (empty → default workdir or home, `~` → home,
// relative → under home) and creating missing parent directories owned by the requesting user.
// The agent lives in the sandbox's own mount namespace, so every path, symlinks included, can
// only ever reach the sandbox's files.
import { chown, mkdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConnectError } from '../connect/errors';
import { UserAccount } from '../users';

/** Thrown for paths that cannot be resolved; RPCs report invalid_argument, /files 400. */
export class InvalidPathError extends Error {}

export function resolveUserPath(requested: string, user: UserAccount, defaultWorkdir?: string): string {
  if (requested.includes('\0')) throw new InvalidPathError('path must not contain NUL bytes');
  let path = requested || defaultWorkdir || '';
  if (path.startsWith('~')) {
    if (path.length > 1 && path[1] !== '/') throw new InvalidPathError(`cannot expand user-specific home dir in '${requested}'`);
    path = join(user.home, path.slice(1));
  }
  return checkLength(isAbsolute(path) ? resolve(path) : resolve(user.home, path));
}

// Linux's limits: a path the kernel cannot name fails only halfway through (after parents were made).
const PATH_MAX = 4096;
const NAME_MAX = 255;

function checkLength(path: string): string {
  if (Buffer.byteLength(path) >= PATH_MAX)
    throw new InvalidPathError(`path is too long: ${Buffer.byteLength(path)} bytes, at most ${PATH_MAX - 1}`);
  const long = path.split('/').find((name) => Buffer.byteLength(name) > NAME_MAX);
  if (long)
    throw new InvalidPathError(
      `a file name in the path is too long: ${Buffer.byteLength(long)} bytes, at most ${NAME_MAX} ("${long.slice(0, 20)}…")`,
    );
  return path;
}

/** resolveUserPath for RPC handlers: failures are Connect invalid_argument errors. */
export function resolveRpcPath(requested: string, user: UserAccount, defaultWorkdir?: string): string {
  try {
    return resolveUserPath(requested, user, defaultWorkdir);
  } catch (err) {
    if (err instanceof InvalidPathError) throw new ConnectError('invalid_argument', err.message);
    throw err;
  }
}

/** A parent on the way is a file (ENOTDIR-like). */
export class NotADirectoryError extends Error {}

/**
 * Creates `path` and any missing parents (mode 0755), each new one chowned to uid:gid; existing
 * ones are left alone. Throws NotADirectoryError when something on the way is not a directory.
 */
export async function ensureDirs(path: string, uid: number, gid: number): Promise<void> {
  const chain: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    chain.unshift(p);
    if (p === dirname(p)) break;
  }
  for (const dir of chain) {
    let isDir: boolean;
    try {
      isDir = (await stat(dir)).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw new NotADirectoryError(`path is a file: ${dirname(dir)}`);
      if (code !== 'ENOENT') throw err;
      try {
        await mkdir(dir, { mode: 0o755 });
      } catch (mkdirErr) {
        if ((mkdirErr as NodeJS.ErrnoException).code !== 'EEXIST') throw mkdirErr;
      }
      // Also when someone else created it in between: chown is idempotent.
      await chown(dir, uid, gid);
      continue;
    }
    if (!isDir) throw new NotADirectoryError(`path is a file: ${dir}`);
  }
}
