// One directory watch: an `e2b-ptyexec --watch` child turning inotify into fsnotify-style events
// (Node's fs.watch only says "rename" or "change", and its recursive mode on Linux watches every
// file separately). Its records are NUL-terminated: "S" (ready), "<ops>:<path>", "E<message>".
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

export const OP_CREATE = 1;
export const OP_WRITE = 2;
export const OP_REMOVE = 4;
export const OP_RENAME = 8;
export const OP_CHMOD = 16;

export interface RawFsEvent {
  /** OP_* bits: one inotify event can carry several. */
  ops: number;
  /** Absolute path of the entry the event is about. */
  path: string;
}

export interface WatchListener {
  event(event: RawFsEvent): void;
  /** Called once if the watch breaks (queue overflow, helper died); the watcher is closed then. */
  error(err: Error): void;
}

export class DirWatcher {
  private closed = false;
  private readonly pauses = new Set<string>();
  private listener?: WatchListener;
  // What arrived between "ready" and deliverTo(): the caller sends its own start message first.
  private readonly early: RawFsEvent[] = [];
  private earlyError?: Error;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {}

  /** Starts handing events (first those that came since start() resolved) to the listener. */
  deliverTo(listener: WatchListener): void {
    this.listener = listener;
    for (const event of this.early.splice(0)) listener.event(event);
    if (this.earlyError) listener.error(this.earlyError);
  }

  private emit(event: RawFsEvent): void {
    if (this.listener) this.listener.event(event);
    else this.early.push(event);
  }

  private broke(err: Error): void {
    if (this.listener) this.listener.error(err);
    else this.earlyError = err;
  }

  /** Resolves once the watches are in place: every change after that is reported. */
  static start(helperPath: string, dir: string, recursive: boolean): Promise<DirWatcher> {
    const child = spawn(helperPath, ['--watch', ...(recursive ? ['--recursive'] : []), dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const watcher = new DirWatcher(child);
    return new Promise((resolve, reject) => {
      let started = false;
      let failed = false;
      let stderr = '';
      let pending: Buffer = Buffer.alloc(0);
      const fail = (err: Error) => {
        if (failed || watcher.closed) return;
        failed = true;
        watcher.close();
        if (started) watcher.broke(err);
        else reject(err);
      };
      child.stdin.on('error', () => {});
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      child.on('error', (err) => fail(new Error(`cannot start the watcher: ${err.message}`)));
      child.on('exit', (code, signal) => {
        if (!watcher.closed) fail(new Error(`the watcher stopped (${signal ?? `exit ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`));
      });
      child.stdout.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        let start = 0;
        for (let end = pending.indexOf(0, start); end >= 0; end = pending.indexOf(0, start)) {
          const record = pending.toString('utf8', start, end);
          start = end + 1;
          if (watcher.closed) return;
          if (record === 'S') {
            started = true;
            resolve(watcher);
          } else if (record.startsWith('E')) {
            fail(new Error(record.slice(1)));
            return;
          } else {
            const colon = record.indexOf(':');
            if (colon > 0) watcher.emit({ ops: Number(record.slice(0, colon)), path: record.slice(colon + 1) });
          }
        }
        pending = pending.subarray(start);
      });
    });
  }

  /** Stops reading events (the helper blocks, inotify queues) until every reason is resumed. */
  pause(reason: string): void {
    this.pauses.add(reason);
    this.child.stdout.pause();
  }

  resume(reason: string): void {
    this.pauses.delete(reason);
    if (this.pauses.size === 0 && !this.closed) this.child.stdout.resume();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.child.stdin.end();
    this.child.kill('SIGKILL');
  }
}
