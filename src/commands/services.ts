// What the commands work with, built once in activate().
import * as vscode from 'vscode';
import { ApiKeyStore } from '../connection/api-key-store';
import { ConnectionService } from '../connection/connection-service';
import { SandboxConnections } from '../connection/sandbox-connections';
import { SandboxService } from '../connection/sandbox-service';
import { VolumeService } from '../connection/volume-service';
import { SandboxFileSystemProvider } from '../providers/files/sandbox-file-system';
import { WorkspaceEntryCarrier } from '../providers/files/workspace-entry';
import { SandboxTerminals } from '../providers/terminal/sandbox-terminals';
import { ActiveSandbox } from '../views/active-sandbox';
import { ErrorNotifier } from '../views/error-notifier';
import { RefreshScheduler } from '../views/refresh-scheduler';
import { SandboxTreeProvider } from '../views/sandbox-tree';

export interface Services {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  apiKeys: ApiKeyStore;
  connection: ConnectionService;
  sandboxes: SandboxService;
  volumes: VolumeService;
  connections: SandboxConnections;
  files: SandboxFileSystemProvider;
  terminals: SandboxTerminals;
  tree: SandboxTreeProvider;
  refresher: RefreshScheduler;
  active: ActiveSandbox;
  errors: ErrorNotifier;
  workspaceEntry: WorkspaceEntryCarrier;
}

/** Registers a command whose failures are shown once, as a message that says what to do. */
export function registerCommand<Args extends unknown[]>(services: Services, id: string, handler: (...args: Args) => unknown): void {
  services.context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await handler(...(args as Args));
    } catch (err) {
      services.errors.show(err);
      return undefined;
    }
  }));
}
