// Explorer-wide commands: refresh, filter, load more; and the connection commands.
import * as vscode from 'vscode';
import type { SandboxState } from 'e2b';
import { ConnectionKind } from '../connection/profile';
import { parseKeyValueList, formatMetadata } from '../views/sandbox-presentation';
import { NO_FILTER, SandboxFilter } from '../views/sandbox-filter';
import { registerCommand, Services } from './services';

export function registerExplorerCommands(services: Services, treeView: vscode.TreeView<unknown>): void {
  // The view's message line: the connection problem (and how old the list is), else the active filter.
  const showFilter = () => { treeView.message = services.tree.viewMessage; };
  showFilter();
  services.context.subscriptions.push(services.tree.onDidChangeTreeData(showFilter));

  registerCommand(services, 'e2b.refresh', async () => {
    services.connection.reset();
    services.refresher.refreshNow();
  });

  registerCommand(services, 'e2b.loadMore', () => services.tree.loadMore());

  registerCommand(services, 'e2b.filterSandboxes', async (filterArg?: SandboxFilter) => {
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
        validateInput: (v) => { try { parseKeyValueList(v, 'metadata'); return undefined; } catch (e) { return (e as Error).message; } },
      });
      if (metadataText === undefined) return;
      filter = { states: states.map((s) => s.label as SandboxState), metadata: parseKeyValueList(metadataText, 'metadata') };
    }
    await services.tree.setFilter(filter);
    showFilter();
    services.refresher.refreshNow();
  });

  registerCommand(services, 'e2b.clearFilter', async () => {
    await services.tree.setFilter(NO_FILTER);
    showFilter();
    services.refresher.refreshNow();
  });
}

export function registerConnectionCommands(services: Services): void {
  registerCommand(services, 'e2b.selectConnection', async (kindArg?: ConnectionKind) => {
    const kind = kindArg ?? (await vscode.window.showQuickPick(
      [
        { label: 'Local runtime', description: 'sandboxes as containers on this machine, no account', connection: 'local' as const },
        { label: 'E2B cloud', description: 'needs an API key', connection: 'cloud' as const },
        { label: 'Self-hosted E2B', description: 'your own deployment', connection: 'selfHosted' as const },
      ],
      { title: 'Where should sandboxes live?' },
    ))?.connection;
    if (!kind) return;
    await vscode.workspace.getConfiguration('e2b').update('connection', kind, vscode.ConfigurationTarget.Global);
    if (kind !== 'local' && !(await services.apiKeys.get())) await services.apiKeys.prompt();
    if (kind === 'selfHosted' && !vscode.workspace.getConfiguration('e2b').get<string>('selfHosted.apiUrl')) {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'e2b.selfHosted');
    }
    services.refresher.refreshNow();
  });

  registerCommand(services, 'e2b.setApiKey', async (key?: string) => {
    if (typeof key === 'string') await services.apiKeys.set(key);
    else if ((await services.apiKeys.prompt()) === undefined) return;
    services.refresher.refreshNow();
  });

  registerCommand(services, 'e2b.clearApiKey', async () => {
    await services.apiKeys.delete();
    services.refresher.refreshNow();
  });
}
