// Explorer-wide commands: refresh, filter, load more; and the connection commands. The command
// index (command-index.ts) maps their ids to these handlers.
import * as vscode from 'vscode';
import type { SandboxState } from 'e2b';
import { ConnectionKind } from '../connection/profile';
import { formatMetadata } from '../views/sandbox-presentation';
import { NO_FILTER, SandboxFilter } from '../views/sandbox-filter';
import { parseKeyValueList } from './input-parsers';
import { problemOf } from './inputs';
import { Services } from './services';

/** The view's message line: the connection problem (and how old the list is), else the active filter. */
export function showExplorerMessage(services: Services, treeView: vscode.TreeView<unknown>): void {
  treeView.message = services.tree.viewMessage;
}

/** Keeps the view's message line in step with the tree. */
export function followExplorerMessage(services: Services, treeView: vscode.TreeView<unknown>): vscode.Disposable {
  showExplorerMessage(services, treeView);
  return services.tree.onDidChangeTreeData(() => showExplorerMessage(services, treeView));
}

export async function refreshExplorer(services: Services): Promise<void> {
  services.profile.reset();
  services.refresher.refreshNow();
}

export async function filterSandboxes(services: Services, treeView: vscode.TreeView<unknown>, filterArg?: SandboxFilter): Promise<void> {
  let filter = filterArg;
  if (!filter) {
    const current = services.tree.filter;
    const states = await vscode.window.showQuickPick(
      (['running', 'paused'] as SandboxState[]).map((state) => ({ label: state, picked: current.states.includes(state) })),
      { title: 'Filter sandboxes (1/2): states', placeHolder: 'Pick states to show (none = all)', canPickMany: true },
    );
    if (!states) return;
    const metadataText = await vscode.window.showInputBox({
      title: 'Filter sandboxes (2/2): metadata',
      prompt: 'Show only sandboxes whose metadata has all these key=value pairs (empty = any)',
      value: formatMetadata(current.metadata),
      validateInput: (v) => problemOf(() => parseKeyValueList(v, 'metadata')),
    });
    if (metadataText === undefined) return;
    filter = { states: states.map((s) => s.label as SandboxState), metadata: parseKeyValueList(metadataText, 'metadata') };
  }
  await services.tree.setFilter(filter);
  showExplorerMessage(services, treeView);
  services.refresher.refreshNow();
}

export async function clearFilter(services: Services, treeView: vscode.TreeView<unknown>): Promise<void> {
  await services.tree.setFilter(NO_FILTER);
  showExplorerMessage(services, treeView);
  services.refresher.refreshNow();
}

export async function selectConnection(services: Services, kindArg?: ConnectionKind): Promise<void> {
  const kind =
    kindArg ??
    (
      await vscode.window.showQuickPick(
        [
          { label: 'Local runtime', description: 'sandboxes as containers on this machine, no account', connection: 'local' as const },
          { label: 'E2B cloud', description: 'needs an API key', connection: 'cloud' as const },
          { label: 'Self-hosted E2B', description: 'your own deployment', connection: 'selfHosted' as const },
        ],
        { title: 'Where should sandboxes live?' },
      )
    )?.connection;
  if (!kind) return;
  await vscode.workspace.getConfiguration('e2b').update('connection', kind, vscode.ConfigurationTarget.Global);
  if (kind !== 'local' && !(await services.apiKeys.get())) await services.apiKeys.prompt();
  if (kind === 'selfHosted' && !vscode.workspace.getConfiguration('e2b').get<string>('selfHosted.apiUrl')) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'e2b.selfHosted');
  }
  services.refresher.refreshNow();
}

export async function setApiKey(services: Services, key?: string): Promise<void> {
  if (typeof key === 'string') await services.apiKeys.set(key);
  else if ((await services.apiKeys.prompt()) === undefined) return;
  services.refresher.refreshNow();
}

export async function clearApiKey(services: Services): Promise<void> {
  await services.apiKeys.delete();
  services.refresher.refreshNow();
}
