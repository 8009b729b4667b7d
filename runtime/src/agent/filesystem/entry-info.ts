// EntryInfo as envd reports it (protocol §2.3), in proto3 JSON: lstat-based size, owner and
// modification time; for a symlink the target's type and mode plus the fully resolved target.
import { BigIntStats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConnectError } from '../connect/errors';
import { UserDatabase } from '../users';
import { Metadata, MetadataStore } from './metadata';

export type FileTypeName = 'FILE_TYPE_UNSPECIFIED' | 'FILE_TYPE_FILE' | 'FILE_TYPE_DIRECTORY' | 'FILE_TYPE_SYMLINK';

export interface EntryInfoJson {
  name: string;
  type: FileTypeName;
  path: string;
  size: string;
  mode: number;
  permissions: string;
  owner: string;
  group: string;
  modifiedTime?: string;
  symlinkTarget?: string;
  metadata?: Metadata;
}

export interface EntryDeps {
  users: UserDatabase;
  metadata: MetadataStore;
}

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFBLK = 0o060000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

/** Go's os.FileMode.String() for a Unix st_mode, e.g. "-rw-r--r--", "drwxrwxrwt" → "dtrwxrwxrwx". */
export function goModeString(mode: number): string {
  const type = mode & S_IFMT;
  // Go's letter order: d a l T L D p S u g c t ?
  let prefix = '';
  if (type === S_IFDIR) prefix += 'd';
  if (type === S_IFLNK) prefix += 'L';
  if (type === S_IFBLK || type === S_IFCHR) prefix += 'D';
  if (type === S_IFIFO) prefix += 'p';
  if (type === S_IFSOCK) prefix += 'S';
  if (mode & 0o4000) prefix += 'u';
  if (mode & 0o2000) prefix += 'g';
  if (type === S_IFCHR) prefix += 'c';
  if (mode & 0o1000) prefix += 't';
  if (type !== 0 && ![S_IFDIR, S_IFLNK, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK, S_IFREG].includes(type)) prefix += '?';
  const rwx = 'rwxrwxrwx';
  let perms = '';
  for (let i = 0; i < 9; i++) perms += mode & (1 << (8 - i)) ? rwx[i] : '-';
  return (prefix || '-') + perms;
}

function fileType(mode: number): FileTypeName {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return 'FILE_TYPE_FILE';
    case S_IFDIR:
      return 'FILE_TYPE_DIRECTORY';
    case S_IFLNK:
      return 'FILE_TYPE_SYMLINK';
    default:
      return 'FILE_TYPE_UNSPECIFIED';
  }
}

/** google.protobuf.Timestamp JSON: RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits. */
export function timestampJson(ns: bigint): string {
  let seconds = ns / 1_000_000_000n;
  let nanos = ns % 1_000_000_000n;
  if (nanos < 0n) {
    nanos += 1_000_000_000n;
    seconds -= 1n;
  }
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (nanos === 0n) return `${base}Z`;
  let digits = nanos.toString().padStart(9, '0');
  if (digits.endsWith('000000')) digits = digits.slice(0, 3);
  else if (digits.endsWith('000')) digits = digits.slice(0, 6);
  return `${base}.${digits}Z`;
}

/** Maps fs errors of a lookup to Connect codes (missing → not_found). */
export function statError(err: unknown, path: string): ConnectError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ConnectError('not_found', `file not found: ${path}`);
  if (code === 'ELOOP') return new ConnectError('failed_precondition', `cyclic symlink or chain >40 links at '${path}'`);
  if (code === 'ENAMETOOLONG') return new ConnectError('invalid_argument', `path too long: ${path}`);
  return new ConnectError('internal', `error getting file info of ${path}: ${(err as Error).message}`);
}

/**
 * The entry at `path` without metadata (lstat; a symlink shows its target's type and mode).
 * `path` is reported as given; `fsPath`, when the name is not UTF-8, is its bytes, which is what
 * is looked up (the reported string then has U+FFFD where the bytes were, as envd's JSON does).
 * Throws not_found when it does not exist.
 */
export async function entryWithoutMetadata(path: string, users: UserDatabase, fsPath: string | Buffer = path): Promise<EntryInfoJson> {
  let st: BigIntStats;
  try {
    st = await lstat(fsPath, { bigint: true });
  } catch (err) {
    throw statError(err, path);
  }
  const mode = Number(st.mode);
  let shownMode = mode;
  let type = fileType(mode);
  let symlinkTarget: string | undefined;
  if (st.isSymbolicLink()) {
    // Like Go's filepath.EvalSymlinks; a dangling link reports itself as the target.
    symlinkTarget = await realpath(fsPath, 'utf8').catch(() => path);
    try {
      shownMode = Number((await stat(fsPath, { bigint: true })).mode);
      type = fileType(shownMode);
    } catch {
      type = 'FILE_TYPE_UNSPECIFIED';
      shownMode = mode;
    }
  }
  return {
    name: basename(path) || path,
    type,
    path,
    size: st.size.toString(),
    mode: type === 'FILE_TYPE_UNSPECIFIED' && symlinkTarget !== undefined ? 0 : shownMode & 0o777,
    permissions: goModeString(shownMode),
    owner: users.userName(Number(st.uid)),
    group: users.groupName(Number(st.gid)),
    modifiedTime: timestampJson(st.mtimeNs),
    ...(symlinkTarget !== undefined ? { symlinkTarget } : {}),
  };
}

/** The full EntryInfo of `path`, metadata included. */
export async function entryInfo(path: string, deps: EntryDeps): Promise<EntryInfoJson> {
  const entry = await entryWithoutMetadata(path, deps.users);
  const [metadata] = await deps.metadata.read([path]);
  if (metadata) entry.metadata = metadata;
  return entry;
}

/** Adds metadata to many entries with one batch of helper requests. */
export async function withMetadata(entries: EntryInfoJson[], metadata: MetadataStore): Promise<EntryInfoJson[]> {
  const all = await metadata.read(entries.map((e) => e.path));
  entries.forEach((entry, i) => {
    const m = all[i];
    if (m) entry.metadata = m;
  });
  return entries;
}

/** Upstream strips EntryInfo for the very old Python SDK (User-Agent exactly "connect-python"). */
export function legacyEntry(entry: EntryInfoJson): Pick<EntryInfoJson, 'name' | 'type' | 'path'> {
  return { name: entry.name, type: entry.type, path: entry.path };
}
