// The volume content operations, each run by the e2b-volume-io helper chrooted into the volume as
// the sandbox's root (see native/volume-io.c for why): Node never opens a path inside a volume.
// Here: the helper's arguments and output format, and its errors as the API's statuses.
import { spawn } from 'node:child_process';
import { IncomingMessage, ServerResponse } from 'node:http';
import { invalidInput, forbidden, notFound, conflict, storageFull } from '../errors';
import { HOST_ID_BASE, ID_RANGE } from '../container/idmap';

/** E2B's owner and modes for what the content API creates (uid/gid as the sandbox sees them). */
export const DEFAULT_OWNER_ID = 9090;
export const MAX_LIST_DEPTH = 10;

export interface VolumeEntryStat {
  name: string;
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'unknown';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  atime: string;
  mtime: string;
  ctime: string;
  target?: string;
}

/** Ownership and mode a caller asked for; undefined fields are left to the defaults. */
export interface EntryOwnership {
  uid?: number;
  gid?: number;
  mode?: number;
}

export class VolumeIo {
  constructor(
    private readonly helper: string,
    private readonly root: string,
  ) {}

  stat(path: string): Promise<VolumeEntryStat> {
    return this.run(['stat', path]).then((entries) => entries[0]);
  }

  list(path: string, depth: number): Promise<VolumeEntryStat[]> {
    return this.run(['list', path, String(depth)]);
  }

  makeDir(path: string, owner: EntryOwnership, parents: boolean): Promise<VolumeEntryStat> {
    return this.run(['mkdir', path, ...ownershipArgs(owner), parents ? '1' : '0']).then((entries) => entries[0]);
  }

  updateMetadata(path: string, owner: EntryOwnership): Promise<VolumeEntryStat> {
    return this.run(['update', path, ...ownershipArgs(owner)]).then((entries) => entries[0]);
  }

  async remove(path: string): Promise<void> {
    await this.run(['remove', path]);
  }

  /** Streams the request body into the file; resolves with the written file's stat. */
  writeFile(path: string, owner: EntryOwnership, force: boolean, body: IncomingMessage): Promise<VolumeEntryStat> {
    return this.run(['write', path, ...ownershipArgs(owner), force ? '1' : '0'], body).then((entries) => entries[0]);
  }

  /** Streams the file as the response body (chunked: the file may change while it is read). */
  readFile(path: string, res: ServerResponse): Promise<void> {
    const child = this.spawn(['read', path]);
    return new Promise<void>((resolve, reject) => {
      let head = Buffer.alloc(0);
      let started = false;
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.stdout.on('data', (chunk: Buffer) => {
        if (started) {
          if (!res.write(chunk)) {
            child.stdout.pause();
            res.once('drain', () => child.stdout.resume());
          }
          return;
        }
        head = Buffer.concat([head, chunk]);
        const newline = head.indexOf(0x0a);
        if (newline < 0) return;
        const status = head.subarray(0, newline).toString();
        if (!status.startsWith('ok ')) {
          child.stdout.resume();
          reject(errorOf(status, path, stderr));
          return;
        }
        started = true;
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const rest = head.subarray(newline + 1);
        if (rest.length) res.write(rest);
      });
      res.on('close', () => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('close', (code) => {
        if (!started) {
          reject(errorOf(head.toString().split('\n')[0], path, stderr));
          return;
        }
        // A read that broke off midway must not look like a complete file.
        if (code === 0) res.end();
        else res.destroy();
        resolve();
      });
    });
  }

  private spawn(args: string[]) {
    return spawn(
      this.helper,
      [this.root, String(HOST_ID_BASE), String(HOST_ID_BASE + DEFAULT_OWNER_ID), String(HOST_ID_BASE + DEFAULT_OWNER_ID), ...args],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
  }

  private run(args: string[], input?: IncomingMessage): Promise<VolumeEntryStat[]> {
    const child = this.spawn(args);
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      // The helper may stop reading (an error): the rest of the upload is dropped.
      child.stdin.on('error', () => undefined);
      if (input) {
        input.pipe(child.stdin);
        // An upload the client broke off never ends the helper's stdin: end the helper instead.
        input.on('close', () => {
          if (!input.complete && child.exitCode === null) child.kill('SIGKILL');
        });
      } else {
        child.stdin.end();
      }
      child.on('error', reject);
      child.on('close', () => {
        if (input) input.unpipe(child.stdin);
        const lines = Buffer.concat(out).toString().split('\n').filter(Boolean);
        if (lines[0] !== 'ok') {
          reject(errorOf(lines[0] ?? '', args[1], stderr));
          return;
        }
        try {
          resolve(lines.slice(1).map(parseEntry));
        } catch (err) {
          reject(err);
        }
      });
    });
  }
}

function ownershipArgs(owner: EntryOwnership): string[] {
  return [
    owner.uid === undefined ? '-1' : String(HOST_ID_BASE + owner.uid),
    owner.gid === undefined ? '-1' : String(HOST_ID_BASE + owner.gid),
    owner.mode === undefined ? '-1' : String(owner.mode),
  ];
}

const TYPES: Record<string, VolumeEntryStat['type']> = { f: 'file', d: 'directory', l: 'symlink', u: 'unknown' };

function parseEntry(line: string): VolumeEntryStat {
  const [type, size, mode, uid, gid, atime, mtime, ctime, hexPath, hexTarget] = line.split(' ');
  if (hexTarget === undefined) throw new Error(`volume helper: malformed entry "${line}"`);
  const path = fromHex(hexPath);
  const entry: VolumeEntryStat = {
    name: path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1),
    path,
    type: TYPES[type] ?? 'unknown',
    size: Number(size),
    mode: parseInt(mode, 8),
    uid: sandboxId(Number(uid)),
    gid: sandboxId(Number(gid)),
    atime: isoTime(atime),
    mtime: isoTime(mtime),
    ctime: isoTime(ctime),
  };
  if (hexTarget !== '-') entry.target = fromHex(hexTarget);
  return entry;
}

/** A host id as the sandboxes see it; ids outside their range show as nobody, as in a sandbox. */
function sandboxId(hostId: number): number {
  const id = hostId - HOST_ID_BASE;
  return id >= 0 && id < ID_RANGE ? id : 65534;
}

function fromHex(hex: string): string {
  return hex === '-' ? '' : Buffer.from(hex, 'hex').toString('utf8');
}

function isoTime(secondsDotNanos: string): string {
  const [s, ns] = secondsDotNanos.split('.');
  return new Date(Number(s) * 1000 + Math.floor(Number(ns) / 1e6)).toISOString();
}

/** The helper's errno as the status E2B's volume service gives it. */
function errorOf(statusLine: string, path: string, stderr: string): Error {
  const code = statusLine.startsWith('err ') ? statusLine.slice(4).trim() : '';
  switch (code) {
    case 'ENOENT':
      return notFound(`path '${path}' not found`);
    case 'EEXIST':
      return conflict(`path '${path}' already exists`);
    case 'ENOTDIR':
      return invalidInput(`a component of the path '${path}' is a file, but must be a directory`);
    case 'EISDIR':
      return invalidInput(`path '${path}' is a directory`);
    case 'EINVAL':
      return invalidInput(`path '${path}' is not a regular file`);
    case 'EBUSY':
      return invalidInput('cannot delete root');
    case 'ELOOP':
      return invalidInput(`too many symbolic links in path '${path}'`);
    case 'ENAMETOOLONG':
      return invalidInput(`path '${path}' is too long`);
    case 'ENOTEMPTY':
      return conflict(`directory '${path}' is not empty`);
    case 'EACCES':
    case 'EPERM':
      return forbidden(`permission denied on '${path}'`);
    case 'ENOSPC':
    case 'EDQUOT':
      return storageFull('the volume is full: remove files from it to make room');
    case 'ENODEV':
      return new Error('the volume is not mounted on the host: restart the runtime');
    default:
      return new Error(`volume operation failed on '${path}': ${code || stderr.trim() || 'the helper ended without an answer'}`);
  }
}
