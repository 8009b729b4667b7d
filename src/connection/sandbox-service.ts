// The one place the extension calls the E2B SDK for sandbox lifecycle. Errors come out as
// UserFacingErrors that say what to do; callers never see SDK internals.
import type { NetworkRules } from '../views/network-rules';
import * as vscode from 'vscode';
import type { Sandbox, SandboxInfo, SandboxState } from 'e2b';
import type { Sandbox as InterpreterSandbox } from '@e2b/code-interpreter';
import { backoffDelay, retryAfterMs, sleep } from './backoff';
import { ConnectionService } from './connection-service';
import { apiBaseUrl, ConnectionProfile, sandboxPortUrl, sdkOptions } from './profile';
import { toUserFacingError } from './user-errors';

let sdk: Promise<typeof import('e2b')> | undefined;
/** The E2B SDK, loaded on first use: evaluating it is most of the bundle's load time, so
 * activation does not pay for it (the bundle keeps it; only its evaluation waits). */
export function loadSdk(): Promise<typeof import('e2b')> {
  return (sdk ??= import('e2b'));
}

let interpreterSdk: Promise<typeof import('@e2b/code-interpreter')> | undefined;
/** The code-interpreter SDK (notebooks, Run Selection), loaded on first use like the base SDK. */
export function loadInterpreterSdk(): Promise<typeof import('@e2b/code-interpreter')> {
  return (interpreterSdk ??= import('@e2b/code-interpreter'));
}

export interface SandboxLifecycleEvent {
  id: string;
  type: string;
  timestamp: string;
  sandboxId: string;
  eventData: Record<string, unknown> | null;
}

export interface TemplateSummary {
  templateID: string;
  aliases?: string[];
  cpuCount?: number;
  memoryMB?: number;
  buildStatus?: string;
  updatedAt?: string;
}

/** One tag of a template and the build it points at (Template.getTags). */
export interface TemplateTagInfo {
  tag: string;
  buildId: string;
  createdAt: Date;
}
export interface SnapshotSummary {
  snapshotId: string;
  names: string[];
}

export interface SandboxListQuery {
  states?: SandboxState[];
  metadata?: Record<string, string>;
}
export interface SandboxPage {
  items: SandboxInfo[];
  nextToken?: string;
}

export interface CreateSandboxOptions {
  template: string;
  timeoutMs: number;
  metadata?: Record<string, string>;
  envs?: Record<string, string>;
  autoPause?: boolean;
  /** Volumes to mount: mount path → volume name. */
  volumeMounts?: Record<string, string>;
  /** Outbound network: internet on or off, or allow/deny lists (E2B's defaults when absent). */
  network?: NetworkRules;
}

export class SandboxService {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after this window changed a sandbox (created, killed, timeout set). */
  readonly onDidChangeSandboxes = this.changed.event;
  private readonly killed = new vscode.EventEmitter<string>();
  /** Fires with the id after this window killed a sandbox (or found it already gone while killing). */
  readonly onDidKill = this.killed.event;

  constructor(readonly connection: ConnectionService) {}

  async listPage(query: SandboxListQuery, limit: number, nextToken?: string): Promise<SandboxPage> {
    return this.call(undefined, async (opts) => {
      const { Sandbox } = await loadSdk();
      const paginator = Sandbox.list({ ...opts, limit, nextToken, query: { state: query.states, metadata: query.metadata } });
      const items = await paginator.nextItems();
      return { items, nextToken: paginator.hasNext ? paginator.nextToken : undefined };
    });
  }

  getInfo(sandboxId: string): Promise<SandboxInfo> {
    return this.call(sandboxId, async (opts) => (await loadSdk()).Sandbox.getInfo(sandboxId, opts));
  }

  async create(options: CreateSandboxOptions, signal?: AbortSignal): Promise<Sandbox> {
    const sandbox = await this.call(undefined, async (opts) =>
      (await loadSdk()).Sandbox.create(options.template, {
        ...opts,
        signal,
        timeoutMs: options.timeoutMs,
        metadata: options.metadata,
        envs: options.envs,
        lifecycle: options.autoPause ? { onTimeout: 'pause' } : undefined,
        volumeMounts: options.volumeMounts && Object.keys(options.volumeMounts).length ? options.volumeMounts : undefined,
        allowInternetAccess: options.network?.allowInternetAccess,
        network:
          options.network?.allowOut || options.network?.denyOut
            ? { allowOut: options.network.allowOut, denyOut: options.network.denyOut }
            : undefined,
      }),
    );
    this.changed.fire();
    return sandbox;
  }

  /** Replaces a running sandbox's egress rules (E2B's updateNetwork: omitted lists are cleared). */
  async updateNetwork(sandboxId: string, rules: NetworkRules): Promise<void> {
    await this.call(sandboxId, async (opts) =>
      (await loadSdk()).Sandbox.updateNetwork(
        sandboxId,
        {
          allowInternetAccess: rules.allowInternetAccess,
          allowOut: rules.allowOut,
          denyOut: rules.denyOut,
        },
        opts,
      ),
    );
    this.changed.fire();
  }

  /** Connects (making the sandbox usable from this window); a paused sandbox is resumed. */
  connect(sandboxId: string): Promise<Sandbox> {
    return this.call(sandboxId, async (opts) => (await loadSdk()).Sandbox.connect(sandboxId, opts));
  }

  /** A code-interpreter handle (runCode, code contexts) on the sandbox; see SandboxConnections. */
  connectInterpreter(sandboxId: string): Promise<InterpreterSandbox> {
    return this.call(sandboxId, async (opts) => (await loadInterpreterSdk()).Sandbox.connect(sandboxId, opts));
  }

  async kill(sandboxId: string): Promise<boolean> {
    const killed = await this.call(sandboxId, async (opts) => (await loadSdk()).Sandbox.kill(sandboxId, opts));
    this.killed.fire(sandboxId);
    this.changed.fire();
    return killed;
  }

  async setTimeout(sandboxId: string, timeoutMs: number): Promise<void> {
    await this.call(sandboxId, async (opts) => (await loadSdk()).Sandbox.setTimeout(sandboxId, timeoutMs, opts));
    this.changed.fire();
  }

  async pause(sandboxId: string): Promise<boolean> {
    const paused = await this.call(sandboxId, async (opts) => (await loadSdk()).Sandbox.pause(sandboxId, opts));
    this.changed.fire();
    return paused;
  }

  /** Resumes a paused sandbox (connect resumes); the caller asked for it explicitly. */
  async resume(sandboxId: string, timeoutMs?: number): Promise<void> {
    await this.call(sandboxId, async (opts) => (await loadSdk()).Sandbox.connect(sandboxId, { ...opts, timeoutMs }));
    this.changed.fire();
  }

  /** A snapshot of the sandbox's files (it runs on), under `name` or a new id. */
  async createSnapshot(sandboxId: string, name?: string): Promise<SnapshotSummary> {
    const snapshot = await this.call(sandboxId, async (opts) => (await loadSdk()).Sandbox.createSnapshot(sandboxId, { ...opts, name }));
    this.changed.fire();
    return snapshot;
  }

  /** Snapshots, newest first: those taken from `sandboxId`, or all of them. */
  async listSnapshots(sandboxId?: string, limit = 100): Promise<SnapshotSummary[]> {
    return this.call(sandboxId, async (opts) => {
      const paginator = (await loadSdk()).Sandbox.listSnapshots({ ...opts, sandboxId, limit: Math.min(limit, 100) });
      const out: SnapshotSummary[] = [];
      while (paginator.hasNext && out.length < limit) out.push(...(await paginator.nextItems()));
      return out.slice(0, limit);
    });
  }

  /** false when it was already gone. Sandboxes started from it keep running. */
  async deleteSnapshot(snapshotId: string): Promise<boolean> {
    const deleted = await this.call(undefined, async (opts) => (await loadSdk()).Sandbox.deleteSnapshot(snapshotId, opts));
    this.changed.fire();
    return deleted;
  }

  /** New sandboxes with the files and settings of a running one; one entry per fork (a sandbox id or why it failed). */
  async fork(sandboxId: string, count: number, timeoutMs: number): Promise<(string | Error)[]> {
    const forks = await this.call(sandboxId, async (opts) => (await loadSdk()).Sandbox.fork(sandboxId, { ...opts, count, timeoutMs }));
    this.changed.fire();
    return forks.map((f) => (f instanceof Error ? f : f.sandboxId));
  }

  getMetrics(sandboxId: string, start?: Date, end?: Date) {
    return this.call(sandboxId, async (opts) => (await loadSdk()).Sandbox.getMetrics(sandboxId, { ...opts, start, end }));
  }

  /** Lifecycle events from E2B's events API, newest first. */
  async events(sandboxId: string, limit = 50): Promise<SandboxLifecycleEvent[]> {
    const profile = await this.connection.current();
    return this.call(sandboxId, () =>
      apiGet<SandboxLifecycleEvent[]>(profile, `/events/sandboxes/${encodeURIComponent(sandboxId)}?limit=${limit}`),
    );
  }

  async portUrl(sandboxId: string, port: number): Promise<string> {
    return sandboxPortUrl(await this.connection.current(), sandboxId, port);
  }

  /** Template names for the create wizard; empty when the server does not list them. */
  async listTemplates(): Promise<string[]> {
    try {
      return (await this.templates()).map((t) => t.aliases?.[0] ?? t.templateID);
    } catch {
      return [];
    }
  }

  /** The team's templates (GET /templates). */
  async templates(): Promise<TemplateSummary[]> {
    const profile = await this.connection.current();
    return this.call(undefined, () => apiGet<TemplateSummary[]>(profile, '/templates'));
  }

  /** The tags of a template (name or ID), each with the build it points at. */
  templateTags(template: string): Promise<TemplateTagInfo[]> {
    return this.call(undefined, async (opts) => (await loadSdk()).Template.getTags(template, opts));
  }

  /** Points `tags` at the build `target` ("name" or "name:tag") points at; → that build's ID. */
  async assignTemplateTags(target: string, tags: string[]): Promise<string> {
    return this.call(undefined, async (opts) => (await (await loadSdk()).Template.assignTags(target, tags, opts)).buildId);
  }

  async removeTemplateTags(template: string, tags: string[]): Promise<void> {
    await this.call(undefined, async (opts) => (await loadSdk()).Template.removeTags(template, tags, opts));
  }

  /** Builds a template from an e2b.Dockerfile's content with the SDK, streaming its build log. */
  async buildTemplate(
    name: string,
    dockerfile: string,
    onLog: (line: string) => void,
    options: { cpuCount?: number; memoryMB?: number } = {},
  ): Promise<string> {
    const { Template } = await loadSdk();
    const info = await this.call(undefined, (opts) =>
      Template.build(Template().fromDockerfile(dockerfile), {
        ...opts,
        alias: name,
        cpuCount: options.cpuCount,
        memoryMB: options.memoryMB,
        onBuildLogs: (entry) => onLog(`${entry.timestamp.toISOString()} ${entry.level.padEnd(5)} ${entry.message}`),
      }),
    );
    this.changed.fire();
    return info.templateId;
  }

  private async call<T>(sandboxId: string | undefined, action: (opts: ReturnType<typeof sdkOptions>) => Promise<T>): Promise<T> {
    let profile: ConnectionProfile | undefined;
    try {
      profile = await this.connection.current();
      return await action(sdkOptions(profile));
    } catch (err) {
      const error = toUserFacingError(err, { connectionLabel: profile?.label ?? 'E2B connection', apiUrl: profile?.apiUrl, sandboxId });
      // A local runtime that died is started again (e2b.local.autoStart).
      if (error.kind === 'unreachable' && profile) this.connection.reportUnreachable(profile);
      throw error;
    }
  }
}

const RATE_LIMIT_RETRIES = 3;
const LONGEST_RETRY_AFTER_MS = 10_000;

/**
 * A GET on E2B's API outside the SDK (events, templates). A 429 is retried after the server's
 * Retry-After (as the SDK does for its own calls), a few times, then reported like any error.
 */
export async function apiGet<T>(profile: ConnectionProfile, path: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetchReconnecting(`${apiBaseUrl(profile)}${path}`, {
      headers: { 'X-API-KEY': profile.apiKey },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 429 && attempt < RATE_LIMIT_RETRIES) {
      await res.body?.cancel();
      await sleep(Math.min(retryAfterMs(res.headers.get('retry-after')) ?? backoffDelay(attempt), LONGEST_RETRY_AFTER_MS));
      continue;
    }
    // statusCode as on the SDK's own errors, so classifyFailure reads both alike.
    if (!res.ok) throw Object.assign(new Error(`${res.status}: ${await res.text()}`), { statusCode: res.status });
    return (await res.json()) as T;
  }
}

/**
 * fetch for a GET, tried a second time when the connection broke under it: a kept-alive
 * connection the server closed at that moment (after a 429 with Connection: close, an idle
 * timeout) fails the request without it having reached the server.
 */
async function fetchReconnecting(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET' && code !== 'EPIPE') throw err;
    return fetch(url, init);
  }
}
