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
  /** The active connection profile: resolved from settings and secrets, watched, reset on demand. */
  profile: ConnectionService;
  sandboxes: SandboxService;
  volumes: VolumeService;
  /** Connected SDK objects per sandbox (cached; dropped when the profile changes or the sandbox dies). */
  sandboxHandles: SandboxConnections;
  files: SandboxFileSystemProvider;
  terminals: SandboxTerminals;
  tree: SandboxTreeProvider;
  refresher: RefreshScheduler;
  active: ActiveSandbox;
  errors: ErrorNotifier;
  workspaceEntry: WorkspaceEntryCarrier;
}
