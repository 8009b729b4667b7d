// Owns the sandboxes: creates them as crun containers, tracks their deadlines, kills them, and on
// start re-adopts the ones a previous runtime process left running.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { BlankDisks } from '../container/blank-disks';
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
import { readBootTemplate, writeBootTemplate } from './boot-template';
import { PooledSandbox, WarmPool } from './warm-pool';
import { LOCAL_TEAM_ID } from './team';
import { VolumeStore } from '../volumes/store';
import { resolveVolumeMounts, volumeOciMounts } from '../volumes/mounts';
import { SandboxNetworks } from '../network/sandbox-networks';
import { applyNetworkUpdate, networkEgressEventData, NetworkUpdate, parseCreateNetwork, SandboxNetwork } from './network-config';

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
  /** With autoPause: false makes the timeout's pause a filesystem-only one. */
  autoPauseMemory?: boolean;
  autoResume?: { enabled?: boolean };
  /** Checked and kept by network-config.ts. */
  network?: { allowPublicTraffic?: boolean; [setting: string]: unknown };
  /** `[{name, path}]`: volumes to mount (see volumes/mounts.ts). */
  volumeMounts?: unknown;
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
  /** Started from a snapshot: never from the warm pool (whose sandboxes have the template's files only). */
  fromSnapshot?: boolean;
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
  /** Every sandbox's disk size, instead of its template's. */
  diskSizeMB?: number;
  log: (line: string) => void;
  events: SandboxEvents;
  /** Ready sandboxes to keep per template id (empty: no warm pool). */
  warmPool?: Map<string, number>;
  /** The runtime's volumes, for create's volumeMounts. */
  volumes?: VolumeStore;
  /** Called once a sandbox's directory is gone (snapshot layers it used may go too). */
  afterDestroy?: (id: string) => void;
  /** Each sandbox's link to the host and its egress rules (none: loopback only). */
  network?: SandboxNetworks;
}

export class SandboxManager {
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly pending = new Map<string, Promise<unknown>>();
  /** Host pid of each sandbox's init, to notice sandboxes that died by themselves. */
  private readonly initPids = new Map<string, number>();
  private sweeper?: NodeJS.Timeout;
  private readonly blankDisks: BlankDisks;
  readonly metrics: MetricsSampler;
  readonly pool: WarmPool;

  constructor(
    private readonly paths: RuntimePaths,
    private readonly crun: Crun,
    private readonly templates: TemplateSource,
    private readonly options: ManagerOptions,
  ) {
    this.blankDisks = new BlankDisks(paths.blankDisksDir);
    this.metrics = new MetricsSampler(() => this.list().filter((s) => s.state === 'running').map((s) => ({
      id: s.sandboxID,
      cpuCount: s.cpuCount,
      memoryMB: s.memoryMB,
      diskSizeMB: s.diskSizeMB,
      upperDir: new SandboxBundle(this.paths.sandboxDir(s.sandboxID)).upper,
      cgroupPath: cgroupPathOf(s.sandboxID),
    })));
    this.pool = new WarmPool(options.warmPool ?? new Map(), {
      boot: (templateID) => this.bootForPool(templateID),
      discard: (id) => this.destroy(id),
      isAlive: (id) => isAlive(this.initPids.get(id)),
      log: options.log,
    });
  }

  get events(): SandboxEvents {
    return this.options.events;
  }

  /** Re-adopts sandboxes left by an earlier runtime; removes expired and half-created ones. */
  async restore(): Promise<void> {
    mkdirSync(this.paths.sandboxesDir, { recursive: true });
    const containers = new Map((await this.crun.list()).map((c) => [c.id, c]));
    for (const id of readdirSync(this.paths.sandboxesDir)) {
      const container = containers.get(containerName(id));
      containers.delete(containerName(id));
      // One sandbox's leftovers must never stop the runtime (and every other sandbox) from starting.
      await this.restoreOne(id, container)
        .catch((err) => this.options.log(`restore: ${id} left as it is, to be retried on the next start: ${String(err)}`));
    }
    // Containers in our crun root with no sandbox dir at all.
    for (const id of containers.keys()) await this.crun.deleteForce(id);
    await this.options.network?.adopt(new Map([...this.sandboxes.values()].filter((s) => this.initPids.has(s.sandboxID)).map((s) => [s.sandboxID, s])));
    this.options.log(`restore: ${this.sandboxes.size} sandbox(es) running`);
  }

  private async restoreOne(id: string, container: { status: string; pid: number } | undefined): Promise<void> {
    const record = readRecord(this.paths.sandboxDir(id));
    const alive = container && (container.status === 'running' || container.status === 'paused');
    if (record?.state === 'paused' && record.memoryKept === false) {
      // Paused without memory: only its files remain, by design (a container left by a crash mid-pause goes).
      if (container) await this.stopContainer(id);
      this.sandboxes.set(id, record);
    } else if (!record || record.state === 'creating' || !alive) {
      this.options.log(`restore: cleaning up ${id} (${!record ? 'no record' : record.state === 'creating' ? 'half-created or pooled' : 'container gone'})`);
      await this.destroy(id);
    } else if (record.state === 'running' && Date.parse(record.endAt) <= Date.now() && record.lifecycle.onTimeout !== 'pause') {
      this.options.log(`restore: ${id} expired while the runtime was down`);
      await this.destroy(id);
    } else {
      // A runtime that died while it was snapshotting the sandbox left it frozen.
      if (record.state === 'running' && container.status === 'paused') await this.crun.resume(containerName(id));
      this.sandboxes.set(id, record);
      this.initPids.set(id, container.pid);
    }
  }

  private resolveTemplate(name: string): ResolvedTemplate | undefined {
    const template = this.templates.resolve(name);
    return template && this.options.diskSizeMB ? { ...template, diskSizeMB: this.options.diskSizeMB } : template;
  }

  /** Starts the background work: expiry sweeps, metrics, the warm pool. */
  startSweeping(): void {
    this.pool.start();
    this.sweeper = setInterval(() => this.sweepExpired(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
    this.metrics.start();
  }

  /** Stops timers and empties the warm pool; sandboxes keep running for the next runtime to adopt. */
  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.metrics.stop();
    await this.pool.drain();
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

  /** The tail of a running sandbox's agent log, read through the agent; '' when paused or silent. */
  async agentLog(id: string): Promise<string> {
    if (this.require(id).state !== 'running') return '';
    try {
      const res = await agentRequest(this.socketPath(id), 'GET', '/logs', undefined, 2000);
      return res.status === 200 ? res.body : '';
    } catch {
      return '';
    }
  }

  socketPath(id: string): string {
    return new SandboxBundle(this.paths.sandboxDir(id)).socketPath;
  }

  async create(req: CreateRequest): Promise<SandboxRecord> {
    const templateName = req.templateID || 'base';
    const template = this.resolveTemplate(templateName);
    if (!template) throw notFound(`template '${templateName}' not found`);
    const settings = callerSettings(req);
    const volumeMounts = resolveVolumeMounts(this.options.volumes, req.volumeMounts);
    // A pooled sandbox is already booted: its mounts and layers cannot change any more.
    const pooled = volumeMounts.length || template.fromSnapshot ? undefined : this.pool.take(template.templateID, template.rootfs);
    const record = newRecord(pooled?.id ?? newSandboxId(), template, settings);
    if (volumeMounts.length) record.volumeMounts = volumeMounts;
    const id = record.sandboxID;
    const dir = this.paths.sandboxDir(id);
    // Persisted before anything is mounted, so a crash mid-create is found and cleaned up.
    if (!pooled) mkdirSync(dir, { recursive: true });
    writeRecord(dir, record);
    this.sandboxes.set(id, record);
    const creation = (async () => {
      if (!pooled) await this.boot(id, template);
      await this.handOut(record, template);
    })();
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

  /** The sandboxes (also paused or still being created) that mount a volume. */
  volumeUsers(volumeID: string): string[] {
    return [...this.sandboxes.values()].filter((s) => s.volumeMounts?.some((m) => m.volumeID === volumeID)).map((s) => s.sandboxID);
  }

  /** A blank sandbox for the warm pool: booted, start command running, no caller settings yet. */
  private async bootForPool(templateID: string): Promise<PooledSandbox | undefined> {
    const template = this.resolveTemplate(templateID);
    if (!template) return undefined;
    const record = newRecord(newSandboxId(), template, callerSettings({}));
    // On disk as 'creating': a runtime that dies now removes it on its next start.
    mkdirSync(this.paths.sandboxDir(record.sandboxID), { recursive: true });
    writeRecord(this.paths.sandboxDir(record.sandboxID), record);
    try {
      await this.boot(record.sandboxID, template);
      // One command through the agent's whole path (users, spawn, shell) so the caller's first
      // command finds everything loaded and compiled.
      await runInSandbox(this.socketPath(record.sandboxID), undefined, { cmd: 'true' }, true, 10_000);
    } catch (err) {
      await this.destroy(record.sandboxID);
      throw err;
    }
    return { id: record.sandboxID, rootfs: template.rootfs };
  }

  /**
   * Everything that does not depend on the caller: the container, its agent, and the template's
   * start command (which, as in E2B where it ran when the template was built, sees the template's
   * env vars but not the caller's).
   */
  private async boot(id: string, template: ResolvedTemplate): Promise<void> {
    const { rootfs, limits } = template;
    const bundle = new SandboxBundle(this.paths.sandboxDir(id));
    // Before anything async: from now on snapshot clean-up sees the layers this sandbox stacks on.
    writeBootTemplate(bundle.dir, template);
    const spec = sandboxOciSpec({
      sandboxId: id,
      limits,
      nodeBinary: this.options.nodeBinary,
      agentScript: this.options.agentScript,
      interpreterScript: this.options.interpreterScript,
      binDir: this.paths.binDir,
      socketDir: bundle.socketDir,
      cgroupsPath: cgroupPathOf(id),
      noNewPrivileges: this.options.noNewPrivileges,
      // From the record, so that every boot of this sandbox (a fresh one after an fs-only pause too) has them.
      extraMounts: [...volumeOciMounts(this.options.volumes, this.sandboxes.get(id)?.volumeMounts), ...(this.options.network?.prepare(id, bundle.dir) ?? [])],
    });
    await bundle.prepare(rootfs, spec, { sizeMB: template.diskSizeMB, blanks: this.blankDisks });
    const pid = await this.crun.run(containerName(id), bundle.dir, bundle.logFile);
    this.initPids.set(id, pid);
    // A pooled sandbox gets the defaults until it is handed out.
    await this.options.network?.attach(id, pid, this.sandboxes.get(id) ?? {});
    await waitForAgent(bundle.socketPath, AGENT_START_TIMEOUT_MS);
    await this.initAgent(bundle.socketPath, { envVars: sandboxEnv(id, template, {}), defaultUser: template.defaultUser ?? 'user', defaultWorkdir: template.defaultWorkdir });
    if (template.start) await this.runStartCommands(bundle.socketPath, template.start);
  }

  /** Gives a booted sandbox to its caller: their env vars and access token. */
  private async handOut(record: SandboxRecord, template: ResolvedTemplate): Promise<void> {
    await this.options.network?.apply(record.sandboxID, record);
    await this.initAgent(this.socketPath(record.sandboxID), {
      envVars: sandboxEnv(record.sandboxID, template, record.envVars),
      accessToken: record.envdAccessToken,
      defaultUser: template.defaultUser ?? 'user',
      defaultWorkdir: template.defaultWorkdir,
      timestamp: new Date().toISOString(),
    });
  }

  private async initAgent(socketPath: string, body: object): Promise<void> {
    const init = await agentRequest(socketPath, 'POST', '/init', body);
    if (init.status !== 204) throw new Error(`agent refused /init: ${init.status} ${init.body}`);
  }

  /** The template's start command in the background, then its ready command until it passes. */
  private async runStartCommands(socketPath: string, start: SandboxStart): Promise<void> {
    if (start.startCmd) {
      await runInSandbox(socketPath, undefined, { cmd: start.startCmd, user: start.user }, false);
    }
    if (!start.readyCmd) return;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last: CommandOutcome | undefined;
    while (Date.now() < deadline) {
      last = await runInSandbox(socketPath, undefined, { cmd: start.readyCmd, user: start.user }, true, 10_000);
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
  async connect(id: string, timeoutSeconds: unknown, memory?: unknown): Promise<{ record: SandboxRecord; resumed: boolean }> {
    // Checked before anything happens: a bad timeout must not leave a paused sandbox thawed.
    const seconds = timeoutSeconds === undefined ? undefined : validTimeout(timeoutSeconds);
    if (memory !== undefined && typeof memory !== 'boolean') throw badRequest('memory must be a boolean');
    await this.pending.get(id);
    const record = this.require(id);
    if (record.state === 'paused') return { record: await this.resume(id, seconds, memory === false), resumed: true };
    if (seconds === undefined) return { record, resumed: false };
    const wanted = Date.now() + seconds * 1000;
    if (wanted > Date.parse(record.endAt)) {
      record.endAt = new Date(wanted).toISOString();
      writeRecord(this.paths.sandboxDir(id), record);
      this.events.record('updated', record, { set_timeout: record.endAt });
    }
    return { record, resumed: false };
  }

  /** Replaces a running sandbox's egress settings; the host's rules change with them. */
  async updateNetwork(id: string, update: NetworkUpdate): Promise<void> {
    await this.pending.get(id);
    const record = this.require(id);
    if (record.state !== 'running') throw conflict(`Sandbox "${id}" is in ${record.state} state`);
    record.network = applyNetworkUpdate(record.network, update);
    if (update.allowInternetAccess !== undefined) record.allowInternetAccess = update.allowInternetAccess;
    writeRecord(this.paths.sandboxDir(id), record);
    await this.options.network?.apply(id, record);
    this.events.record('updated', record, networkEgressEventData(update));
  }

  /**
   * Freezes every process of the sandbox (cgroup freezer): memory, files and processes stay as
   * they are and no CPU is used. Without `keepMemory` its processes end instead and only its files
   * stay; resuming boots it afresh. The time left is kept and only counts again after resume.
   */
  async pause(id: string, keepMemory = true): Promise<void> {
    if (typeof keepMemory !== 'boolean') throw badRequest('memory must be a boolean');
    await this.pending.get(id);
    const record = this.require(id);
    if (record.state === 'paused') throw conflict(`sandbox "${id}" is already paused`);
    const pausing = (async () => {
      if (keepMemory) {
        await this.crun.pause(containerName(id));
        await this.waitForContainerStatus(id, 'paused');
      } else {
        await this.stopContainer(id);
      }
      record.pausedRemainingMs = Math.max(0, Date.parse(record.endAt) - Date.now());
      record.memoryKept = keepMemory;
      record.state = 'paused';
      writeRecord(this.paths.sandboxDir(id), record);
      this.metrics.forget(id);
      this.events.record('paused', record);
    })();
    this.pending.set(id, pausing.catch(() => undefined).finally(() => this.pending.delete(id)));
    await pausing;
  }

  /**
   * Thaws a paused sandbox; it runs for the time it had left, or `timeoutSeconds` if longer. One
   * paused without memory (or asked to with `reboot`) boots again from its files instead.
   */
  async resume(id: string, timeoutSeconds?: unknown, reboot = false): Promise<SandboxRecord> {
    const wanted = timeoutSeconds === undefined ? 0 : validTimeout(timeoutSeconds) * 1000;
    const record = this.require(id);
    if (record.state !== 'paused') throw conflict(`sandbox "${id}" is already running`);
    if (record.memoryKept === false || reboot) {
      const booting = this.rebootFromFiles(record);
      this.pending.set(id, booting.catch(() => undefined).finally(() => this.pending.delete(id)));
      await booting;
    } else {
      await this.crun.resume(containerName(id));
      await this.waitForContainerStatus(id, 'running');
    }
    record.memoryKept = undefined;
    record.endAt = new Date(Date.now() + Math.max(record.pausedRemainingMs ?? 0, wanted)).toISOString();
    record.pausedRemainingMs = undefined;
    record.state = 'running';
    writeRecord(this.paths.sandboxDir(id), record);
    this.events.record('resumed', record);
    return record;
  }

  /** Ends the container and its processes; the sandbox's disk and layer stay, unmounted. */
  private async stopContainer(id: string): Promise<void> {
    // Frozen processes cannot die: thaw before killing.
    if ((await this.crun.state(containerName(id)))?.status === 'paused') await this.crun.resume(containerName(id)).catch(() => undefined);
    await this.crun.deleteForce(containerName(id));
    this.initPids.delete(id);
    await this.options.network?.detach(id);
    await new SandboxBundle(this.paths.sandboxDir(id)).unmount();
  }

  /** A cold boot from the sandbox's own files: the template's start command runs again. */
  private async rebootFromFiles(record: SandboxRecord): Promise<void> {
    const id = record.sandboxID;
    const template = readBootTemplate(this.paths.sandboxDir(id));
    if (!template) throw new Error(`sandbox ${id} has no boot.json (started by an older runtime): it cannot boot again from its files`);
    await this.stopContainer(id);
    await this.boot(id, template);
    await this.handOut(record, template);
  }

  /**
   * Runs `work` while every process of a running sandbox is frozen, so its files hold still (a
   * consistent snapshot), then thaws it: the sandbox keeps running, its timeout untouched.
   */
  async whileFrozen<T>(id: string, action: string, work: (upperDir: string, boot: ResolvedTemplate) => Promise<T>): Promise<T> {
    await this.pending.get(id);
    const record = this.require(id);
    if (record.state !== 'running') throw conflict(`Sandbox '${id}' is ${record.state} and cannot be ${action}; resume it first`);
    const boot = readBootTemplate(this.paths.sandboxDir(id));
    if (!boot) throw new ApiError(500, `sandbox ${id} was started by an older runtime and cannot be ${action}`);
    const job = (async () => {
      await this.crun.pause(containerName(id));
      try {
        await this.waitForContainerStatus(id, 'paused');
        return await work(new SandboxBundle(this.paths.sandboxDir(id)).upper, boot);
      } finally {
        await this.crun.resume(containerName(id));
        await this.waitForContainerStatus(id, 'running');
      }
    })();
    this.pending.set(id, job.catch(() => undefined).finally(() => this.pending.delete(id)));
    return job;
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
        void this.pause(record.sandboxID, record.autoPauseMemory !== false).catch((err) => this.options.log(`auto-pause ${record.sandboxID}: ${String(err)}`));
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
    // Recorded as it leaves the API: whoever sees it gone (404) finds the event there already.
    if (record && record.state !== 'creating') this.events.record('killed', record);
    this.initPids.delete(id);
    this.metrics.forget(id);
    // Frozen processes cannot die: thaw before killing.
    if (record?.state === 'paused') await this.crun.resume(containerName(id)).catch(() => undefined);
    await this.crun.deleteForce(containerName(id));
    await this.options.network?.detach(id);
    const bundle = new SandboxBundle(this.paths.sandboxDir(id));
    if (existsSync(bundle.dir)) await bundle.remove();
    this.options.afterDestroy?.(id);
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

/** What a create request asks for, checked before any sandbox is touched. */
interface CallerSettings {
  timeoutSeconds: number;
  metadata: Record<string, string>;
  envVars: Record<string, string>;
  secure: boolean;
  trafficToken: boolean;
  autoPause: boolean;
  autoPauseMemory?: boolean;
  autoResume: boolean;
  allowInternetAccess: boolean;
  network?: SandboxNetwork;
}

function callerSettings(req: CreateRequest): CallerSettings {
  return {
    timeoutSeconds: validTimeout(req.timeout ?? DEFAULT_TIMEOUT_S),
    metadata: stringMap(req.metadata, 'metadata'),
    envVars: stringMap(req.envVars, 'envVars'),
    secure: req.secure !== false,
    trafficToken: req.network?.allowPublicTraffic === false,
    autoPause: !!req.autoPause,
    autoPauseMemory: validAutoPauseMemory(req),
    autoResume: !!req.autoResume?.enabled,
    allowInternetAccess: req.allow_internet_access !== false,
    network: parseCreateNetwork(req.network),
  };
}

function newRecord(id: string, template: ResolvedTemplate, settings: CallerSettings): SandboxRecord {
  const now = new Date();
  return {
    sandboxID: id,
    templateID: template.templateID,
    alias: template.alias,
    envdVersion: ENVD_VERSION,
    envdAccessToken: settings.secure ? newAccessToken() : undefined,
    trafficAccessToken: settings.trafficToken ? newAccessToken() : undefined,
    startedAt: now.toISOString(),
    endAt: new Date(now.getTime() + settings.timeoutSeconds * 1000).toISOString(),
    cpuCount: template.limits.cpuCount,
    memoryMB: template.limits.memoryMB,
    diskSizeMB: template.diskSizeMB,
    metadata: settings.metadata,
    envVars: settings.envVars,
    state: 'creating',
    lifecycle: { onTimeout: settings.autoPause ? 'pause' : 'kill', autoResume: settings.autoResume },
    autoPauseMemory: settings.autoPauseMemory,
    allowInternetAccess: settings.allowInternetAccess,
    network: settings.network,
  };
}

/** Every process's environment: E2B's sandbox variables, the template's ENV, the caller's. */
function sandboxEnv(id: string, template: ResolvedTemplate, callerEnv: Record<string, string>): Record<string, string> {
  return { E2B_SANDBOX: 'true', E2B_SANDBOX_ID: id, E2B_TEMPLATE_ID: template.templateID, E2B_TEAM_ID: LOCAL_TEAM_ID, ...template.envVars, ...callerEnv };
}

/** E2B's rule: a filesystem-only pause cannot be resumed by traffic, so not with autoResume. */
function validAutoPauseMemory(req: CreateRequest): boolean | undefined {
  const value = req.autoPauseMemory as unknown;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badRequest('autoPauseMemory must be a boolean');
  if (value === false && req.autoResume?.enabled) throw badRequest('autoResume cannot be combined with autoPauseMemory: false: a filesystem-only pause must be resumed explicitly (connect)');
  return value;
}

function validTimeout(value: unknown): number {
  // null, "", false would all be 0 to Number(): a kill nobody asked for.
  if (typeof value !== 'number') throw badRequest(`timeout must be a number of seconds, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  const seconds = value;
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
