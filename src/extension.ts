// Activation: builds the services and registers them. Nothing else happens here: no network
// call until the explorer is visible or a command runs.
import * as vscode from 'vscode';
import { ApiKeyStore } from './connection/api-key-store';
import { ConnectionService } from './connection/connection-service';
import { SandboxConnections } from './connection/sandbox-connections';
import { SandboxService } from './connection/sandbox-service';
import { registerFileCommands } from './commands/file-commands';
import { registerTerminalCommands } from './commands/terminal-commands';
import { resolveSandboxId } from './commands/pick-sandbox';
import { SandboxFileSystemProvider } from './providers/files/sandbox-file-system';
import { E2B_SCHEME } from './providers/files/sandbox-uri';
import { SandboxTerminals } from './providers/terminal/sandbox-terminals';
import { WorkspaceEntryCarrier } from './providers/files/workspace-entry';
import { registerCodeCommands } from './commands/code-commands';
import { InterpreterSessions } from './providers/notebook/interpreter-sessions';
import { SandboxNotebookController } from './providers/notebook/sandbox-controller';
import { SandboxPicker } from './providers/notebook/sandbox-picker';
import { CloseOffer } from './providers/notebook/close-offer';
import { NotebookClosings } from './providers/notebook/notebook-closings';
import { CodeRunner } from './providers/run/run-in-sandbox';
import { ResultsPanel } from './views/results-panel';
import { TemplatesTreeProvider } from './views/templates-tree';
import { registerTemplateCommands } from './commands/template-commands';
import { VolumeService } from './connection/volume-service';
import { VOLUME_SCHEME, VolumeFileSystemProvider } from './providers/volumes/volume-file-system';
import { VolumeNode, VolumesTreeProvider } from './views/volumes-tree';
import { registerVolumeCommands } from './commands/volume-commands';
import { SandboxTools } from './providers/chat/sandbox-tools';
import { MCP_PROVIDER_ID, SandboxMcpDefinitions } from './providers/chat/mcp-definitions';
import { registerSandboxParticipant } from './providers/chat/sandbox-participant';
import { registerCreateSandbox } from './commands/create-sandbox';
import { registerConnectionCommands, registerExplorerCommands } from './commands/explorer-commands';
import { registerLifecycleCommands } from './commands/lifecycle-commands';
import { registerNetworkCommands } from './commands/network-commands';
import { registerSnapshotCommands } from './commands/snapshot-commands';
import { PortOpener, registerPortCommands } from './commands/port-commands';
import { onDidPrompt, Prompt } from './commands/inputs';
import { registerCommand, Services } from './commands/services';
import { ActiveSandbox } from './views/active-sandbox';
import { ErrorNotifier } from './views/error-notifier';
import { RefreshScheduler } from './views/refresh-scheduler';
import { SandboxTreeProvider } from './views/sandbox-tree';

/** Set by the bundle's first line (build.mjs banner): when this extension's code began to run. */
declare const __e2bBundleStart: number | undefined;
// This module's body runs after every module it imports: the bundle is evaluated by now.
const modulesEvaluatedAt = performance.now();

/** How long activation took, measured inside the extension host (milliseconds). */
export interface ActivationTiming {
  /** From the bundle's first line to the end of its evaluation (the modules' top-level code). */
  loadMs?: number;
  /** From the end of evaluation to the activate() call: VS Code preparing the extension context. */
  contextMs?: number;
  /** The activate() call itself. */
  activateMs: number;
  /** loadMs + activateMs: the part of activation this extension's own code spends. */
  totalMs: number;
}

export interface E2BExtensionApi {
  activation: ActivationTiming;
  services: Services;
  notebooks: SandboxNotebookController;
  runner: CodeRunner;
  results: ResultsPanel;
  sessions: InterpreterSessions;
  closeOffer: CloseOffer;
  templates: TemplatesTreeProvider;
  volumes: VolumesTreeProvider;
  volumesView: vscode.TreeView<VolumeNode>;
  volumeFiles: VolumeFileSystemProvider;
  tools: SandboxTools;
  mcp: SandboxMcpDefinitions;
  ports: PortOpener;
  /** Each input box and quick pick the commands show, as it is shown (tests answer them). */
  onDidPrompt: vscode.Event<Prompt>;
}

export function activate(context: vscode.ExtensionContext): E2BExtensionApi {
  const activateStart = performance.now();
  const log = vscode.window.createOutputChannel('E2B', { log: true });
  const apiKeys = new ApiKeyStore(context.secrets);
  const connection = new ConnectionService(apiKeys, context.extensionPath, log);
  const sandboxes = new SandboxService(connection);
  const volumeService = new VolumeService(connection);
  const connections = new SandboxConnections(sandboxes);
  const files = new SandboxFileSystemProvider(connections, log);
  const terminals = new SandboxTerminals(connections, context.workspaceState);
  const errors = new ErrorNotifier(log);
  const tree = new SandboxTreeProvider(sandboxes, connections, context.workspaceState, log, errors, files.onDidChangeFile);
  const refresher = new RefreshScheduler(() => tree.refresh(), {
    intervalMs: () => vscode.workspace.getConfiguration('e2b').get<number>('explorer.refreshIntervalSeconds', 10) * 1000,
    // A server that stopped answering is most often restarting: look again within seconds.
    retrySoon: () => tree.lastError?.kind === 'unreachable',
  });
  const active = new ActiveSandbox(context.workspaceState, sandboxes, errors);
  const services: Services = {
    context, log, apiKeys, connection, sandboxes, volumes: volumeService, connections, files, terminals, tree, refresher, active, errors,
    workspaceEntry: new WorkspaceEntryCarrier(context.globalStorageUri, log),
  };

  const treeView = vscode.window.createTreeView('e2b.sandboxes', { treeDataProvider: tree, showCollapseAll: false });
  context.subscriptions.push(
    log, connection, tree, treeView, active, files, terminals, errors, { dispose: () => refresher.dispose() },
    vscode.workspace.registerFileSystemProvider(E2B_SCHEME, files, { isCaseSensitive: true }),
    vscode.window.registerTerminalProfileProvider('e2b.sandboxTerminal', terminals.profileProvider(() => resolveSandboxId(services, services.active.id, 'Sandbox to open a terminal in'))),
    treeView.onDidChangeVisibility((e) => refresher.setVisible(e.visible)),
    sandboxes.onDidChangeSandboxes(() => refresher.refreshSoon()),
    connection.onDidChange(() => refresher.refreshSoon()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('e2b.explorer')) refresher.refreshNow();
    }),
  );
  refresher.setVisible(treeView.visible);

  registerCreateSandbox(services);
  registerLifecycleCommands(services);
  registerNetworkCommands(services);
  registerSnapshotCommands(services);
  const ports = registerPortCommands(services);
  registerExplorerCommands(services, treeView);
  registerConnectionCommands(services);
  registerFileCommands(services);
  registerTerminalCommands(services);

  const sessions = new InterpreterSessions(connections, sandboxes, context.workspaceState);
  const picker = new SandboxPicker(sandboxes, sessions, log, () => vscode.workspace.getConfiguration('e2b').get<Record<string, string>>('create.envVars', {}));
  const closings = new NotebookClosings();
  const notebooks = new SandboxNotebookController(sessions, connections, picker, closings, log);
  const closeOffer = new CloseOffer(sessions, closings, log);
  const results = new ResultsPanel();
  const runner = new CodeRunner(sessions, connections, results);
  context.subscriptions.push(sessions, closings, notebooks, closeOffer, results, runner);
  registerCodeCommands(services, runner, notebooks, sessions);

  const templates = new TemplatesTreeProvider(sandboxes);
  const templatesView = vscode.window.createTreeView('e2b.templates', { treeDataProvider: templates });
  context.subscriptions.push(templatesView, templatesView.onDidChangeVisibility((e) => { if (e.visible) void templates.refresh(); }));
  if (templatesView.visible) void templates.refresh();
  registerTemplateCommands(services, templates);
  const volumeFiles = new VolumeFileSystemProvider(volumeService);
  const volumes = new VolumesTreeProvider(volumeService, volumeFiles);
  const volumesView = vscode.window.createTreeView('e2b.volumes', { treeDataProvider: volumes });
  context.subscriptions.push(
    volumeFiles, volumesView,
    vscode.workspace.registerFileSystemProvider(VOLUME_SCHEME, volumeFiles, { isCaseSensitive: true }),
    volumesView.onDidChangeVisibility((e) => { if (e.visible) void volumes.refresh(); }),
    connection.onDidChange(() => { if (volumesView.visible) void volumes.refresh(); }),
    volumeService.onDidChangeVolumes(() => { if (volumesView.visible) void volumes.refresh(); }),
  );
  if (volumesView.visible) void volumes.refresh();
  registerVolumeCommands(services, volumeService, volumes);
  const tools = new SandboxTools(sessions, () => active.id);
  context.subscriptions.push(...tools.register());
  context.subscriptions.push(registerSandboxParticipant(context));
  const mcp = new SandboxMcpDefinitions(connection, sandboxes, connections, log);
  context.subscriptions.push(vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, mcp));
  registerCommand(services, 'e2b.copyMcpConfig', async (arg?: unknown) => {
    const id = await resolveSandboxId(services, arg, 'Sandbox whose MCP gateway to copy');
    if (!id) return undefined;
    const config = await mcp.clientConfig(id);
    await vscode.env.clipboard.writeText(JSON.stringify({ type: 'http', ...config }, null, 2));
    vscode.window.setStatusBarMessage('$(copy) Copied the MCP gateway URL and token', 4000);
    return config;
  });
  // Shells that were open in this workspace before a reload come back attached to the same process.
  terminals.reattachAll();
  // A window that just became a workspace (Open Sandbox Files) gets back its editors and shells.
  void services.workspaceEntry.restore().then((shells) => {
    const here = new Set(terminals.sessions().map((s) => `${s.sandboxId}:${s.pid}`));
    terminals.reattachAll(shells.filter((s) => !here.has(`${s.sandboxId}:${s.pid}`)));
  }, (err) => log.error(`restoring the editors carried into this workspace: ${err}`));
  const bundleStart = typeof __e2bBundleStart === 'number' ? __e2bBundleStart : undefined;
  const activateMs = performance.now() - activateStart;
  const loadMs = bundleStart === undefined ? undefined : modulesEvaluatedAt - bundleStart;
  const activation = { loadMs, contextMs: activateStart - modulesEvaluatedAt, activateMs, totalMs: (loadMs ?? 0) + activateMs };
  log.info(`activated in ${activation.totalMs.toFixed(1)} ms (modules ${loadMs?.toFixed(1) ?? '?'} ms, activate() ${activateMs.toFixed(1)} ms)`);
  return { activation, services, notebooks, runner, results, sessions, closeOffer, templates, volumes, volumesView, volumeFiles, tools, mcp, ports, onDidPrompt };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
