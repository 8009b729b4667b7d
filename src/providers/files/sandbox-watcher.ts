// vscode watch() → envd WatchDir streams (timeoutMs 0: the SDK's default would end them after a
// minute). One stream per watched directory, shared and reference-counted; events batched.
import * as vscode from 'vscode';
import type { FilesystemEvent, WatchHandle } from 'e2b';
import { SandboxConnections } from '../../connection/sandbox-connections';
import { parentPath, sandboxUri } from './sandbox-uri';

const BATCH_MS = 5;
const MAX_RESTARTS = 3;

interface Stream { handle?: WatchHandle; users: number; stopped: boolean; restarts: number }

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
      stream = { users: 0, stopped: false, restarts: 0 };
      this.streams.set(key, stream);
      void this.start(sandboxId, dir, recursive && isDirectory, stream, key);
    }
    stream.users++;
    return new vscode.Disposable(() => {
      if (--stream!.users > 0) return;
      stream!.stopped = true;
      this.streams.delete(key);
      void stream!.handle?.stop();
    });
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
      if (stream.stopped) void stream.handle.stop();
    } catch (err) {
      // No watch for a missing directory or a sandbox that is gone: VS Code's own calls report those.
      this.log.info(`watch ${sandboxId}:${dir} not started: ${(err as Error).message}`);
    }
  }

  private onStreamEnd(sandboxId: string, dir: string, recursive: boolean, stream: Stream, key: string, err?: Error): void {
    if (stream.stopped) return;
    this.log.info(`watch ${sandboxId}:${dir} ended${err ? `: ${err.message}` : ''}`);
    if (stream.restarts >= MAX_RESTARTS) return;
    stream.restarts++;
    // A dropped connection reconnects a few times with back-off; a killed sandbox fails to reconnect and stops.
    setTimeout(() => { if (!stream.stopped) void this.start(sandboxId, dir, recursive, stream, key); }, 1000 * 2 ** stream.restarts);
  }

  private onEvent(sandboxId: string, dir: string, event: FilesystemEvent): void {
    const path = `${dir.replace(/\/+$/, '')}/${event.name}`;
    const type = event.type === 'create' ? vscode.FileChangeType.Created
      : event.type === 'remove' || event.type === 'rename' ? vscode.FileChangeType.Deleted
        : vscode.FileChangeType.Changed;
    this.onChange(sandboxId, path, type);
    this.pending.push({ type, uri: sandboxUri(sandboxId, path) });
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
      void stream.handle?.stop();
    }
    this.streams.clear();
    this.emitter.dispose();
  }
}
