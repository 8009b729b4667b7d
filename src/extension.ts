// Activation: builds the services, views and providers and wires them together; the commands
// come from the command index (src/commands/command-index.ts). Nothing else happens here: no
// network call until the explorer is visible or a command runs.
import * as vscode from 'vscode';
import { ApiKeyStore } from './connection/api-key-store';
import { ConnectionService } from './connection/connection-service';
import { SandboxConnections } from './connection/sandbox-connections';
import { SandboxService } from './connection/sandbox-service';
import { resolveSandboxId } from './commands/pick-sandbox';
import { SandboxFileSystemProvider } from './providers/files/sandbox-file-system';
import { E2B_SCHEME } from './providers/files/sandbox-uri';
import { SandboxTerminals } from './providers/terminal/sandbox-terminals';
import { WorkspaceEntryCarrier } from './providers/files/workspace-entry';
import { InterpreterSessions } from './providers/notebook/interpreter-sessions';
import { SandboxNotebookController } from './providers/notebook/sandbox-controller';
import { SandboxPicker } from './providers/notebook/sandbox-picker';
import { CloseOffer } from './providers/notebook/close-offer';
import { NotebookClosings } from './providers/notebook/notebook-closings';
import { CodeRunner } from './providers/run/run-in-sandbox';
import { ResultsPanel } from './views/results-panel';
import { TemplatesTreeProvider } from './views/templates-tree';
import { VolumeService } from './connection/volume-service';
import { VOLUME_SCHEME, VolumeFileSystemProvider } from './providers/volumes/volume-file-system';
import { VolumeNode, VolumesTreeProvider } from './views/volumes-tree';
import { SandboxTools } from './providers/chat/sandbox-tools';
import { MCP_PROVIDER_ID, SandboxMcpDefinitions } from './providers/chat/mcp-definitions';
import { registerSandboxParticipant } from './providers/chat/sandbox-participant';
import { followExplorerMessage } from './commands/explorer-commands';
import { INFO_SCHEME, SandboxInfoDocuments } from './commands/lifecycle-commands';
import { registerCommands } from './commands/command-index';
import { PortOpener } from './commands/port-commands';
import { onDidPrompt, Prompt } from './commands/inputs';
import { Services } from './commands/services';
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
  /** The ids of the command index, as registered. */
  commands: readonly string[];
}

export function activate(context: vscode.ExtensionContext): E2BExtensionApi {
  const activateStart = performance.now();
  const log = vscode.window.createOutputChannel('E2B', { log: true });
  const apiKeys = new ApiKeyStore(context.secrets);
  const profile = new ConnectionService(apiKeys, context.extensionPath, log);
  const sandboxes = new SandboxService(profile);
  const volumeService = new VolumeService(profile);
  const sandboxHandles = new SandboxConnections(sandboxes);
  const files = new SandboxFileSystemProvider(sandboxHandles, log);
  const terminals = new SandboxTerminals(sandboxHandles, context.workspaceState);
  const errors = new ErrorNotifier(log);
  const tree = new SandboxTreeProvider(sandboxes, sandboxHandles, context.workspaceState, log, errors, files.onDidChangeFile);
  const refresher = new RefreshScheduler(() => tree.refresh(), {
    intervalMs: () => vscode.workspace.getConfiguration('e2b').get<number>('explorer.refreshIntervalSeconds', 10) * 1000,
    // A server that stopped answering is most often restarting: look again within seconds.
    retrySoon: () => tree.lastError?.kind === 'unreachable',
  });
  const active = new ActiveSandbox(context.workspaceState, sandboxes, errors);
  const services: Services = {
    context,
    log,
    apiKeys,
    profile,
    sandboxes,
    volumes: volumeService,
    sandboxHandles,
    files,
    terminals,
    tree,
    refresher,
    active,
    errors,
    workspaceEntry: new WorkspaceEntryCarrier(context.globalStorageUri, log),
  };

  const treeView = vscode.window.createTreeView('e2b.sandboxes', { treeDataProvider: tree, showCollapseAll: false });
  context.subscriptions.push(
    log,
    profile,
    tree,
    treeView,
    active,
    files,
    terminals,
    errors,
    { dispose: () => refresher.dispose() },
    vscode.workspace.registerFileSystemProvider(E2B_SCHEME, files, { isCaseSensitive: true }),
    vscode.window.registerTerminalProfileProvider(
      'e2b.sandboxTerminal',
      terminals.profileProvider(() => resolveSandboxId(services, services.active.id, 'Sandbox to open a terminal in')),
    ),
    treeView.onDidChangeVisibility((e) => refresher.setVisible(e.visible)),
    sandboxes.onDidChangeSandboxes(() => refresher.refreshSoon()),
    profile.onDidChange(() => refresher.refreshSoon()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('e2b.explorer')) refresher.refreshNow();
    }),
  );
  refresher.setVisible(treeView.visible);

  const sandboxInfo = new SandboxInfoDocuments(services);
  const ports = new PortOpener(services);
  context.subscriptions.push(
    followExplorerMessage(services, treeView),
    ports,
    vscode.workspace.registerTextDocumentContentProvider(INFO_SCHEME, sandboxInfo),
  );

  const sessions = new InterpreterSessions(sandboxHandles, sandboxes, context.workspaceState);
  const picker = new SandboxPicker(sandboxes, sessions, log, () =>
    vscode.workspace.getConfiguration('e2b').get<Record<string, string>>('create.envVars', {}),
  );
  const closings = new NotebookClosings();
  const notebooks = new SandboxNotebookController(sessions, sandboxHandles, picker, closings, log);
  const closeOffer = new CloseOffer(sessions, closings, log);
  const results = new ResultsPanel();
  const runner = new CodeRunner(sessions, sandboxHandles, results);
  context.subscriptions.push(sessions, closings, notebooks, closeOffer, results, runner);

  const templates = new TemplatesTreeProvider(sandboxes);
  const templatesView = vscode.window.createTreeView('e2b.templates', { treeDataProvider: templates });
  context.subscriptions.push(
    templatesView,
    templatesView.onDidChangeVisibility((e) => {
      if (e.visible) void templates.refresh();
    }),
  );
  if (templatesView.visible) void templates.refresh();
  const templateBuildLog = vscode.window.createOutputChannel('E2B Template Build');
  context.subscriptions.push(templateBuildLog);
  const volumeFiles = new VolumeFileSystemProvider(volumeService);
  const volumes = new VolumesTreeProvider(volumeService, volumeFiles);
  const volumesView = vscode.window.createTreeView('e2b.volumes', { treeDataProvider: volumes });
  context.subscriptions.push(
    volumeFiles,
    volumesView,
    vscode.workspace.registerFileSystemProvider(VOLUME_SCHEME, volumeFiles, { isCaseSensitive: true }),
    volumesView.onDidChangeVisibility((e) => {
      if (e.visible) void volumes.refresh();
    }),
    profile.onDidChange(() => {
      if (volumesView.visible) void volumes.refresh();
    }),
    volumeService.onDidChangeVolumes(() => {
      if (volumesView.visible) void volumes.refresh();
    }),
  );
  if (volumesView.visible) void volumes.refresh();
  const tools = new SandboxTools(sessions, () => active.id);
  context.subscriptions.push(...tools.register());
  context.subscriptions.push(registerSandboxParticipant(context));
  const mcp = new SandboxMcpDefinitions(profile, sandboxes, sandboxHandles, log);
  context.subscriptions.push(vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, mcp));
  const commands = registerCommands({
    services,
    explorer: treeView,
    sandboxInfo,
    ports,
    runner,
    notebooks,
    sessions,
    templates,
    templateBuildLog,
    volumesTree: volumes,
    mcp,
  });
  // Shells that were open in this workspace before a reload come back attached to the same process.
  terminals.reattachAll();
  // A window that just became a workspace (Open Sandbox Files) gets back its editors and shells.
  void services.workspaceEntry.restore().then(
    (shells) => {
      const here = new Set(terminals.sessions().map((s) => `${s.sandboxId}:${s.pid}`));
      terminals.reattachAll(shells.filter((s) => !here.has(`${s.sandboxId}:${s.pid}`)));
    },
    (err) => log.error(`restoring the editors carried into this workspace: ${err}`),
  );
  const bundleStart = typeof __e2bBundleStart === 'number' ? __e2bBundleStart : undefined;
  const activateMs = performance.now() - activateStart;
  const loadMs = bundleStart === undefined ? undefined : modulesEvaluatedAt - bundleStart;
  const activation = { loadMs, contextMs: activateStart - modulesEvaluatedAt, activateMs, totalMs: (loadMs ?? 0) + activateMs };
  log.info(
    `activated in ${activation.totalMs.toFixed(1)} ms (modules ${loadMs?.toFixed(1) ?? '?'} ms, activate() ${activateMs.toFixed(1)} ms)`,
  );
  return {
    activation,
    services,
    notebooks,
    runner,
    results,
    sessions,
    closeOffer,
    templates,
    volumes,
    volumesView,
    volumeFiles,
    tools,
    mcp,
    ports,
    onDidPrompt,
    commands,
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
