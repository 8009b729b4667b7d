// The e2b: file system: a sandbox's files as a VS Code FileSystemProvider. Bytes end to end
// (binary files survive), real mtimes and sizes (no false "file is newer" conflicts), typed
// errors, live changes through envd watches.
import * as vscode from 'vscode';
import type { EntryInfo, Sandbox } from 'e2b';
import { SandboxConnections } from '../../connection/sandbox-connections';
import { DirectoryCache } from './directory-cache';
import { directFiles } from './envd-file-http';
import { toFileSystemError } from './file-errors';
import { baseName, parentPath, parseSandboxUri, sandboxUri } from './sandbox-uri';
import { SandboxWatcher } from './sandbox-watcher';
import { UnsavedEditsRescue } from './unsaved-rescue';
import { shellQuote } from '../../../runtime/src/shell-quote';

export class SandboxFileSystemProvider implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly cache = new DirectoryCache();
  private readonly watcher: SandboxWatcher;
  private readonly ownChanges = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile: vscode.Event<vscode.FileChangeEvent[]>;
  /** Offers to save edits elsewhere when a save fails because the sandbox is gone. */
  readonly rescue = new UnsavedEditsRescue();

  constructor(
    private readonly connections: SandboxConnections,
    log: vscode.LogOutputChannel,
  ) {
    this.watcher = new SandboxWatcher(
      connections,
      (sandboxId, path, type) => {
        this.cache.invalidate(sandboxId, parentPath(path));
        if (type === vscode.FileChangeType.Deleted) this.cache.invalidateTree(sandboxId, path);
      },
      log,
      (sandboxId, dir) => this.cache.invalidateTree(sandboxId, dir),
    );
    this.onDidChangeFile = (listener, thisArgs, disposables) => {
      const a = this.watcher.onDidChangeFile(listener, thisArgs);
      const b = this.ownChanges.event(listener, thisArgs);
      const both = vscode.Disposable.from(a, b);
      disposables?.push(both);
      return both;
    };
  }

  watch(uri: vscode.Uri, options: { recursive: boolean; excludes: readonly string[] }): vscode.Disposable {
    const { sandboxId, path } = parseSandboxUri(uri);
    let watching: vscode.Disposable | undefined;
    let disposed = false;
    this.stat(uri).then(
      (stat) => {
        if (!disposed) watching = this.watcher.watch(sandboxId, path, (stat.type & vscode.FileType.Directory) !== 0, options.recursive);
      },
      () => undefined,
    );
    return new vscode.Disposable(() => {
      disposed = true;
      watching?.dispose();
    });
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    try {
      return toFileStat(await this.entry(uri));
    } catch (err) {
      throw await this.explainFailure(uri, err, false);
    }
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const { sandboxId, path } = parseSandboxUri(uri);
    const entries = await this.list(uri, sandboxId, path);
    return entries.map((e) => [e.name, toFileStat(e).type]);
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { path } = parseSandboxUri(uri);
    return this.withSandbox(uri, async (sandbox) => {
      // The bytes are asked for beside the check, not after it (one round trip less); a
      // directory's read just fails, unread, while the check answers.
      const bytes = directFiles(sandbox)?.read(path) ?? sandbox.files.read(path, { format: 'bytes' });
      bytes.catch(() => undefined);
      const entry = await this.entry(uri);
      if (entry.type === 'dir') throw vscode.FileSystemError.FileIsADirectory(uri);
      return bytes;
    });
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<void> {
    try {
      await this.write(uri, content, options);
    } catch (err) {
      throw await this.explainFailure(uri, err, true);
    }
  }

  /**
   * A save failed (VS Code keeps the document dirty), or a file with unsaved edits could not be
   * stat'ed (VS Code stats before it saves): if that is because the sandbox is gone, say so
   * plainly and offer to keep the edits somewhere else. A gone sandbox can also look like
   * "file not found", so the API is asked rather than the error read.
   */
  private async explainFailure(uri: vscode.Uri, err: unknown, saving: boolean): Promise<unknown> {
    if (!saving && !vscode.workspace.textDocuments.some((d) => d.isDirty && d.uri.toString() === uri.toString())) return err;
    const { sandboxId } = parseSandboxUri(uri);
    if ((await this.connections.status(sandboxId)) !== 'gone') return err;
    this.forgetSandbox(sandboxId);
    this.rescue.offer(uri);
    return vscode.FileSystemError.Unavailable(
      `Sandbox ${sandboxId} is gone (killed or timed out): ${uri.path} cannot be saved there. Your edits are kept; use "Save As…" to save them elsewhere.`,
    );
  }

  private async write(uri: vscode.Uri, content: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<void> {
    const { sandboxId, path } = parseSandboxUri(uri);
    await this.withSandbox(uri, async (sandbox) => {
      const existing = await this.tryEntry(uri);
      if (!existing && !options.create) throw vscode.FileSystemError.FileNotFound(uri);
      if (existing && !options.overwrite) throw vscode.FileSystemError.FileExists(uri);
      if (existing?.type === 'dir') throw vscode.FileSystemError.FileIsADirectory(uri);
      if (!existing) await this.requireDirectory(sandboxUri(sandboxId, parentPath(path)));
      // Sent as the raw body (octet-stream), not multipart form data that both ends must frame
      // and scan; written before this returns, so VS Code reusing its buffer afterwards is
      // harmless. The SDK (with a Blob: it copies the bytes) where the direct request cannot be
      // the SDK's own; it falls back to multipart where the sandbox's envd is too old for raw.
      const direct = directFiles(sandbox);
      if (direct) await direct.write(path, content);
      else await sandbox.files.write(path, new Blob([content as Uint8Array<ArrayBuffer>]), { useOctetStream: true });
      this.changed(sandboxId, path, existing ? vscode.FileChangeType.Changed : vscode.FileChangeType.Created);
    });
  }

  async createDirectory(uri: vscode.Uri): Promise<void> {
    const { sandboxId, path } = parseSandboxUri(uri);
    await this.withSandbox(uri, async (sandbox) => {
      if (await this.tryEntry(uri)) throw vscode.FileSystemError.FileExists(uri);
      await this.requireDirectory(sandboxUri(sandboxId, parentPath(path)));
      await sandbox.files.makeDir(path);
      this.changed(sandboxId, path, vscode.FileChangeType.Created);
    });
  }

  async delete(uri: vscode.Uri, options: { recursive: boolean }): Promise<void> {
    const { sandboxId, path } = parseSandboxUri(uri);
    await this.withSandbox(uri, async (sandbox) => {
      const entry = await this.entry(uri);
      if (entry.type === 'dir' && !options.recursive && (await sandbox.files.list(path)).length > 0) {
        throw vscode.FileSystemError.NoPermissions(`${path} is not empty`);
      }
      await sandbox.files.remove(path);
      this.changed(sandboxId, path, vscode.FileChangeType.Deleted);
    });
  }

  async rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    const from = parseSandboxUri(oldUri);
    const to = parseSandboxUri(newUri);
    if (from.sandboxId !== to.sandboxId)
      throw vscode.FileSystemError.NoPermissions('Moving files between sandboxes is not supported: copy them instead.');
    await this.withSandbox(oldUri, async (sandbox) => {
      await this.clearTarget(sandbox, oldUri, newUri, options.overwrite);
      await sandbox.files.rename(from.path, to.path);
      this.changed(from.sandboxId, from.path, vscode.FileChangeType.Deleted);
      this.changed(to.sandboxId, to.path, vscode.FileChangeType.Created);
    });
  }

  async copy(source: vscode.Uri, destination: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    const from = parseSandboxUri(source);
    const to = parseSandboxUri(destination);
    if (from.sandboxId !== to.sandboxId)
      throw vscode.FileSystemError.NoPermissions('Copying between sandboxes goes through VS Code (read and write).');
    await this.withSandbox(source, async (sandbox) => {
      await this.clearTarget(sandbox, source, destination, options.overwrite);
      await sandbox.commands.run(`cp -a -- ${shellQuote(from.path)} ${shellQuote(to.path)}`);
      this.changed(to.sandboxId, to.path, vscode.FileChangeType.Created);
    });
  }

  /** Something outside VS Code's own file calls (an upload) changed a directory. */
  notifyChanged(sandboxId: string, dir: string): void {
    this.cache.invalidate(sandboxId, dir);
    this.ownChanges.fire([{ type: vscode.FileChangeType.Changed, uri: sandboxUri(sandboxId, dir) }]);
  }

  /** Rename and copy: the source must exist; an existing target goes only when overwriting. */
  private async clearTarget(sandbox: Sandbox, source: vscode.Uri, target: vscode.Uri, overwrite: boolean): Promise<void> {
    await this.entry(source);
    if (!(await this.tryEntry(target))) return;
    if (!overwrite) throw vscode.FileSystemError.FileExists(target);
    await sandbox.files.remove(parseSandboxUri(target).path);
  }

  /** Live and reconnecting watch streams (a dropped connection shows as reconnecting). */
  get watchHealth(): { live: number; reconnecting: number } {
    return this.watcher.health;
  }

  /** Forget everything about a sandbox (it was killed). */
  forgetSandbox(sandboxId: string): void {
    this.cache.forgetSandbox(sandboxId);
    this.connections.forget(sandboxId);
  }

  private async entry(uri: vscode.Uri): Promise<EntryInfo> {
    const found = await this.tryEntry(uri);
    if (!found) throw vscode.FileSystemError.FileNotFound(uri);
    return found;
  }

  /** A path's entry from its parent's cached listing, or from the sandbox; undefined if missing. */
  private async tryEntry(uri: vscode.Uri): Promise<EntryInfo | undefined> {
    const { sandboxId, path } = parseSandboxUri(uri);
    if (path === '/')
      return {
        name: '/',
        type: 'dir',
        path: '/',
        size: 0,
        mode: 0o755,
        permissions: 'drwxr-xr-x',
        owner: 'root',
        group: 'root',
      } as EntryInfo;
    const listing = this.cache.get(sandboxId, parentPath(path));
    if (listing) return listing.find((e) => e.name === baseName(path));
    return this.withSandbox(uri, async (sandbox) => {
      try {
        return await sandbox.files.getInfo(path);
      } catch (err) {
        if ((err as Error).name === 'FileNotFoundError' || (err as Error).name === 'NotFoundError') return undefined;
        throw err;
      }
    });
  }

  private async list(uri: vscode.Uri, sandboxId: string, path: string): Promise<EntryInfo[]> {
    const cached = this.cache.get(sandboxId, path);
    if (cached) return cached;
    return this.withSandbox(uri, async (sandbox) => {
      const entries = await sandbox.files.list(path);
      this.cache.set(sandboxId, path, entries);
      return entries;
    });
  }

  private async requireDirectory(uri: vscode.Uri): Promise<void> {
    const parent = await this.tryEntry(uri);
    if (!parent) throw vscode.FileSystemError.FileNotFound(uri);
    if (parent.type !== 'dir') throw vscode.FileSystemError.FileNotADirectory(uri);
  }

  private changed(sandboxId: string, path: string, type: vscode.FileChangeType): void {
    this.cache.invalidate(sandboxId, parentPath(path));
    if (type === vscode.FileChangeType.Deleted) this.cache.invalidateTree(sandboxId, path);
    this.ownChanges.fire([
      { type, uri: sandboxUri(sandboxId, path) },
      { type: vscode.FileChangeType.Changed, uri: sandboxUri(sandboxId, parentPath(path)) },
    ]);
  }

  private async withSandbox<T>(uri: vscode.Uri, action: (sandbox: Sandbox) => Promise<T>): Promise<T> {
    try {
      return await action(await this.connections.get(uri.authority));
    } catch (err) {
      throw toFileSystemError(err, uri);
    }
  }

  dispose(): void {
    this.rescue.dispose();
    this.watcher.dispose();
    this.ownChanges.dispose();
  }
}

function toFileStat(entry: EntryInfo): vscode.FileStat {
  let type = entry.type === 'dir' ? vscode.FileType.Directory : entry.type === 'file' ? vscode.FileType.File : vscode.FileType.Unknown;
  if (entry.symlinkTarget) type |= vscode.FileType.SymbolicLink;
  const mtime = entry.modifiedTime ? entry.modifiedTime.getTime() : 0;
  return { type, ctime: mtime, mtime, size: entry.size };
}
