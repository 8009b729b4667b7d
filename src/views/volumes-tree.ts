// The Volumes view: the team's volumes, each a folder to browse (files open in an editor through
// the e2b-volume: file system). When volumes cannot be listed the view says why in a row that
// retries when clicked, above the last list it had.
import * as vscode from 'vscode';
import { retryRow } from './retry-row';
import type { VolumeEntryStat } from 'e2b';
import { VolumeInfo, VolumeService } from '../connection/volume-service';
import { VolumeFileSystemProvider, volumeUri } from '../providers/volumes/volume-file-system';

export type VolumeNode =
  | { kind: 'volume'; volume: VolumeInfo }
  | { kind: 'entry'; volume: VolumeInfo; entry: VolumeEntryStat }
  | { kind: 'error'; message: string };

export class VolumesTreeProvider implements vscode.TreeDataProvider<VolumeNode> {
  private readonly changed = new vscode.EventEmitter<VolumeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private volumes: VolumeInfo[] = [];
  error?: string;

  constructor(
    private readonly service: VolumeService,
    private readonly files: VolumeFileSystemProvider,
  ) {}

  get items(): readonly VolumeInfo[] {
    return this.volumes;
  }

  async refresh(): Promise<void> {
    try {
      this.volumes = (await this.service.list()).sort((a, b) => a.name.localeCompare(b.name));
      this.error = undefined;
    } catch (err) {
      this.error = (err as Error).message;
    }
    this.changed.fire(undefined);
  }

  async getChildren(node?: VolumeNode): Promise<VolumeNode[]> {
    if (!node) {
      const volumes = this.volumes.map((volume): VolumeNode => ({ kind: 'volume', volume }));
      return this.error ? [{ kind: 'error', message: this.error }, ...volumes] : volumes;
    }
    if (node.kind === 'error') return [];
    if (node.kind === 'entry' && node.entry.type !== 'directory') return [];
    const path = node.kind === 'volume' ? '/' : node.entry.path;
    try {
      const entries = await this.files.entries(volumeUri(node.volume.volumeId, path));
      // Folders first, then by name, as in the Explorer.
      entries.sort((a, b) => Number(b.type === 'directory') - Number(a.type === 'directory') || a.name.localeCompare(b.name));
      return entries.map((entry) => ({ kind: 'entry', volume: node.volume, entry }));
    } catch (err) {
      return [{ kind: 'error', message: (err as Error).message }];
    }
  }

  /** For reveal: a row's parent (rows are told apart by id, so a parent folder needs only its path). */
  getParent(node: VolumeNode): VolumeNode | undefined {
    if (node.kind !== 'entry') return undefined;
    const slash = node.entry.path.lastIndexOf('/');
    if (slash <= 0) return { kind: 'volume', volume: node.volume };
    const path = node.entry.path.slice(0, slash);
    const epoch = new Date(0);
    return {
      kind: 'entry',
      volume: node.volume,
      entry: {
        name: path.slice(path.lastIndexOf('/') + 1),
        path,
        type: 'directory' as VolumeEntryStat['type'],
        size: 0,
        mode: 0,
        uid: 0,
        gid: 0,
        atime: epoch,
        mtime: epoch,
        ctime: epoch,
      },
    };
  }

  getTreeItem(node: VolumeNode): vscode.TreeItem {
    if (node.kind === 'error') {
      return retryRow(`Cannot list volumes: ${node.message}`, node.message, 'e2b.refreshVolumes', 'volumesError');
    }
    if (node.kind === 'volume') {
      const item = new vscode.TreeItem(node.volume.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `volume:${node.volume.volumeId}`;
      item.tooltip = `${node.volume.name}\n${node.volume.volumeId}\n\nMount it in a new sandbox from Create Sandbox (custom), or browse and edit its files here.`;
      item.iconPath = new vscode.ThemeIcon('database');
      item.resourceUri = volumeUri(node.volume.volumeId, '/');
      item.contextValue = 'volume';
      return item;
    }
    const { entry, volume } = node;
    const uri = volumeUri(volume.volumeId, entry.path);
    const isDir = entry.type === 'directory';
    const item = new vscode.TreeItem(uri, isDir ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `volume:${volume.volumeId}:${entry.path}`;
    item.label = entry.name;
    // A link is reported as what it resolves to, with that as its target (E2B's entries).
    item.description = entry.target ? `→ ${entry.target}` : isDir ? undefined : formatSize(entry.size);
    item.tooltip = `${entry.path}\n${entry.type}, ${formatSize(entry.size)}, mode ${entry.mode.toString(8)}, uid ${entry.uid}, modified ${entry.mtime.toLocaleString()}`;
    if (entry.type === 'file') item.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
    item.contextValue = isDir ? 'volumeFolder' : 'volumeFile';
    return item;
  }
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
