// The "Files" branch under a running sandbox in the Sandbox Explorer: its home directory, read
// lazily through the e2b: file system (its cache, errors and paused-sandbox refusal), so browsing
// a sandbox never touches the workspace (no reload) and never resumes a paused one.
import * as vscode from 'vscode';
import { baseName, parentPath, sandboxUri } from '../providers/files/sandbox-uri';

/** Where a sandbox's files start (templates' default workdir; the SDK does not report another). */
export const SANDBOX_HOME = '/home/user';

export type SandboxFilesNode =
  /** The collapsed "Files" row under a sandbox: its home directory. */
  { kind: 'files'; sandboxId: string; path: string } | { kind: 'file'; sandboxId: string; path: string; directory: boolean };

type MessageNode = { kind: 'message'; text: string };

/** Names in the order VS Code's explorer shows them: case aside, numbers by value. */
const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** The e2b: Uri of a Files-tree node, so file commands take a tree row like an explorer resource. */
export function filesNodeUri(arg: unknown): vscode.Uri | undefined {
  const node = arg as Partial<SandboxFilesNode> | undefined;
  if ((node?.kind === 'files' || node?.kind === 'file') && node.sandboxId && node.path) return sandboxUri(node.sandboxId, node.path);
  return undefined;
}

export class SandboxFilesNodes implements vscode.Disposable {
  /** Folder nodes handed out, by sandbox and path: the same object each time, so one can be redrawn. */
  private readonly folders = new Map<string, SandboxFilesNode>();
  private readonly subscription?: vscode.Disposable;

  constructor(redraw: (node: SandboxFilesNode) => void, fileChanges?: vscode.Event<vscode.FileChangeEvent[]>) {
    // A save, an upload or a watched change: redraw the folders it touched (if shown).
    this.subscription = fileChanges?.((events) => {
      const touched = new Set<SandboxFilesNode>();
      for (const { uri } of events) {
        for (const path of [uri.path, parentPath(uri.path)]) {
          const node = this.folders.get(key(uri.authority, path));
          if (node) touched.add(node);
        }
      }
      touched.forEach(redraw);
    });
  }

  /** The "Files" row of a running sandbox. */
  root(sandboxId: string): SandboxFilesNode {
    return this.folder(sandboxId, SANDBOX_HOME, 'files');
  }

  /** A directory's entries, directories first, then files, each by name; a failure as one message. */
  async children(node: SandboxFilesNode): Promise<(SandboxFilesNode | MessageNode)[]> {
    let entries: [string, vscode.FileType][];
    try {
      entries = await vscode.workspace.fs.readDirectory(sandboxUri(node.sandboxId, node.path));
    } catch (err) {
      return [{ kind: 'message', text: readFailure(node.path, err) }];
    }
    if (entries.length === 0) return [{ kind: 'message', text: 'Empty folder' }];
    const isDir = (type: vscode.FileType) => (type & vscode.FileType.Directory) !== 0;
    entries.sort(([a, at], [b, bt]) => Number(isDir(bt)) - Number(isDir(at)) || byName.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0));
    const join = (name: string) => (node.path === '/' ? `/${name}` : `${node.path}/${name}`);
    return entries.map(([name, type]) =>
      isDir(type)
        ? this.folder(node.sandboxId, join(name), 'file')
        : { kind: 'file', sandboxId: node.sandboxId, path: join(name), directory: false },
    );
  }

  treeItem(node: SandboxFilesNode): vscode.TreeItem {
    const uri = sandboxUri(node.sandboxId, node.path);
    if (node.kind === 'files') {
      const item = new vscode.TreeItem('Files', vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `files:${node.sandboxId}`;
      item.description = node.path;
      item.tooltip = `${node.path} in ${node.sandboxId}, read in place (the workspace is not changed)`;
      item.iconPath = new vscode.ThemeIcon('files');
      item.contextValue = 'sandboxFolder';
      return item;
    }
    const item = new vscode.TreeItem(
      uri,
      node.directory ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = `file:${node.sandboxId}:${node.path}`;
    item.label = baseName(node.path);
    item.tooltip = node.path;
    // Icons from the file icon theme, by name.
    item.iconPath = node.directory ? vscode.ThemeIcon.Folder : vscode.ThemeIcon.File;
    item.contextValue = node.directory ? 'sandboxFolder' : 'sandboxFile';
    if (!node.directory) item.command = { command: 'vscode.open', title: 'Open File', arguments: [uri] };
    return item;
  }

  /** Forget a sandbox's folders (it was killed). */
  forgetSandbox(sandboxId: string): void {
    for (const k of [...this.folders.keys()]) if (k.startsWith(`${sandboxId}:`)) this.folders.delete(k);
  }

  private folder(sandboxId: string, path: string, kind: 'files' | 'file'): SandboxFilesNode {
    const k = key(sandboxId, path);
    const known = this.folders.get(k);
    if (known?.kind === kind) return known;
    const node: SandboxFilesNode = kind === 'files' ? { kind, sandboxId, path } : { kind, sandboxId, path, directory: true };
    this.folders.set(k, node);
    return node;
  }

  dispose(): void {
    this.subscription?.dispose();
  }
}

function key(sandboxId: string, path: string): string {
  return `${sandboxId}:${path}`;
}

/** What a failed listing means to the user, with what to do about it where there is something. */
function readFailure(path: string, err: unknown): string {
  const code = (err as { code?: string })?.code;
  if (code === 'FileNotFound') return `${path} does not exist in the sandbox`;
  if (code === 'FileNotADirectory') return `${path} is not a folder`;
  if (code === 'NoPermissions') return `No permission to read ${path}`;
  const message = err instanceof Error ? err.message : String(err);
  if (/paused/i.test(message)) return 'The sandbox is paused: resume it to browse its files';
  return `Cannot read ${path}: ${message}`;
}
