// Owns the active connection: reads settings and secrets, finds or starts the local runtime (and,
// with e2b.local.autoStart, starts it again when it died), and tells everyone when the connection
// changes. Every feature reaches E2B through this.
import * as vscode from 'vscode';
import { ApiKeyStore } from './api-key-store';
import { DEFAULT_DATA_DIR } from '../../runtime/src/contract/local-runtime-contract';
import { ensureLocalRuntime, isRuntimeHealthy, LocalRuntimeEndpoint, readUsableLocalRuntimeEnv } from './local-runtime';
import { ConnectionKind, ConnectionProfile, CLOUD_DOMAIN } from './profile';
import { UserFacingError } from './user-errors';

const LOCAL_RUNTIME_START_TIMEOUT_MS = 180_000;

export class ConnectionService implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private profile?: Promise<ConnectionProfile>;
  /** What `profile` resolved to, to tell a report about it from one about an older profile. */
  private resolved?: ConnectionProfile;
  private checkingRuntime = false;
  /** An automatic start failed: not tried again by itself until the user retries (reset). */
  private autoStartFailed?: string;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly apiKeys: ApiKeyStore,
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('e2b')) this.reset();
      }),
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
      const profile = this.resolve();
      this.profile = profile;
      profile.then(
        (p) => {
          if (this.profile === profile) this.resolved = p;
        },
        () => {
          if (this.profile === profile) this.profile = undefined;
        },
      );
    }
    return this.profile;
  }

  /** Forgets the cached profile (after settings change, or to retry after an error). */
  reset(): void {
    this.profile = undefined;
    this.resolved = undefined;
    this.autoStartFailed = undefined;
    this.changed.fire();
  }

  /**
   * A call through `profile` found nothing answering. When that is the local runtime, auto-start
   * is on and the runtime is really down (not one slow answer), the cached profile is dropped and
   * resolved again at once, which starts the runtime: callers waiting on current() get the
   * restarted one, without anybody pressing Refresh.
   */
  reportUnreachable(profile: ConnectionProfile): void {
    if (profile.kind !== 'local' || profile !== this.resolved || this.checkingRuntime) return;
    if (!vscode.workspace.getConfiguration('e2b').get<boolean>('local.autoStart', true)) return;
    this.checkingRuntime = true;
    void (async () => {
      try {
        if (!profile.apiUrl || (await isRuntimeHealthy(profile.apiUrl))) return;
        if (profile !== this.resolved) return;
        this.log.warn(`local runtime: ${profile.apiUrl} stopped answering; starting it again (e2b.local.autoStart)`);
        this.profile = undefined;
        this.resolved = undefined;
        await this.current().catch((err) => this.log.error(`local runtime: restart failed: ${(err as Error).message}`));
      } finally {
        this.checkingRuntime = false;
      }
    })();
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
    const dataDir = config.get<string>('local.dataDir', DEFAULT_DATA_DIR);
    let endpoint = await readUsableLocalRuntimeEnv(dataDir, (problem) => this.log.warn(`local runtime: ${problem}`));
    if (!endpoint || !(await isRuntimeHealthy(endpoint.apiUrl))) {
      if (!config.get<boolean>('local.autoStart', true)) {
        throw new UserFacingError(
          `The local runtime is not running (nothing answers for ${dataDir}). Start it with "npm start" in the extension repository.`,
          ['Retry'],
          'unreachable',
        );
      }
      if (this.autoStartFailed) {
        throw new UserFacingError(
          `The local runtime is not running and starting it failed: ${this.autoStartFailed} Retry to start it again.`,
          ['Retry'],
          'unreachable',
        );
      }
      try {
        endpoint = await this.startLocalRuntime(dataDir);
      } catch (err) {
        this.autoStartFailed = (err as Error).message;
        throw err;
      }
    }
    return {
      kind: 'local',
      label: 'local runtime',
      apiKey: endpoint.apiKey,
      apiUrl: endpoint.apiUrl,
      sandboxUrl: endpoint.sandboxUrl,
      volumeApiUrl: endpoint.volumeApiUrl,
    };
  }

  /** Waits for a runtime that is coming up, or starts the bundled one, with a cancellable progress. */
  private async startLocalRuntime(dataDir: string): Promise<LocalRuntimeEndpoint> {
    this.log.info(`local runtime: not answering for ${dataDir}; waiting for it or starting the bundled runtime`);
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'Starting the local E2B runtime (the first start builds a sandbox image)…',
        cancellable: true,
      },
      async (_progress, token) => {
        let endpoint: LocalRuntimeEndpoint | undefined;
        try {
          endpoint = await ensureLocalRuntime(
            this.extensionPath,
            dataDir,
            LOCAL_RUNTIME_START_TIMEOUT_MS,
            () => token.isCancellationRequested,
            () => this.log.info(`local runtime: starting the bundled runtime for ${dataDir}`),
          );
        } catch (err) {
          throw new UserFacingError((err as Error).message, ['Retry']);
        }
        if (!endpoint) throw new UserFacingError(`The local runtime did not start: see ${dataDir}/runtime.log.`, ['Retry']);
        this.log.info(`local runtime: answering at ${endpoint.apiUrl}`);
        return endpoint;
      },
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
