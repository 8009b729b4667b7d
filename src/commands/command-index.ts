// The command index: every command the extension contributes (package.json `contributes.commands`)
// and the handler that runs it, in one table, as vscode-containers' registerCommands.ts does. The
// handlers live beside their kind (lifecycle-commands.ts, file-commands.ts, …); this file only says
// which id runs which, and registers them all with one error policy. extension.ts builds what the
// handlers act on and calls registerCommands once. An object literal cannot name an id twice (tsc
// refuses it), and test/suite/commands.test.ts checks the table against package.json both ways.
import * as vscode from 'vscode';
import type { ConnectionKind } from '../connection/profile';
import { SandboxMcpDefinitions } from '../providers/chat/mcp-definitions';
import { InterpreterSessions } from '../providers/notebook/interpreter-sessions';
import { SandboxNotebookController } from '../providers/notebook/sandbox-controller';
import { CodeRunner } from '../providers/run/run-in-sandbox';
import type { NetworkRules } from '../views/network-rules';
import type { SandboxFilter } from '../views/sandbox-filter';
import { TemplateNode, TemplatesTreeProvider, TemplateTagNode } from '../views/templates-tree';
import type { TemplateSummary } from '../connection/sandbox-service';
import { VolumeNode, VolumesTreeProvider } from '../views/volumes-tree';
import { restartNotebookKernel, runFile, runSelection, selectNotebookSandbox } from './code-commands';
import { createSandbox, CreateSandboxArgs } from './create-sandbox';
import { clearApiKey, clearFilter, filterSandboxes, refreshExplorer, selectConnection, setApiKey } from './explorer-commands';
import { downloadFromSandbox, openSandboxFile, openSandboxFiles, uploadToSandbox } from './file-commands';
import {
  connectSandbox,
  copySandboxId,
  killSandbox,
  KillOptions,
  pauseSandbox,
  resumeSandbox,
  SandboxInfoDocuments,
  setSandboxTimeout,
  showMetrics,
  showSandboxInfo,
} from './lifecycle-commands';
import { copyMcpConfig } from './mcp-commands';
import { editNetworkRules } from './network-commands';
import { PortOpener } from './port-commands';
import { Services } from './services';
import {
  DeleteSnapshotOptions,
  deleteSnapshot,
  forkSandbox,
  ForkOptions,
  SnapshotCommandOptions,
  startFromSnapshot,
  takeSnapshot,
} from './snapshot-commands';
import { assignTemplateTag, buildTemplate, createFromTemplate, removeTemplateTag } from './template-commands';
import { attachProcess, killProcess, openTerminal, ProcessNode, runCommand } from './terminal-commands';
import { createVolume, deleteVolume, DeleteVolumeOptions, newVolumeEntry } from './volume-commands';

/** What the handlers act on besides the services: the views, panels and providers activate() builds. */
export interface CommandTargets {
  services: Services;
  explorer: vscode.TreeView<unknown>;
  sandboxInfo: SandboxInfoDocuments;
  ports: PortOpener;
  runner: CodeRunner;
  notebooks: SandboxNotebookController;
  sessions: InterpreterSessions;
  templates: TemplatesTreeProvider;
  templateBuildLog: vscode.OutputChannel;
  volumesTree: VolumesTreeProvider;
  mcp: SandboxMcpDefinitions;
}

/** A command's handler: the arguments are whatever VS Code, a menu or a caller passes. */
// `any`: each handler declares the argument types it takes, and TypeScript's parameter
// contravariance lets only `any[]` (not `unknown[]`) accept all of them in one table.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CommandHandler = (...args: any[]) => unknown;

/** Every command id with its handler, grouped by what they act on. */
export function commandIndex(t: CommandTargets): Record<string, CommandHandler> {
  const s = t.services;
  return {
    // Explorer, connection and API key
    'e2b.refresh': () => refreshExplorer(s),
    'e2b.filterSandboxes': (filter?: SandboxFilter) => filterSandboxes(s, t.explorer, filter),
    'e2b.clearFilter': () => clearFilter(s, t.explorer),
    'e2b.loadMore': () => s.tree.loadMore(),
    'e2b.selectConnection': (kind?: ConnectionKind) => selectConnection(s, kind),
    'e2b.setApiKey': (key?: string) => setApiKey(s, key),
    'e2b.clearApiKey': () => clearApiKey(s),

    // One sandbox: create, lifecycle, info
    'e2b.createSandbox': (args?: CreateSandboxArgs) => createSandbox(s, args),
    'e2b.connectSandbox': (arg?: unknown) => connectSandbox(s, arg),
    'e2b.killSandbox': (arg?: unknown, options?: KillOptions) => killSandbox(s, arg, options),
    'e2b.setSandboxTimeout': (arg?: unknown, minutes?: number) => setSandboxTimeout(s, arg, minutes),
    'e2b.pauseSandbox': (arg?: unknown) => pauseSandbox(s, arg),
    'e2b.resumeSandbox': (arg?: unknown) => resumeSandbox(s, arg),
    'e2b.copySandboxId': (arg?: unknown) => copySandboxId(s, arg),
    'e2b.openPortUrl': (arg?: unknown, port?: number) => t.ports.open(arg, port),
    'e2b.showSandboxInfo': (arg?: unknown) => showSandboxInfo(s, t.sandboxInfo, arg),
    'e2b.showMetrics': (arg?: unknown) => showMetrics(s, arg),
    'e2b.editNetworkRules': (arg?: unknown, rules?: NetworkRules) => editNetworkRules(s, arg, rules),
    'e2b.copyMcpConfig': (arg?: unknown) => copyMcpConfig(s, t.mcp, arg),

    // Snapshots and forks
    'e2b.takeSnapshot': (arg?: unknown, options?: SnapshotCommandOptions) => takeSnapshot(s, arg, false, options?.name),
    'e2b.takeNamedSnapshot': (arg?: unknown, options?: SnapshotCommandOptions) => takeSnapshot(s, arg, true, options?.name),
    'e2b.startFromSnapshot': (arg?: unknown) => startFromSnapshot(s, arg),
    'e2b.deleteSnapshot': (arg?: unknown, options?: DeleteSnapshotOptions) => deleteSnapshot(s, arg, options),
    'e2b.forkSandbox': (arg?: unknown, options?: ForkOptions) => forkSandbox(s, arg, options),

    // Files
    'e2b.openSandboxFiles': (arg?: unknown, folder?: string) => openSandboxFiles(s, arg, folder),
    'e2b.openSandboxFile': (arg?: unknown, path?: string) => openSandboxFile(s, arg, path),
    'e2b.uploadToSandbox': (target?: unknown, localFiles?: vscode.Uri[]) => uploadToSandbox(s, target, localFiles),
    'e2b.downloadFromSandbox': (source?: unknown, localTarget?: vscode.Uri) => downloadFromSandbox(s, source, localTarget),

    // Terminals and commands
    'e2b.openTerminal': (arg?: unknown) => openTerminal(s, arg),
    'e2b.runCommand': (arg?: unknown, cmd?: string) => runCommand(s, arg, cmd),
    'e2b.attachProcess': (node: ProcessNode) => attachProcess(s, node),
    'e2b.killProcess': (node: ProcessNode) => killProcess(s, node),
    'e2b.reattachTerminals': () => s.terminals.reattachAll(),

    // Running code and notebooks
    'e2b.runSelection': () => runSelection(t.runner),
    'e2b.runFile': (uri?: vscode.Uri) => runFile(t.runner, uri),
    'e2b.notebook.selectSandbox': (notebook?: vscode.Uri, sandboxId?: string) =>
      selectNotebookSandbox(s, t.notebooks, t.sessions, notebook, sandboxId),
    'e2b.notebook.restartKernel': (notebook?: vscode.Uri) => restartNotebookKernel(t.notebooks, notebook),

    // Templates
    'e2b.refreshTemplates': () => t.templates.refresh(),
    'e2b.buildTemplate': (file?: vscode.Uri, name?: string) => buildTemplate(s, t.templates, t.templateBuildLog, file, name),
    'e2b.createFromTemplate': (node?: TemplateSummary | TemplateTagNode) => createFromTemplate(node),
    'e2b.assignTemplateTag': (node?: TemplateNode, tags?: string) => assignTemplateTag(s, t.templates, node, tags),
    'e2b.removeTemplateTag': (node?: TemplateTagNode) => removeTemplateTag(s, t.templates, node),

    // Volumes
    'e2b.refreshVolumes': () => t.volumesTree.refresh(),
    'e2b.createVolume': (name?: string) => createVolume(s, t.volumesTree, name),
    'e2b.deleteVolume': (arg?: VolumeNode | string, options?: DeleteVolumeOptions) => deleteVolume(s, t.volumesTree, arg, options),
    'e2b.newVolumeFile': (node?: VolumeNode, name?: string) => newVolumeEntry(t.volumesTree, false, node, name),
    'e2b.newVolumeFolder': (node?: VolumeNode, name?: string) => newVolumeEntry(t.volumesTree, true, node, name),
  };
}

/**
 * Registers every command of the index; a handler's failure is shown once, as a message that
 * says what to do. Returns the ids registered.
 */
export function registerCommands(targets: CommandTargets): string[] {
  const { services } = targets;
  const index = commandIndex(targets);
  for (const [id, handler] of Object.entries(index)) {
    services.context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (err) {
          services.errors.show(err);
          return undefined;
        }
      }),
    );
  }
  return Object.keys(index);
}
