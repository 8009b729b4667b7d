// Owns the sandboxes: creates them as crun containers, tracks their deadlines, kills them, and on
// start re-adopts the ones a previous runtime process left running.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { Crun } from '../container/crun';
import { SandboxBundle } from '../container/bundle';
import { sandboxOciSpec, SandboxLimits } from '../container/oci-spec';
import { RuntimePaths } from '../paths';
import { agentRequest, waitForAgent } from './agent-link';
import { CommandOutcome, runInSandbox } from './agent-process';
import { SandboxStart } from '../image/recipes';
import { badRequest, conflict, notFound, ApiError } from './errors';
import { SandboxEvents } from './events';
import { MetricsSampler } from './metrics';
import { newAccessToken, newSandboxId } from './ids';
import { readRecord, SandboxRecord, writeRecord } from './record';

/** The envd version we speak: it unlocks the SDK features the agent implements (protocol §2.5). */
export const ENVD_VERSION = '0.6.4';
const AGENT_START_TIMEOUT_MS = 20000;
const READY_TIMEOUT_MS = 120_000;
const READY_POLL_MS = 50;
const DEFAULT_TIMEOUT_S = 300;
const MAX_TIMEOUT_S = 24 * 3600;
const SWEEP_INTERVAL_MS = 200;

export interface CreateRequest {
  templateID?: string;
  timeout?: number;
  metadata?: Record<string, string>;
  envVars?: Record<string, string>;
  secure?: boolean;
  allow_internet_access?: boolean;
  autoPause?: boolean;
  autoResume?: { enabled?: boolean };
  network?: { allowPublicTraffic?: boolean };
}

export interface ResolvedTemplate {
  templateID: string;
  alias?: string;
  rootfs: string;
  limits: SandboxLimits;
  diskSizeMB: number;
  start?: SandboxStart;
  /** Built templates: their ENV values, last USER and WORKDIR (sandboxes' defaults). */
  envVars?: Record<string, string>;
  defaultUser?: string;
  defaultWorkdir?: string;
}

export interface TemplateSource {
  /** Resolves a template id or alias to the image that backs it. */
  resolve(templateIdOrAlias: string): ResolvedTemplate | undefined;
}

export interface ManagerOptions {
  nodeBinary: string;
  agentScript: string;
  interpreterScript: string;
  noNewPrivileges: boolean;
  log: (line: string) => void;
  events: SandboxEvents;
}

export class SandboxManager {
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly pending = new Map<string, Promise<unknown>>();
  /** Host pid of each sandbox's init, to notice sandboxes that died by themselves. */
  private readonly initPids = new Map<string, number>();
  private sweeper?: NodeJS.Timeout;
  readonly metrics: MetricsSampler;

  constructor(
    private readonly paths: RuntimePaths,
    private readonly crun: Crun,
    private readonly templates: TemplateSource,
    private readonly options: ManagerOptions,
  ) {
    this.metrics = new MetricsSampler(() => this.list().filter((s) => s.state === 'running').map((s) => ({
      id: s.sandboxID,
      cpuCount: s.cpuCount,
      memoryMB: s.memoryMB,
      diskSizeMB: s.diskSizeMB,
      upperDir: new SandboxBundle(this.paths.sandboxDir(s.sandboxID)).upper,
      cgroupPath: cgroupPathOf(s.sandboxID),
    })));
  }

  get events(): SandboxEvents {
    return this.options.events;
  }

  /** Re-adopts sandboxes left by an earlier runtime; removes expired and half-created ones. */
  async restore(): Promise<void> {
    mkdirSync(this.paths.sandboxesDir, { recursive: true });
    const containers = new Map((await this.crun.list()).map((c) => [c.id, c]));
    for (const id of readdirSync(this.paths.sandboxesDir)) {
      const record = readRecord(this.paths.sandboxDir(id));
      const container = containers.get(containerName(id));
      containers.delete(containerName(id));
      const alive = container && (container.status === 'running' || container.status === 'paused');
      if (!record || record.state === 'creating' || !alive) {
        this.options.log(`restore: cleaning up ${id} (${!record ? 'no record' : record.state === 'creating' ? 'half-created' : 'container gone'})`);
        await this.destroy(id);
      } else if (record.state === 'running' && Date.parse(record.endAt) <= Date.now() && record.lifecycle.onTimeout !== 'pause') {
        this.options.log(`restore: ${id} expired while the runtime was down`);
        await this.destroy(id);
      } else {
        this.sandboxes.set(id, record);
        this.initPids.set(id, container.pid);
      }
    }
    // Containers in our crun root with no sandbox dir at all.
    for (const id of containers.keys()) await this.crun.deleteForce(id);
    this.options.log(`restore: ${this.sandboxes.size} sandbox(es) running`);
  }

  startSweeping(): void {
    this.sweeper = setInterval(() => this.sweepExpired(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
    this.metrics.start();
  }

  /** Stops timers; sandboxes keep running for the next runtime process to adopt. */
  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.metrics.stop();
  }

  list(): SandboxRecord[] {
    return [...this.sandboxes.values()].filter((s) => s.state !== 'creating');
  }

  get(id: string): SandboxRecord | undefined {
    const record = this.sandboxes.get(id);
    return record && record.state !== 'creating' ? record : undefined;
  }

  require(id: string): SandboxRecord {
    const record = this.get(id);
    if (!record) throw notFound(`sandbox "${id}" not found`);
    return record;
  }

  logFile(id: string): string {
    return new SandboxBundle(this.paths.sandboxDir(id)).logFile;
  }

  socketPath(id: string): string {
    return new SandboxBundle(this.paths.sandboxDir(id)).socketPath;
  }

  async create(req: CreateRequest): Promise<SandboxRecord> {
    const templateName = req.templateID || 'base';
    const template = this.templates.resolve(templateName);
    if (!template) throw notFound(`template '${templateName}' not found`);
    const timeout = validTimeout(req.timeout ?? DEFAULT_TIMEOUT_S);
    const now = new Date();
    const id = newSandboxId();
    const record: SandboxRecord = {
      sandboxID: id,
      templateID: template.templateID,
      alias: template.alias,
      envdVersion: ENVD_VERSION,
      envdAccessToken: req.secure === false ? undefined : newAccessToken(),
      trafficAccessToken: req.network?.allowPublicTraffic === false ? newAccessToken() : undefined,
      startedAt: now.toISOString(),
      endAt: new Date(now.getTime() + timeout * 1000).toISOString(),
      cpuCount: template.limits.cpuCount,
      memoryMB: template.limits.memoryMB,
      diskSizeMB: template.diskSizeMB,
      metadata: stringMap(req.metadata, 'metadata'),
      envVars: stringMap(req.envVars, 'envVars'),
      state: 'creating',
      lifecycle: { onTimeout: req.autoPause ? 'pause' : 'kill', autoResume: !!req.autoResume?.enabled },
      allowInternetAccess: req.allow_internet_access !== false,
    };
    const dir = this.paths.sandboxDir(id);
    mkdirSync(dir, { recursive: true });
    // Persisted before anything is mounted, so a crash mid-create is found and cleaned up.
    writeRecord(dir, record);
    this.sandboxes.set(id, record);
    const creation = this.startContainer(record, template);
    this.pending.set(id, creation.catch(() => undefined));
    try {
      await creation;
      record.state = 'running';
      writeRecord(dir, record);
      this.events.record('created', record);
      return record;
    } catch (err) {
      this.options.log(`create ${id} failed: ${String(err)}`);
      await this.destroy(id);
      throw new ApiError(500, `failed to start sandbox: ${(err as Error).message}`);
    } finally {
      this.pending.delete(id);
    }
  }

  private async startContainer(record: SandboxRecord, template: ResolvedTemplate): Promise<void> {
    const { rootfs, limits } = template;
    const bundle = new SandboxBundle(this.paths.sandboxDir(record.sandboxID));
    const spec = sandboxOciSpec({
      sandboxId: record.sandboxID,
      limits,
      nodeBinary: this.options.nodeBinary,
      agentScript: this.options.agentScript,
      interpreterScript: this.options.interpreterScript,
      binDir: this.paths.binDir,
      socketDir: bundle.socketDir,
      cgroupsPath: cgroupPathOf(record.sandboxID),
      noNewPrivileges: this.options.noNewPrivileges,
    });
    await bundle.prepare(rootfs, spec);
    await this.crun.run(containerName(record.sandboxID), bundle.dir, bundle.logFile);
    const state = await this.crun.state(containerName(record.sandboxID));
    if (state?.pid) this.initPids.set(record.sandboxID, state.pid);
    await waitForAgent(bundle.socketPath, AGENT_START_TIMEOUT_MS);
    const init = await agentRequest(bundle.socketPath, 'POST', '/init', {
      envVars: {
        E2B_SANDBOX: 'true',
        E2B_SANDBOX_ID: record.sandboxID,
        E2B_TEMPLATE_ID: record.templateID,
        ...template.envVars,
        ...record.envVars,
      },
      accessToken: record.envdAccessToken,
      defaultUser: template.defaultUser ?? 'user',
      defaultWorkdir: template.defaultWorkdir,
      timestamp: new Date().toISOString(),
    });
    if (init.status !== 204) throw new Error(`agent refused /init: ${init.status} ${init.body}`);
    if (template.start) await this.runStartCommands(bundle.socketPath, record, template.start);
  }

  /** The template's start command in the background, then its ready command until it passes. */
  private async runStartCommands(socketPath: string, record: SandboxRecord, start: SandboxStart): Promise<void> {
    if (start.startCmd) {
      await runInSandbox(socketPath, record.envdAccessToken, { cmd: start.startCmd, user: start.user }, false);
    }
    if (!start.readyCmd) return;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last: CommandOutcome | undefined;
    while (Date.now() < deadline) {
      last = await runInSandbox(socketPath, record.envdAccessToken, { cmd: start.readyCmd, user: start.user }, true, 10_000);
      if (last.exitCode === 0) return;
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
    throw new Error(`the template's ready command did not pass within ${READY_TIMEOUT_MS / 1000} s: ${start.readyCmd} (last output: ${last?.output.slice(-500)})`);
  }

  async kill(id: string): Promise<boolean> {
    await this.pending.get(id);
    if (!this.sandboxes.has(id)) return false;
    await this.destroy(id);
    return true;
  }

  setTimeout(id: string, timeoutSeconds: unknown): void {
    const record = this.require(id);
    const seconds = validTimeout(timeoutSeconds);
    if (record.state === 'paused') record.pausedRemainingMs = seconds * 1000;
    else record.endAt = new Date(Date.now() + seconds * 1000).toISOString();
    writeRecord(this.paths.sandboxDir(id), record);
    this.events.record('updated', record, { set_timeout: new Date(Date.now() + seconds * 1000).toISOString() });
  }

  /** Connect resumes a paused sandbox, and never shortens a running sandbox's life, only extends it. */
  async connect(id: string, timeoutSeconds: unknown): Promise<{ record: SandboxRecord; resumed: boolean }> {
    await this.pending.get(id);
    const record = this.require(id);
    if (record.state === 'paused') return { record: await this.resume(id, timeoutSeconds), resumed: true };
    if (timeoutSeconds === undefined) return { record, resumed: false };
    const wanted = Date.now() + validTimeout(timeoutSeconds) * 1000;
    if (wanted > Date.parse(record.endAt)) {
      record.endAt = new Date(wanted).toISOString();
      writeRecord(this.paths.sandboxDir(id), record);
      this.events.record('updated', record, { set_timeout: record.endAt });
    }
    return { record, resumed: false };
  }

  /**
   * Freezes every process of the sandbox (cgroup freezer): memory, files and processes stay as
   * they are and no CPU is used. The time left is kept and only counts again after resume.
   */
  async pause(id: string): Promise<void> {
    await this.pending.get(id);
    const record = this.require(id);
    if (record.state === 'paused') throw conflict(`sandbox "${id}" is already paused`);
    const pausing = (async () => {
      await this.crun.pause(containerName(id));
      await this.waitForContainerStatus(id, 'paused');
      record.pausedRemainingMs = Math.max(0, Date.parse(record.endAt) - Date.now());
      record.state = 'paused';
      writeRecord(this.paths.sandboxDir(id), record);
      this.metrics.forget(id);
      this.events.record('paused', record);
    })();
    this.pending.set(id, pausing.catch(() => undefined).finally(() => this.pending.delete(id)));
    await pausing;
  }

  /** Thaws a paused sandbox; it runs for the time it had left, or `timeoutSeconds` if longer. */
  async resume(id: string, timeoutSeconds?: unknown): Promise<SandboxRecord> {
    const record = this.require(id);
    if (record.state !== 'paused') throw conflict(`sandbox "${id}" is already running`);
    await this.crun.resume(containerName(id));
    await this.waitForContainerStatus(id, 'running');
    const wanted = timeoutSeconds === undefined ? 0 : validTimeout(timeoutSeconds) * 1000;
    record.endAt = new Date(Date.now() + Math.max(record.pausedRemainingMs ?? 0, wanted)).toISOString();
    record.pausedRemainingMs = undefined;
    record.state = 'running';
    writeRecord(this.paths.sandboxDir(id), record);
    this.events.record('resumed', record);
    return record;
  }

  /** `crun pause` can return while the freezer is still FREEZING: wait until it says so. */
  private async waitForContainerStatus(id: string, status: 'paused' | 'running'): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if ((await this.crun.state(containerName(id)))?.status === status) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`sandbox ${id} did not become ${status}`);
  }

  private sweepExpired(): void {
    const now = Date.now();
    for (const record of this.sandboxes.values()) {
      if (record.state !== 'running' || this.pending.has(record.sandboxID)) continue;
      const expired = Date.parse(record.endAt) <= now;
      const died = !expired && !isAlive(this.initPids.get(record.sandboxID));
      if (expired && !died && record.lifecycle.onTimeout === 'pause') {
        this.options.log(`sandbox ${record.sandboxID} reached its timeout: pausing it (auto-pause)`);
        void this.pause(record.sandboxID).catch((err) => this.options.log(`auto-pause ${record.sandboxID}: ${String(err)}`));
        continue;
      }
      if (expired || died) {
        this.options.log(`sandbox ${record.sandboxID} ${expired ? 'reached its timeout' : 'stopped by itself (its init exited)'}`);
        const killing = this.destroy(record.sandboxID).catch((err) => this.options.log(`kill ${record.sandboxID}: ${String(err)}`));
        this.pending.set(record.sandboxID, killing.finally(() => this.pending.delete(record.sandboxID)));
      }
    }
  }

  /** Removes every trace of a sandbox on the host: processes, cgroups, crun state, mounts, files. */
  private async destroy(id: string): Promise<void> {
    const record = this.sandboxes.get(id);
    this.sandboxes.delete(id);
    this.initPids.delete(id);
    this.metrics.forget(id);
    // Frozen processes cannot die: thaw before killing.
    if (record?.state === 'paused') await this.crun.resume(containerName(id)).catch(() => undefined);
    await this.crun.deleteForce(containerName(id));
    if (record && record.state !== 'creating') this.events.record('killed', record);
    const bundle = new SandboxBundle(this.paths.sandboxDir(id));
    if (existsSync(bundle.dir)) await bundle.remove();
  }
}

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    // A zombie still answers signal 0; its state letter (after the parenthesised name) says Z.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The sandbox's cgroup, below each hierarchy's root (v1) or the unified root (v2). */
export function cgroupPathOf(sandboxId: string): string {
  return `/e2b/${sandboxId}`;
}

export function containerName(sandboxId: string): string {
  return `e2b-${sandboxId}`;
}

function validTimeout(value: unknown): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw badRequest('timeout must be a non-negative number of seconds');
  if (seconds > MAX_TIMEOUT_S) throw badRequest(`timeout cannot be longer than ${MAX_TIMEOUT_S} seconds`);
  return Math.ceil(seconds);
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw badRequest(`${field}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}
