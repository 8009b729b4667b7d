// The Files branch of the Sandbox Explorer inside a real extension host: a sandbox's files listed,
// opened, downloaded and uploaded from the tree, read through the e2b: file system, against the
// local runtime (real containers), checked from the other side with the official SDK.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { Services } from '../../src/commands/services';
import type { ExplorerNode } from '../../src/views/sandbox-tree';
import { closeAllEditorsWithoutSaving, extensionApi, sandboxRow, sdkOptions, waitFor } from './helpers';

type FileNode = Extract<ExplorerNode, { kind: 'file' }>;

describe('Sandbox Explorer Files tree', () => {
  let services: Services;
  let sandbox: Sandbox;
  const created: string[] = [];
  const local = mkdtempSync(join(tmpdir(), 'e2b-files-tree-'));

  const sandboxNode = (sandboxId: string) => sandboxRow(services, sandboxId);

  async function filesNode(sandboxId: string): Promise<Extract<ExplorerNode, { kind: 'files' }>> {
    const files = (await services.tree.getChildren(await sandboxNode(sandboxId))).find((n) => n.kind === 'files');
    assert.ok(files?.kind === 'files', 'a running sandbox has a Files child');
    return files;
  }

  const labels = (nodes: ExplorerNode[]) =>
    nodes.map((n) => (n.kind === 'message' ? `message: ${n.text}` : String(services.tree.getTreeItem(n).label)));
  const child = async (parent: ExplorerNode, name: string) => {
    const found = (await services.tree.getChildren(parent)).find((n): n is FileNode => n.kind === 'file' && n.path.endsWith(`/${name}`));
    assert.ok(found, `${name} is listed`);
    return found;
  };

  before(async () => {
    services = (await extensionApi()).services;
    sandbox = await Sandbox.create({ ...(await sdkOptions()), metadata: { suite: 'files-tree' } });
    created.push(sandbox.sandboxId);
    await sandbox.files.write([
      { path: '/home/user/zeta.txt', data: 'last by name\n' },
      { path: '/home/user/alpha.py', data: 'print("alpha")\n' },
      { path: '/home/user/file10.txt', data: '10\n' },
      { path: '/home/user/file2.txt', data: '2\n' },
      { path: '/home/user/Beta.md', data: '# beta\n' },
      { path: '/home/user/b-dir/inner.txt', data: 'inside b-dir\n' },
    ]);
    await sandbox.files.makeDir('/home/user/a-dir');
  });

  after(async () => {
    await closeAllEditorsWithoutSaving();
    const opts = await sdkOptions().catch(() => undefined);
    if (opts) await Promise.all(created.map((id) => Sandbox.kill(id, opts).catch(() => false)));
  });

  it('offers a collapsed Files row under a running sandbox, at its home directory', async () => {
    const files = await filesNode(sandbox.sandboxId);
    const item = services.tree.getTreeItem(files);
    assert.equal(item.label, 'Files');
    assert.equal(item.description, '/home/user');
    assert.equal(item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    assert.equal(item.contextValue, 'sandboxFolder');
    // Its snapshots, then the running commands are still listed after it.
    const rest = (await services.tree.getChildren(await sandboxNode(sandbox.sandboxId))).slice(1).filter((n) => n.kind !== 'snapshots');
    assert.ok(
      rest.length > 0 && rest.every((n) => n.kind === 'process' || (n.kind === 'message' && n.text === 'No running commands')),
      labels(rest).join(', '),
    );
  });

  it('lists the home directory, folders first, then files, each by name', async () => {
    const entries = (await services.tree.getChildren(await filesNode(sandbox.sandboxId))).filter((n): n is FileNode => n.kind === 'file');
    const names = entries.map((n) => String(services.tree.getTreeItem(n).label));
    for (const name of ['a-dir', 'b-dir', 'alpha.py', 'zeta.txt']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    const dirs = entries.filter((n) => n.directory).map((n) => String(services.tree.getTreeItem(n).label));
    const files = entries.filter((n) => !n.directory).map((n) => String(services.tree.getTreeItem(n).label));
    assert.deepEqual(names, [...dirs, ...files], 'folders come first');
    // By name as VS Code's explorer sorts: case aside, numbers by value.
    assert.deepEqual(
      dirs.filter((n) => !n.startsWith('.')),
      ['a-dir', 'b-dir'],
    );
    assert.deepEqual(
      files.filter((n) => !n.startsWith('.')),
      ['alpha.py', 'Beta.md', 'file2.txt', 'file10.txt', 'zeta.txt'],
    );

    const folder = services.tree.getTreeItem(entries.find((n) => n.path === '/home/user/b-dir')!);
    assert.equal(folder.contextValue, 'sandboxFolder');
    assert.equal(folder.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    assert.equal(folder.resourceUri?.toString(), `e2b://${sandbox.sandboxId}/home/user/b-dir`);
    assert.equal(folder.command, undefined, 'a folder expands, it does not open');
    const file = services.tree.getTreeItem(entries.find((n) => n.path === '/home/user/alpha.py')!);
    assert.equal(file.contextValue, 'sandboxFile');
    assert.equal(file.collapsibleState, vscode.TreeItemCollapsibleState.None);
    assert.equal(file.resourceUri?.toString(), `e2b://${sandbox.sandboxId}/home/user/alpha.py`);
  });

  it('expands a subdirectory lazily, and says when a folder is empty', async () => {
    const files = await filesNode(sandbox.sandboxId);
    assert.deepEqual(labels(await services.tree.getChildren(await child(files, 'b-dir'))), ['inner.txt']);
    assert.deepEqual(labels(await services.tree.getChildren(await child(files, 'a-dir'))), ['message: Empty folder']);
  });

  it('opens a file from its row in an editor, and a save goes back to the sandbox', async () => {
    const inner = await child(await child(await filesNode(sandbox.sandboxId), 'b-dir'), 'inner.txt');
    const { command } = services.tree.getTreeItem(inner);
    assert.equal(command?.command, 'vscode.open');
    await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
    const editor = await waitFor(
      'the file in an editor',
      () =>
        vscode.window.activeTextEditor?.document.uri.toString() === `e2b://${sandbox.sandboxId}/home/user/b-dir/inner.txt` &&
        vscode.window.activeTextEditor,
    );
    assert.equal(editor.document.getText(), 'inside b-dir\n');
    await editor.edit((edit) => edit.insert(new vscode.Position(1, 0), 'edited from the tree\n'));
    assert.equal(await editor.document.save(), true);
    assert.equal(await sandbox.files.read('/home/user/b-dir/inner.txt'), 'inside b-dir\nedited from the tree\n');
  });

  it('downloads a file row and uploads into a folder row; the folder then lists the upload', async () => {
    const files = await filesNode(sandbox.sandboxId);
    const target = vscode.Uri.file(join(local, 'alpha.py'));
    assert.equal(await vscode.commands.executeCommand('e2b.downloadFromSandbox', await child(files, 'alpha.py'), target), target.fsPath);
    assert.equal(readFileSync(target.fsPath, 'utf8'), 'print("alpha")\n');

    const upload = join(local, 'uploaded.csv');
    writeFileSync(upload, 'a,b\n1,2\n');
    const aDir = await child(files, 'a-dir');
    let redrawn = false;
    const watching = services.tree.onDidChangeTreeData((node) => {
      if (node === aDir) redrawn = true;
    });
    assert.deepEqual(await vscode.commands.executeCommand('e2b.uploadToSandbox', aDir, [vscode.Uri.file(upload)]), [
      '/home/user/a-dir/uploaded.csv',
    ]);
    assert.equal(await sandbox.files.read('/home/user/a-dir/uploaded.csv'), 'a,b\n1,2\n');
    // The folder's row is redrawn at once (not at the next poll), and lists the upload.
    await waitFor('the folder redrawn', () => redrawn);
    watching.dispose();
    assert.ok(labels(await services.tree.getChildren(aDir)).includes('uploaded.csv'));

    // The rows' context values are the ones the menus offer these commands on.
    const menus = JSON.parse(
      readFileSync(join(vscode.extensions.getExtension('e2b-local.e2b-sandboxes')!.extensionPath, 'package.json'), 'utf8'),
    ).contributes.menus['view/item/context'] as { command: string; when: string }[];
    const offered = (value: string) =>
      menus
        .filter((m) => m.when.includes(`viewItem == ${value}`))
        .map((m) => m.command)
        .sort();
    assert.deepEqual(offered('sandboxFile'), ['e2b.downloadFromSandbox']);
    assert.deepEqual(offered('sandboxFolder'), ['e2b.openSandboxFiles', 'e2b.uploadToSandbox']);
  });

  it('shows a folder it cannot read as a message saying why', async () => {
    await sandbox.files.makeDir('/home/user/removed-dir');
    const files = await filesNode(sandbox.sandboxId);
    const removed = await waitFor('the new folder in the listing', async () =>
      (await services.tree.getChildren(files)).find((n): n is FileNode => n.kind === 'file' && n.path === '/home/user/removed-dir'),
    );
    // Removed (from a terminal, say) while its row is on screen, then expanded.
    await sandbox.files.remove('/home/user/removed-dir');
    assert.deepEqual(labels(await services.tree.getChildren(removed)), ['message: /home/user/removed-dir does not exist in the sandbox']);

    // "Open Sandbox Files in Workspace…" on that row takes its folder (no path box) and, the folder
    // being gone, says so and leaves the workspace as it is.
    // (Once the file system's cached listing of the home directory, which still has it, expires.)
    const removedUri = vscode.Uri.from({ scheme: 'e2b', authority: sandbox.sandboxId, path: '/home/user/removed-dir' });
    await waitFor('the folder known to be gone', async () => {
      try {
        await vscode.workspace.fs.stat(removedUri);
        return false;
      } catch {
        return true;
      }
    });
    const folders = vscode.workspace.workspaceFolders?.map((f) => f.uri.toString());
    const shown: string[] = [];
    const listener = services.errors.onDidShow((m) => shown.push(m.message));
    try {
      assert.equal(await vscode.commands.executeCommand('e2b.openSandboxFiles', removed), undefined);
      await waitFor('the error to be shown', () => shown.some((m) => m.includes('/home/user/removed-dir')));
    } finally {
      listener.dispose();
    }
    assert.deepEqual(
      vscode.workspace.workspaceFolders?.map((f) => f.uri.toString()),
      folders,
    );
  });

  it('never resumes a paused sandbox: browsing says to resume it, and it stays paused', async () => {
    const other = await Sandbox.create({ ...(await sdkOptions()), metadata: { suite: 'files-tree', paused: 'yes' } });
    created.push(other.sandboxId);
    // Paused behind the tree's back: the list still shows it running.
    const files = await filesNode(other.sandboxId);
    assert.equal(await other.pause(), true);
    assert.deepEqual(labels(await services.tree.getChildren(files)), ['message: The sandbox is paused: resume it to browse its files']);
    assert.equal((await other.getInfo()).state, 'paused');

    // Once the list knows, the row does not expand, and has no Files to offer.
    const node = await sandboxNode(other.sandboxId);
    assert.equal(node.sandbox.state, 'paused');
    assert.equal(services.tree.getTreeItem(node).collapsibleState, vscode.TreeItemCollapsibleState.None);
    assert.deepEqual(labels(await services.tree.getChildren(node)), ['message: Resume the sandbox to browse its files']);
    assert.equal((await other.getInfo()).state, 'paused');
  });
});
