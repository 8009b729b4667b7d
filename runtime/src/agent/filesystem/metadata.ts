// File metadata: the user.e2b.* extended attributes, prefix stripped (envd ≥ 0.6.2). Node has no
// xattr API, so a long-lived `e2b-ptyexec --fs-server` does the syscalls; requests are pipelined
// on its stdin and answered in order. Without the helper, files simply have no metadata.
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { log } from '../log';

export const METADATA_PREFIX = 'user.e2b.';
/** The kernel's xattr name limit (255) minus the prefix. */
export const MAX_METADATA_KEY = 255 - METADATA_PREFIX.length;
export const MAX_METADATA_TOTAL = 4096;

export type Metadata = Record<string, string>;

/** Why a metadata write did not happen. */
export type MetadataWriteResult = 'ok' | 'unsupported' | 'no-space';

const ENOSPC = 28;
const EDQUOT = 122;
const ENOTSUP = 95;
const ENOENT = 2;

/** Returns a message when the set would be refused (printable ASCII, sizes), else undefined. */
export function validateMetadata(metadata: Metadata): string | undefined {
  let total = 0;
  for (const [key, value] of Object.entries(metadata)) {
    if (!key) return 'metadata key must not be empty';
    if (Buffer.byteLength(key) > MAX_METADATA_KEY) return `metadata key "${key}" exceeds ${MAX_METADATA_KEY} bytes`;
    if (!/^[\x20-\x7e]*$/.test(key)) return `metadata key "${key}" contains non-printable-ASCII characters`;
    if (!/^[\x20-\x7e]*$/.test(value)) return `metadata value for key "${key}" contains non-printable-ASCII characters`;
    total += METADATA_PREFIX.length + key.length + value.length;
  }
  if (total > MAX_METADATA_TOTAL) return `total metadata size ${total} exceeds ${MAX_METADATA_TOTAL} bytes`;
  return undefined;
}

type Pending = { kind: 'get'; lines: string[]; resolve(value: Metadata | undefined): void } | { kind: 'set'; resolve(value: number): void };

export class MetadataStore {
  private child?: ChildProcessWithoutNullStreams;
  private pending: Pending[] = [];
  private partial = '';

  constructor(private readonly helperPath: string | undefined) {}

  get supported(): boolean {
    return this.helperPath !== undefined;
  }

  /** Metadata of each path (symlinks followed); undefined when it has none or cannot be read. */
  async read(paths: string[]): Promise<(Metadata | undefined)[]> {
    if (!this.helperPath || paths.length === 0) return paths.map(() => undefined);
    const child = this.ensureChild();
    const results = paths.map(
      (path) =>
        new Promise<Metadata | undefined>((resolve) => {
          this.pending.push({ kind: 'get', lines: [], resolve });
          child.stdin.write(`G\0${path}\0`);
        }),
    );
    return Promise.all(results);
  }

  /** Replaces the file's whole metadata set (an empty one clears it). */
  async write(path: string, metadata: Metadata): Promise<MetadataWriteResult> {
    if (!this.helperPath) return 'unsupported';
    const child = this.ensureChild();
    const entries = Object.entries(metadata);
    const errno = await new Promise<number>((resolve) => {
      this.pending.push({ kind: 'set', resolve });
      child.stdin.write(`S\0${path}\0${entries.length}\0${entries.map(([k, v]) => `${k}\0${v}\0`).join('')}`);
    });
    if (errno === 0) return 'ok';
    if (errno === ENOTSUP) return 'unsupported';
    if (errno === ENOSPC || errno === EDQUOT) return 'no-space';
    if (errno === ENOENT) throw new Error(`cannot write metadata of ${path}: it no longer exists`);
    throw new Error(`cannot write metadata of ${path}: errno ${errno}`);
  }

  private ensureChild(): ChildProcessWithoutNullStreams {
    if (this.child && this.child.exitCode === null && !this.child.killed) return this.child;
    const child = spawn(this.helperPath!, ['--fs-server'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.partial = '';
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (text: string) => this.onOutput(text));
    child.stderr.on('data', (chunk: Buffer) => log(`fs helper: ${chunk.toString().trim()}`));
    child.stdin.on('error', () => {});
    child.on('error', (err) => log(`fs helper failed: ${err.message}`));
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      // Whatever was asked of it is answered as "nothing there" / "failed".
      for (const p of this.pending.splice(0)) {
        if (p.kind === 'get') p.resolve(undefined);
        else p.resolve(-1);
      }
    });
    // Idle, it must not keep the agent alive (the agent's servers do that).
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    return child;
  }

  private onOutput(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const head = this.pending[0];
      if (!head) continue;
      if (head.kind === 'get') {
        if (line !== '.') {
          head.lines.push(line);
          continue;
        }
        this.pending.shift();
        head.resolve(parseMetadataLines(head.lines));
      } else {
        this.pending.shift();
        head.resolve(line === 'ok' ? 0 : Number(/^err (\d+)$/.exec(line)?.[1] ?? -1));
      }
    }
  }
}

function parseMetadataLines(lines: string[]): Metadata | undefined {
  let metadata: Metadata | undefined;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const line of lines) {
    const [keyHex, valueHex = ''] = line.split(' ');
    try {
      // Set from inside the sandbox (setfattr), a value may hold any bytes: skip what is not UTF-8.
      const key = utf8.decode(Buffer.from(keyHex, 'hex'));
      const value = utf8.decode(Buffer.from(valueHex, 'hex'));
      (metadata ??= {})[key] = value;
    } catch {
      // not UTF-8
    }
  }
  return metadata;
}
