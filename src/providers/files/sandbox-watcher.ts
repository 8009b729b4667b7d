// vscode watch() → envd WatchDir streams (timeoutMs 0: the SDK's default would end them after a
// minute). One stream per watched directory, shared and reference-counted; events batched.
// A stream that breaks (network drop, runtime restart) is started again with back-off for as
// long as the sandbox exists; after a gap, the directory is reported changed so VS Code re-reads
// what it shows (events that happened meanwhile were not seen).
import * as vscode from 'vscode';
import type { FilesystemEvent, WatchHandle } from 'e2b';
import { backoffDelay } from '../../connection/backoff';
import { SandboxConnections } from '../../connection/sandbox-connections';
import { parentPath, sandboxUri } from './sandbox-uri';

const BATCH_MS = 5;

interface Stream {
  handle?: WatchHandle;
  users: number;
  stopped: boolean;
  failures: number;
  broken: boolean;
  retry?: ReturnType<typeof setTimeout>;
}

export class SandboxWatcher implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;
  private readonly streams = new Map<string, Stream>();
  private pending: vscode.FileChangeEvent[] = [];
  private flushTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly connections: SandboxConnections,
    /** Told about every change, so caches forget what changed. */
    private readonly onChange: (sandboxId: string, path: string, type: vscode.FileChangeType) => void,
    private readonly log: vscode.LogOutputChannel,
    /** Told when a broken stream is back: everything cached under `dir` may be stale. */
    private readonly onResync: (sandboxId: string, dir: string) => void = () => undefined,
  ) {}

  /**
   * Watches a directory (recursively or not), or a single file through its parent directory
   * (events for its siblings come along; VS Code ignores what it did not ask about).
   */
  watch(sandboxId: string, path: string, isDirectory: boolean, recursive: boolean): vscode.Disposable {
    const dir = isDirectory ? path : parentPath(path);
    const key = `${sandboxId}\0${dir}\0${recursive && isDirectory}`;
    let stream = this.streams.get(key);
    if (!stream) {
      stream = { users: 0, stopped: false, failures: 0, broken: false };
      this.streams.set(key, stream);
      void this.start(sandboxId, dir, recursive && isDirectory, stream, key);
    }
    stream.users++;
    return new vscode.Disposable(() => {
      if (--stream!.users > 0) return;
      stream!.stopped = true;
      if (stream!.retry) clearTimeout(stream!.retry);
      this.streams.delete(key);
      void stream!.handle?.stop().catch(() => undefined);
    });
  }

  /** How many watch streams are live, and how many are waiting to reconnect (for tests and logs). */
  get health(): { live: number; reconnecting: number } {
    const all = [...this.streams.values()];
    return { live: all.filter((s) => s.handle && !s.broken).length, reconnecting: all.filter((s) => s.broken).length };
  }

  private async start(sandboxId: string, dir: string, recursive: boolean, stream: Stream, key: string): Promise<void> {
    try {
      const sandbox = await this.connections.get(sandboxId);
      if (stream.stopped) return;
      stream.handle = await sandbox.files.watchDir(dir, (event) => this.onEvent(sandboxId, dir, event), {
        recursive,
        timeoutMs: 0,
        onExit: (err) => this.onStreamEnd(sandboxId, dir, recursive, stream, key, err),
      });
      if (stream.stopped) {
        void stream.handle.stop().catch(() => undefined);
        return;
      }
      stream.failures = 0;
      if (stream.broken) {
        stream.broken = false;
        this.log.info(`watch ${sandboxId}:${dir} resumed`);
        this.onResync(sandboxId, dir);
        this.queue({ type: vscode.FileChangeType.Changed, uri: sandboxUri(sandboxId, dir) });
      }
    } catch (err) {
      this.log.info(`watch ${sandboxId}:${dir} not started: ${(err as Error).message}`);
      // Never started: a missing directory or a gone sandbox, which VS Code's own calls report.
      // Broken before: keep trying while the sandbox may still be there.
      if (stream.broken) await this.retryLater(sandboxId, dir, recursive, stream, key);
    }
  }

  private onStreamEnd(sandboxId: string, dir: string, recursive: boolean, stream: Stream, key: string, err?: Error): void {
    if (stream.stopped) return;
    this.log.info(`watch ${sandboxId}:${dir} ended${err ? `: ${err.message}` : ''}; reconnecting`);
    stream.broken = true;
    stream.handle = undefined;
    void this.retryLater(sandboxId, dir, recursive, stream, key);
  }

  /** Starts the stream again after a back-off, unless the API says the sandbox is gone. */
  private async retryLater(sandboxId: string, dir: string, recursive: boolean, stream: Stream, key: string): Promise<void> {
    if (stream.stopped) return;
    if ((await this.connections.status(sandboxId)) === 'gone') {
      this.log.info(`watch ${sandboxId}:${dir} stopped: the sandbox is gone`);
      stream.broken = false;
      return;
    }
    const delay = backoffDelay(stream.failures++, { baseMs: 500, maxMs: 15_000 });
    stream.retry = setTimeout(() => {
      stream.retry = undefined;
      if (!stream.stopped) void this.start(sandboxId, dir, recursive, stream, key);
    }, delay);
  }

  private onEvent(sandboxId: string, dir: string, event: FilesystemEvent): void {
    const path = `${dir.replace(/\/+$/, '')}/${event.name}`;
    const type =
      event.type === 'create'
        ? vscode.FileChangeType.Created
        : event.type === 'remove' || event.type === 'rename'
          ? vscode.FileChangeType.Deleted
          : vscode.FileChangeType.Changed;
    this.onChange(sandboxId, path, type);
    this.queue({ type, uri: sandboxUri(sandboxId, path) });
  }

  private queue(event: vscode.FileChangeEvent): void {
    this.pending.push(event);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        const batch = this.pending;
        this.pending = [];
        this.emitter.fire(batch);
      }, BATCH_MS);
    }
  }

  dispose(): void {
    for (const stream of this.streams.values()) {
      stream.stopped = true;
      if (stream.retry) clearTimeout(stream.retry);
      void stream.handle?.stop().catch(() => undefined);
    }
    this.streams.clear();
    this.emitter.dispose();
  }
}
