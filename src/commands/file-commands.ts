// Sandbox files in the workspace: open a sandbox (or a folder in it) as a workspace folder, open
// one file by path, upload from and download to the local disk.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { downloadFile, uploadFile } from '../providers/files/transfers';
import { E2B_SCHEME, parseSandboxUri, sandboxUri } from '../providers/files/sandbox-uri';
import { filesNodeUri, SANDBOX_HOME } from '../views/sandbox-files-nodes';
import { resolveSandboxId } from './pick-sandbox';
import { Services } from './services';

const HOME = SANDBOX_HOME;

export async function openSandboxFiles(services: Services, arg?: unknown, folderArg?: string) {
  // A folder row of the Files tree: that folder, without asking.
  const row = filesNodeUri(arg);
  if (row) [arg, folderArg] = [row.authority, row.path];
  const id = await resolveSandboxId(services, arg, 'Sandbox whose files to open');
  if (!id) return undefined;
  const folder =
    folderArg ??
    (await vscode.window.showInputBox({
      title: `Open files of ${id}`,
      prompt: 'Folder in the sandbox to add to the workspace',
      value: HOME,
    }));
  if (!folder) return undefined;
  const uri = sandboxUri(id, folder);
  await vscode.workspace.fs.stat(uri);
  // From an empty or one-folder window this reloads it: what is open comes along.
  await services.workspaceEntry.addFolder(uri, `E2B ${id.slice(0, 8)}: ${folder}`, services.terminals.sessions());
  await vscode.commands.executeCommand('workbench.view.explorer');
  return uri.toString();
}

export async function openSandboxFile(services: Services, arg?: unknown, pathArg?: string) {
  const id = await resolveSandboxId(services, arg, 'Sandbox to open a file from');
  if (!id) return undefined;
  const file =
    pathArg ??
    (await vscode.window.showInputBox({ title: `Open a file of ${id}`, prompt: 'Absolute path in the sandbox', value: `${HOME}/` }));
  if (!file) return undefined;
  const doc = await vscode.workspace.openTextDocument(sandboxUri(id, file));
  await vscode.window.showTextDocument(doc);
  return doc.uri.toString();
}

export async function uploadToSandbox(services: Services, target?: unknown, localFiles?: vscode.Uri[]) {
  const destination = await uploadDestination(services, target);
  if (!destination) return [];
  const picked =
    localFiles ??
    (await vscode.window.showOpenDialog({
      canSelectMany: true,
      openLabel: 'Upload to sandbox',
      title: `Upload to ${destination.sandboxId}:${destination.dir}`,
    }));
  if (!picked?.length) return [];
  const sandbox = await services.sandboxHandles.get(destination.sandboxId);
  const uploaded: string[] = [];
  await withTransferProgress(`Uploading to ${destination.sandboxId}`, async (report, signal) => {
    for (const file of picked) {
      const target = path.posix.join(destination.dir, path.basename(file.fsPath));
      await uploadFile(sandbox, file.fsPath, target, (done, total) => report(path.basename(file.fsPath), done, total), signal);
      uploaded.push(target);
    }
  });
  services.files.notifyChanged(destination.sandboxId, destination.dir);
  vscode.window.setStatusBarMessage(
    `$(cloud-upload) Uploaded ${uploaded.length} file(s) to ${destination.sandboxId}:${destination.dir}`,
    5000,
  );
  return uploaded;
}

export async function downloadFromSandbox(services: Services, source?: unknown, localTarget?: vscode.Uri) {
  const from = await downloadSource(services, source);
  if (!from) return undefined;
  const target =
    localTarget ??
    (await vscode.window.showSaveDialog({
      title: `Download ${from.sandboxId}:${from.path}`,
      defaultUri: vscode.Uri.file(path.join(process.env.HOME ?? '/', path.posix.basename(from.path))),
    }));
  if (!target) return undefined;
  const sandbox = await services.sandboxHandles.get(from.sandboxId);
  await withTransferProgress(`Downloading ${path.posix.basename(from.path)}`, (report, signal) =>
    downloadFile(sandbox, from.path, target.fsPath, (done, total) => report(path.posix.basename(from.path), done, total), signal),
  );
  vscode.window.setStatusBarMessage(`$(cloud-download) Saved ${target.fsPath}`, 5000);
  return target.fsPath;
}

/** Where to upload: an e2b: folder from the file explorer, or a sandbox (then a folder is asked for). */
async function uploadDestination(services: Services, target: unknown): Promise<{ sandboxId: string; dir: string } | undefined> {
  target = filesNodeUri(target) ?? target;
  if (target instanceof vscode.Uri && target.scheme === E2B_SCHEME) {
    const { sandboxId, path: p } = parseSandboxUri(target);
    const isDir = ((await vscode.workspace.fs.stat(target)).type & vscode.FileType.Directory) !== 0;
    return { sandboxId, dir: isDir ? p : path.posix.dirname(p) };
  }
  const sandboxId = await resolveSandboxId(services, target, 'Sandbox to upload to');
  if (!sandboxId) return undefined;
  const dir = await vscode.window.showInputBox({ title: `Upload to ${sandboxId}`, prompt: 'Folder in the sandbox', value: HOME });
  return dir ? { sandboxId, dir } : undefined;
}

async function downloadSource(services: Services, source: unknown): Promise<{ sandboxId: string; path: string } | undefined> {
  source = filesNodeUri(source) ?? source;
  if (source instanceof vscode.Uri && source.scheme === E2B_SCHEME) return parseSandboxUri(source);
  const sandboxId = await resolveSandboxId(services, source, 'Sandbox to download from');
  if (!sandboxId) return undefined;
  const file = await vscode.window.showInputBox({
    title: `Download from ${sandboxId}`,
    prompt: 'Path of the file in the sandbox',
    value: `${HOME}/`,
  });
  return file ? { sandboxId, path: file } : undefined;
}

type Report = (name: string, done: number, total: number) => void;

function withTransferProgress(title: string, work: (report: Report, signal: AbortSignal) => Promise<unknown>): Thenable<unknown> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      let lastPercent = 0;
      return work((name, done, total) => {
        const percent = total > 0 ? Math.floor((done / total) * 100) : 0;
        if (percent === lastPercent) return;
        progress.report({ message: `${name}: ${formatBytes(done)} of ${formatBytes(total)}`, increment: percent - lastPercent });
        lastPercent = percent;
      }, abort.signal);
    },
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
