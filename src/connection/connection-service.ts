// Owns the active connection: reads settings and secrets, finds or starts the local runtime, and
// tells everyone when the connection changes. Every feature reaches E2B through this.
import * as vscode from 'vscode';
import { ApiKeyStore } from './api-key-store';
import { isRuntimeHealthy, readLocalRuntimeEnv, startBundledRuntime, waitForLocalRuntime } from './local-runtime';
import { ConnectionKind, ConnectionProfile, CLOUD_DOMAIN } from './profile';
import { UserFacingError } from './user-errors';

const LOCAL_RUNTIME_START_TIMEOUT_MS = 180_000;

export class ConnectionService implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private profile?: Promise<ConnectionProfile>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly apiKeys: ApiKeyStore, private readonly extensionPath: string, private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('e2b')) this.reset(); }),
      apiKeys.onDidChange(() => this.reset()),
      this.changed,
    );
  }

  get kind(): ConnectionKind {
    return vscode.workspace.getConfiguration('e2b').get<ConnectionKind>('connection', 'local');
  }

  /** The current profile, resolved once and cached until settings or secrets change. */
  current(): Promise<ConnectionProfile> {
    if (!this.profile) {
      this.profile = this.resolve();
      this.profile.catch(() => { this.profile = undefined; });
    }
    return this.profile;
  }

  /** Forgets the cached profile (after settings change, or to retry after an error). */
  reset(): void {
    this.profile = undefined;
    this.changed.fire();
  }

  private async resolve(): Promise<ConnectionProfile> {
    const config = vscode.workspace.getConfiguration('e2b');
    switch (this.kind) {
      case 'cloud': {
        const apiKey = await this.apiKeys.get();
        if (!apiKey) throw new UserFacingError('No E2B API key is set.', ['Set API Key'], 'auth');
        return { kind: 'cloud', label: 'E2B cloud', apiKey, domain: CLOUD_DOMAIN };
      }
      case 'selfHosted': {
        const apiUrl = config.get<string>('selfHosted.apiUrl', '').trim();
        if (!apiUrl) throw new UserFacingError('Set "e2b.selfHosted.apiUrl" to the API URL of your E2B deployment.', ['Open Settings']);
        const apiKey = await this.apiKeys.get();
        if (!apiKey) throw new UserFacingError('No API key is set for the self-hosted E2B.', ['Set API Key'], 'auth');
        return {
          kind: 'selfHosted',
          label: new URL(apiUrl).host,
          apiKey,
          apiUrl,
          sandboxUrl: config.get<string>('selfHosted.sandboxUrl', '').trim() || undefined,
          domain: config.get<string>('selfHosted.domain', '').trim() || undefined,
        };
      }
      default:
        return this.resolveLocal(config);
    }
  }

  private async resolveLocal(config: vscode.WorkspaceConfiguration): Promise<ConnectionProfile> {
    const dataDir = config.get<string>('local.dataDir', '/var/lib/e2b-local');
    let endpoint = await readLocalRuntimeEnv(dataDir);
    if (!endpoint || !(await isRuntimeHealthy(endpoint.apiUrl))) {
      if (!config.get<boolean>('local.autoStart', true)) {
        throw new UserFacingError(`The local runtime is not running (nothing answers for ${dataDir}). Start it with "npm start" in the extension repository.`, ['Retry'], 'unreachable');
      }
      endpoint = await this.startLocalRuntime(dataDir);
    }
    return { kind: 'local', label: 'local runtime', apiKey: endpoint.apiKey, apiUrl: endpoint.apiUrl, sandboxUrl: endpoint.sandboxUrl };
  }

  private async startLocalRuntime(dataDir: string) {
    this.log.info(`local runtime: not running for ${dataDir}; starting the bundled runtime`);
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Starting the local E2B runtime (the first start builds a sandbox image)…', cancellable: true },
      async (_progress, token) => {
        try {
          startBundledRuntime(this.extensionPath, dataDir);
        } catch (err) {
          throw new UserFacingError((err as Error).message, ['Retry']);
        }
        const endpoint = await waitForLocalRuntime(dataDir, LOCAL_RUNTIME_START_TIMEOUT_MS, () => token.isCancellationRequested);
        if (!endpoint) throw new UserFacingError(`The local runtime did not start: see ${dataDir}/runtime.log.`, ['Retry']);
        return endpoint;
      },
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
