// The e2b-volume: file system: a volume's files (e2b-volume://<volumeId>/<path>) as a VS Code
// FileSystemProvider, through the volume content API. Bytes end to end, the volume's real mtimes
// and sizes, typed errors. The content API has no watch: changes made from this window are
// reported, changes made inside sandboxes show on the next read or refresh.
import * as vscode from 'vscode';
import type { VolumeEntryStat } from 'e2b';
import { VolumeFiles, VolumeService } from '../../connection/volume-service';

export const VOLUME_SCHEME = 'e2b-volume';

export function volumeUri(volumeId: string, path = '/'): vscode.Uri {
  return vscode.Uri.from({ scheme: VOLUME_SCHEME, authority: volumeId, path: path.startsWith('/') ? path : `/${path}` });
}

export function parseVolumeUri(uri: vscode.Uri): { volumeId: string; path: string } {
  if (uri.scheme !== VOLUME_SCHEME || !/^[0-9a-f-]+$/i.test(uri.authority)) throw vscode.FileSystemError.FileNotFound(uri);
  return { volumeId: uri.authority, path: uri.path || '/' };
}

function parentOf(path: string): string {
  const slash = path.replace(/\/+$/, '').lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

export class VolumeFileSystemProvider implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changes = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changes.event;

  constructor(private readonly volumes: VolumeService) {}

  dispose(): void {
    this.changes.dispose();
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    return this.withFiles(uri, async (files, path) => toFileStat(await files.stat(path)));
  }

  /** Entries of a directory; a link shows as what it resolves to inside the volume. */
  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    return this.withFiles(uri, async (files, path) => (await files.list(path)).map((e) => [e.name, toFileStat(e).type]));
  }

  /** The entries with their details, for the Volumes view. */
  async entries(uri: vscode.Uri): Promise<VolumeEntryStat[]> {
    return this.withFiles(uri, (files, path) => files.list(path));
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.withFiles(uri, (files, path) => files.read(path));
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<void> {
    await this.withFiles(uri, async (files, path) => {
      const existing = await files.stat(path).catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
      if (!existing && !options.create) throw vscode.FileSystemError.FileNotFound(uri);
      if (existing && !options.overwrite) throw vscode.FileSystemError.FileExists(uri);
      if (existing?.type === 'directory') throw vscode.FileSystemError.FileIsADirectory(uri);
      await files.write(path, content, !!existing);
      this.fire(uri, existing ? vscode.FileChangeType.Changed : vscode.FileChangeType.Created);
    });
  }

  async createDirectory(uri: vscode.Uri): Promise<void> {
    await this.withFiles(uri, async (files, path) => {
      const existing = await files.stat(path).catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
      if (existing) throw vscode.FileSystemError.FileExists(uri);
      const parent = await files.stat(parentOf(path));
      if (parent.type !== 'directory') throw vscode.FileSystemError.FileNotADirectory(uri.with({ path: parentOf(path) }));
      await files.makeDir(path);
      this.fire(uri, vscode.FileChangeType.Created);
    });
  }

  async delete(uri: vscode.Uri): Promise<void> {
    await this.withFiles(uri, async (files, path) => {
      if (path === '/')
        throw vscode.FileSystemError.NoPermissions(
          'The root of a volume cannot be deleted: delete the volume from the Volumes view instead.',
        );
      await files.remove(path);
      this.fire(uri, vscode.FileChangeType.Deleted);
    });
  }

  /** The content API cannot move: a file is copied and removed; a folder is refused. */
  async rename(from: vscode.Uri, to: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    const stat = await this.stat(from);
    if (stat.type & vscode.FileType.Directory)
      throw vscode.FileSystemError.NoPermissions(
        "Volumes cannot rename folders (E2B's volume API has no move): rename it inside a sandbox that mounts the volume.",
      );
    await this.writeFile(to, await this.readFile(from), { create: true, overwrite: options.overwrite });
    await this.delete(from);
  }

  private fire(uri: vscode.Uri, type: vscode.FileChangeType): void {
    this.changes.fire([
      { uri, type },
      { uri: uri.with({ path: parentOf(uri.path) }), type: vscode.FileChangeType.Changed },
    ]);
  }

  private async withFiles<T>(uri: vscode.Uri, action: (files: VolumeFiles, path: string) => Promise<T>): Promise<T> {
    const { volumeId, path } = parseVolumeUri(uri);
    try {
      return await action(await this.volumes.files(volumeId), path);
    } catch (err) {
      throw toVolumeFileError(err, uri);
    }
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { name?: string })?.name === 'VolumePathNotFoundError';
}

function toFileStat(entry: VolumeEntryStat): vscode.FileStat {
  const kind =
    entry.type === 'directory' ? vscode.FileType.Directory : entry.type === 'file' ? vscode.FileType.File : vscode.FileType.Unknown;
  // A link comes typed as what it resolves to, with a target.
  const type = entry.target !== undefined || entry.type === 'symlink' ? kind | vscode.FileType.SymbolicLink : kind;
  return { type, size: entry.size, mtime: entry.mtime.getTime(), ctime: entry.ctime.getTime() };
}

/** The SDK's volume errors as the FileSystemErrors VS Code words for the user. */
function toVolumeFileError(err: unknown, uri: vscode.Uri): Error {
  if (err instanceof vscode.FileSystemError) return err;
  const name = (err as { name?: string })?.name ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'VolumePathNotFoundError') return vscode.FileSystemError.FileNotFound(uri);
  if (/^409:/.test(message)) return vscode.FileSystemError.FileExists(uri);
  if (/must be a directory/.test(message)) return vscode.FileSystemError.FileNotADirectory(uri);
  if (/is a directory/.test(message)) return vscode.FileSystemError.FileIsADirectory(uri);
  if (name === 'AuthenticationError' || /^403:/.test(message)) return vscode.FileSystemError.NoPermissions(uri);
  if (/^507:/.test(message))
    return vscode.FileSystemError.NoPermissions(`The volume is full: delete files from it to make room (${uri.path}).`);
  return vscode.FileSystemError.Unavailable(`Volume ${uri.authority}: ${message.replace(/^\d{3}: /, '')}`);
}
