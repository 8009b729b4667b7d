// Commands on one sandbox: connect (make active), kill, set timeout, pause, resume, metrics, copy
// id, info. The command index (command-index.ts) maps their ids to these handlers.
import * as vscode from 'vscode';
import { E2B_SCHEME } from '../providers/files/sandbox-uri';
import { MetricsPanel } from '../views/metrics-panel';
import { formatTimeLeft, minutesLeft, sandboxDetailsMarkdown } from '../views/sandbox-presentation';
import { askMinutes } from './inputs';
import { resolveSandboxId } from './pick-sandbox';
import { Services } from './services';

export const INFO_SCHEME = 'e2b-info';

export interface KillOptions {
  confirm?: boolean;
}

export async function connectSandbox(services: Services, arg?: unknown) {
  const id = await resolveSandboxId(services, arg, 'Sandbox to connect to');
  if (!id) return undefined;
  const info = await services.sandboxes.getInfo(id);
  if (info.state === 'paused') {
    const choice = await vscode.window.showWarningMessage(
      `Sandbox ${id} is paused. Connecting resumes it.`,
      { modal: true },
      'Resume and Connect',
    );
    if (choice !== 'Resume and Connect') return undefined;
    await services.sandboxes.connect(id);
    services.refresher.refreshNow();
  }
  await services.active.set(id);
  return id;
}

export async function killSandbox(services: Services, arg?: unknown, options?: KillOptions) {
  const id = await resolveSandboxId(services, arg, 'Sandbox to kill');
  if (!id) return false;
  if (options?.confirm !== false) {
    const choice = await vscode.window.showWarningMessage(`Kill sandbox ${id}? Its files and processes are lost.`, { modal: true }, 'Kill');
    if (choice !== 'Kill') return false;
  }
  const killed = await services.sandboxes.kill(id);
  await services.active.forget(id);
  services.files.forgetSandbox(id);
  removeWorkspaceFoldersOf(id);
  services.refresher.refreshNow();
  if (!killed) void vscode.window.showInformationMessage(`Sandbox ${id} was already gone.`);
  return killed;
}

export async function setSandboxTimeout(services: Services, arg?: unknown, minutesArg?: number) {
  const id = await resolveSandboxId(services, arg, 'Sandbox whose timeout to set');
  if (!id) return undefined;
  let minutes = minutesArg;
  if (minutes === undefined) {
    // The box starts from what is left now, so the user edits the real value.
    const { endAt } = await services.sandboxes.getInfo(id);
    minutes = await askMinutes(
      `Timeout of ${id}`,
      `Minutes from now until the sandbox times out (now ${formatTimeLeft(endAt)}; shorter or longer)`,
      String(minutesLeft(endAt)),
    );
  }
  if (minutes === undefined) return undefined;
  await services.sandboxes.setTimeout(id, Math.round(minutes * 60_000));
  services.refresher.refreshNow();
  if (services.active.id === id) await services.active.reload();
  return id;
}

export async function pauseSandbox(services: Services, arg?: unknown) {
  const id = await resolveSandboxId(services, arg, 'Sandbox to pause');
  if (!id) return undefined;
  const paused = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Pausing ${id}…` }, () =>
    services.sandboxes.pause(id),
  );
  if (!paused) void vscode.window.showInformationMessage(`Sandbox ${id} was already paused.`);
  services.sandboxHandles.forget(id);
  services.refresher.refreshNow();
  if (services.active.id === id) await services.active.reload();
  return paused;
}

export async function resumeSandbox(services: Services, arg?: unknown) {
  const id = await resolveSandboxId(services, arg, 'Sandbox to resume');
  if (!id) return undefined;
  const minutes = vscode.workspace.getConfiguration('e2b').get<number>('create.defaultTimeoutMinutes', 15);
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Resuming ${id}…` }, () =>
    services.sandboxes.resume(id, minutes * 60_000),
  );
  services.refresher.refreshNow();
  if (services.active.id === id) await services.active.reload();
  return id;
}

export async function showMetrics(services: Services, arg?: unknown) {
  const id = await resolveSandboxId(services, arg, 'Sandbox whose metrics to show');
  if (!id) return undefined;
  return MetricsPanel.show(services.context.extensionUri, services.sandboxes, id);
}

export async function copySandboxId(services: Services, arg?: unknown) {
  const id = await resolveSandboxId(services, arg, 'Sandbox whose ID to copy');
  if (!id) return undefined;
  await vscode.env.clipboard.writeText(id);
  vscode.window.setStatusBarMessage(`$(copy) Copied ${id}`, 3000);
  return id;
}

export async function showSandboxInfo(services: Services, infoDocuments: SandboxInfoDocuments, arg?: unknown) {
  const id = arg === undefined && services.active.id ? services.active.id : await resolveSandboxId(services, arg, 'Sandbox to show');
  if (!id) return undefined;
  const uri = vscode.Uri.from({ scheme: INFO_SCHEME, path: `/${id}.md` });
  infoDocuments.refresh(uri);
  const doc = await vscode.workspace.openTextDocument(uri);
  // Rendered when the built-in Markdown preview is there; the source otherwise.
  await Promise.resolve(vscode.commands.executeCommand('markdown.showPreview', uri)).catch(() =>
    vscode.window.showTextDocument(doc, { preview: true }),
  );
  return doc.getText();
}

/** Read-only documents e2b-info:/<id>.md with a sandbox's details, fetched when opened. */
export class SandboxInfoDocuments implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly services: Services) {}

  refresh(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = uri.path.replace(/^\//, '').replace(/\.md$/, '');
    try {
      const info = await this.services.sandboxes.getInfo(id);
      return `# Sandbox ${id}\n\n${sandboxDetailsMarkdown(info)}\n`;
    } catch (err) {
      return `# Sandbox ${id}\n\n${(err as Error).message}\n`;
    }
  }
}

/** A killed sandbox's folders leave the workspace instead of showing errors. */
function removeWorkspaceFoldersOf(sandboxId: string): void {
  const folders = vscode.workspace.workspaceFolders ?? [];
  for (let i = folders.length - 1; i >= 0; i--) {
    if (folders[i].uri.scheme === E2B_SCHEME && folders[i].uri.authority === sandboxId) vscode.workspace.updateWorkspaceFolders(i, 1);
  }
}
