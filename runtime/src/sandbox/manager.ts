// Owns the sandboxes: creates them, tracks their deadlines, pauses, resumes and kills them, and on
// start re-adopts the ones a previous runtime process left running. Every lifecycle operation on a
// sandbox runs under its operation lock. Input arrives checked and typed (the server parses
// requests); failures are the runtime's own errors (../errors.ts), which the server maps to HTTP.
import { mkdirSync, readdirSync } from 'node:fs';
import { Crun } from '../container/crun';
import { cgroupPathOf, containerName } from '../container/names';
import { RuntimePaths } from '../paths';
import { agentRequest } from '../envd/agent-link';
import { conflict, notFound } from '../errors';
import { SandboxEvents } from './events';
import { MetricsSampler } from './metrics';
import { newSandboxId } from './ids';
import { readRecord, SandboxRecord, stageRecord, writeRecord } from './record';
import { readBootTemplate } from './boot-template';
import { PooledSandbox, WarmPool } from './warm-pool';
import { VolumeStore } from '../volumes/store';
import { SandboxNetworks } from '../network/sandbox-networks';
import { applyNetworkUpdate, networkEgressEventData, NetworkUpdate } from './network-config';
import { OperationLock } from './operation-lock';
import { SandboxContainers } from './sandbox-containers';
import { BLANK_SETTINGS, newRecord, SandboxSettings } from './settings';
import { ResolvedTemplate, TemplateSource } from './template-source';

const SWEEP_INTERVAL_MS = 200;
/**
 * Each sweep looks for dead inits in one in this many sandboxes (a /proc read each, ~0.5 ms on a
 * busy host: every sandbox every sweep was a quarter of the event loop at 100 sandboxes), so a
 * sandbox that died is noticed within a second; expiry is still checked every sweep.
 */
const LIVENESS_SWEEP_GROUPS = 5;

export interface ManagerOptions {
  nodeBinary: string;
  /** See ContainerOptions.agentIdleExitMs. */
  agentIdleExitMs?: number;
  agentScript: string;
  interpreterScript: string;
  noNewPrivileges: boolean;
  /** Every sandbox's disk size, instead of its template's. */
  diskSizeMB?: number;
  log: (line: string) => void;
  events: SandboxEvents;
  /** Ready sandboxes to keep per template id (empty: no warm pool). */
  warmPool?: Map<string, number>;
  /** The runtime's volumes, for the sandboxes that mount some. */
  volumes?: VolumeStore;
  /** Called once a sandbox's directory is gone (snapshot layers it used may go too). */
  afterDestroy?: (id: string) => void;
  /** Each sandbox's link to the host and its egress rules (none: loopback only). */
  network?: SandboxNetworks;
}

export class SandboxManager {
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly lock = new OperationLock();
  private readonly containers: SandboxContainers;
  private sweeper?: NodeJS.Timeout;
  private sweeps = 0;
  readonly metrics: MetricsSampler;
  readonly pool: WarmPool;

  constructor(
    private readonly paths: RuntimePaths,
    private readonly crun: Crun,
    private readonly templates: TemplateSource,
    private readonly options: ManagerOptions,
  ) {
    this.containers = new SandboxContainers(paths, crun, options);
    this.metrics = new MetricsSampler(() =>
      this.list()
        .filter((s) => s.state === 'running')
        .map((s) => ({
          id: s.sandboxID,
          cpuCount: s.cpuCount,
          memoryMB: s.memoryMB,
          diskSizeMB: s.diskSizeMB,
          layer: this.containers.layerOf(s.sandboxID),
          cgroupPath: cgroupPathOf(s.sandboxID),
        })),
    );
    this.pool = new WarmPool(options.warmPool ?? new Map(), {
      boot: (templateID) => this.bootForPool(templateID),
      discard: (id) => this.destroy(id),
      isAlive: (id) => this.containers.isAlive(id),
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
      await this.restoreOne(id, container).catch((err) =>
        this.options.log(`restore: ${id} left as it is, to be retried on the next start: ${String(err)}`),
      );
    }
    // Containers in our crun root with no sandbox dir at all.
    for (const id of containers.keys()) await this.crun.deleteForce(id);
    await this.options.network?.adopt(
      new Map([...this.sandboxes.values()].filter((s) => this.containers.hasInit(s.sandboxID)).map((s) => [s.sandboxID, s])),
    );
    this.options.log(`restore: ${this.sandboxes.size} sandbox(es) running`);
  }

  private async restoreOne(id: string, container: { status: string; pid: number } | undefined): Promise<void> {
    const record = readRecord(this.paths.sandboxDir(id));
    const alive = container && (container.status === 'running' || container.status === 'paused');
    if (record?.state === 'paused' && record.memoryKept === false) {
      // Paused without memory: only its files remain, by design (a container left by a crash mid-pause goes).
      if (container) await this.containers.stop(id);
      this.sandboxes.set(id, record);
    } else if (!record || record.state === 'creating' || !alive) {
      this.options.log(
        `restore: cleaning up ${id} (${!record ? 'no record' : record.state === 'creating' ? 'half-created or pooled' : 'container gone'})`,
      );
      await this.destroy(id);
    } else if (record.state === 'running' && Date.parse(record.endAt) <= Date.now() && record.lifecycle.onTimeout !== 'pause') {
      this.options.log(`restore: ${id} expired while the runtime was down`);
      await this.destroy(id);
    } else {
      // A runtime that died while it was snapshotting the sandbox left it frozen.
      if (record.state === 'running' && container.status === 'paused') await this.crun.resume(containerName(id));
      this.sandboxes.set(id, record);
      this.containers.adopt(id, container.pid);
    }
  }

  /** The template (or snapshot) a sandbox would start from; not found: the SDK's 404. */
  template(name: string): ResolvedTemplate {
    const template = this.resolveTemplate(name);
    if (!template) throw notFound(`template '${name}' not found`);
    return template;
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
    return this.containers.socketPath(id);
  }

  /** A new sandbox of `template` (see template()) with the caller's checked settings. */
  create(template: ResolvedTemplate, settings: SandboxSettings): Promise<SandboxRecord> {
    return this.pool.whileCreating(() => this.createNow(template, settings));
  }

  private async createNow(template: ResolvedTemplate, settings: SandboxSettings): Promise<SandboxRecord> {
    // A pooled sandbox is already booted: its mounts and layers cannot change any more.
    const pooled = settings.volumeMounts.length || template.fromSnapshot ? undefined : this.pool.take(template.templateID, template.rootfs);
    const record = newRecord(pooled?.id ?? newSandboxId(), template, settings);
    const id = record.sandboxID;
    const dir = this.paths.sandboxDir(id);
    // Persisted before anything is mounted, so a crash mid-create is found and cleaned up (a
    // pooled sandbox's record is on disk as 'creating' already: a crash now removes it all the same).
    if (!pooled) {
      mkdirSync(dir, { recursive: true });
      writeRecord(dir, record);
    }
    this.sandboxes.set(id, record);
    return this.lock.run(id, async () => {
      try {
        // Written (off the event loop) while the sandbox boots or the agent takes the caller's
        // settings; the record turns 'running' on disk, one rename, only once they are applied: a
        // crash before still removes it.
        const staged = stageRecord(dir, { ...record, state: 'running' });
        const start = pooled ? this.containers.handOut(record, template) : this.containers.bootFor(record, template);
        await start.catch(async (err: unknown) => {
          await staged.settled;
          throw err;
        });
        record.state = 'running';
        await staged.commit();
        this.events.record('created', record);
        return record;
      } catch (err) {
        this.options.log(`create ${id} failed: ${String(err)}`);
        await this.destroy(id);
        throw new Error(`failed to start sandbox: ${(err as Error).message}`, { cause: err });
      }
    });
  }

  /** The sandboxes (also paused or still being created) that mount a volume. */
  volumeUsers(volumeID: string): string[] {
    return [...this.sandboxes.values()].filter((s) => s.volumeMounts?.some((m) => m.volumeID === volumeID)).map((s) => s.sandboxID);
  }

  /** A blank sandbox for the warm pool: booted, start command running, no caller settings yet. */
  private async bootForPool(templateID: string): Promise<PooledSandbox | undefined> {
    const template = this.resolveTemplate(templateID);
    if (!template) return undefined;
    const record = newRecord(newSandboxId(), template, BLANK_SETTINGS);
    // On disk as 'creating': a runtime that dies now removes it on its next start.
    mkdirSync(this.paths.sandboxDir(record.sandboxID), { recursive: true });
    writeRecord(this.paths.sandboxDir(record.sandboxID), record);
    try {
      await this.containers.boot(record.sandboxID, template, undefined);
      // So the caller's first command finds everything loaded and compiled.
      await this.containers.warmUp(record.sandboxID);
    } catch (err) {
      await this.destroy(record.sandboxID);
      throw err;
    }
    return { id: record.sandboxID, rootfs: template.rootfs };
  }

  async kill(id: string): Promise<boolean> {
    return this.lock.run(id, async () => {
      if (!this.sandboxes.has(id)) return false;
      await this.destroy(id);
      return true;
    });
  }

  /** The sandbox now lives `seconds` more (counted from its resume while it is paused). */
  async setTimeout(id: string, seconds: number): Promise<void> {
    await this.lock.run(id, async () => {
      const record = this.require(id);
      if (record.state === 'paused') record.pausedRemainingMs = seconds * 1000;
      else record.endAt = new Date(Date.now() + seconds * 1000).toISOString();
      writeRecord(this.paths.sandboxDir(id), record);
      this.events.record('updated', record, { set_timeout: new Date(Date.now() + seconds * 1000).toISOString() });
    });
  }

  /**
   * Connect resumes a paused sandbox (booting it from its files with `reboot`), and never shortens
   * a running sandbox's life, only extends it.
   */
  async connect(id: string, seconds: number | undefined, reboot: boolean): Promise<{ record: SandboxRecord; resumed: boolean }> {
    return this.lock.run(id, async () => {
      const record = this.require(id);
      if (record.state === 'paused') return { record: await this.resumeNow(record, seconds, reboot), resumed: true };
      if (seconds === undefined) return { record, resumed: false };
      const wanted = Date.now() + seconds * 1000;
      if (wanted > Date.parse(record.endAt)) {
        record.endAt = new Date(wanted).toISOString();
        writeRecord(this.paths.sandboxDir(id), record);
        this.events.record('updated', record, { set_timeout: record.endAt });
      }
      return { record, resumed: false };
    });
  }

  /** Replaces a running sandbox's egress settings; the host's rules change with them. */
  async updateNetwork(id: string, update: NetworkUpdate): Promise<void> {
    await this.lock.run(id, async () => {
      const record = this.require(id);
      if (record.state !== 'running') throw conflict(`Sandbox "${id}" is in ${record.state} state`);
      record.network = applyNetworkUpdate(record.network, update);
      if (update.allowInternetAccess !== undefined) record.allowInternetAccess = update.allowInternetAccess;
      writeRecord(this.paths.sandboxDir(id), record);
      await this.options.network?.apply(id, record);
      this.events.record('updated', record, networkEgressEventData(update));
    });
  }

  /**
   * Freezes every process of the sandbox (cgroup freezer): memory, files and processes stay as
   * they are and no CPU is used. Without `keepMemory` its processes end instead and only its files
   * stay; resuming boots it afresh. The time left is kept and only counts again after resume.
   */
  async pause(id: string, keepMemory: boolean): Promise<void> {
    await this.lock.run(id, async () => {
      const record = this.require(id);
      if (record.state === 'paused') throw conflict(`sandbox "${id}" is already paused`);
      if (keepMemory) await this.containers.freeze(id);
      else await this.containers.stop(id);
      record.pausedRemainingMs = Math.max(0, Date.parse(record.endAt) - Date.now());
      record.memoryKept = keepMemory;
      record.state = 'paused';
      writeRecord(this.paths.sandboxDir(id), record);
      this.metrics.forget(id);
      this.events.record('paused', record);
    });
  }

  /**
   * Thaws a paused sandbox; it runs for the time it had left, or `seconds` if longer. One paused
   * without memory (or asked to with `reboot`) boots again from its files instead.
   */
  async resume(id: string, seconds?: number, reboot = false): Promise<SandboxRecord> {
    return this.lock.run(id, async () => this.resumeNow(this.require(id), seconds, reboot));
  }

  /** resume's work, for a caller that holds the sandbox's lock. */
  private async resumeNow(record: SandboxRecord, seconds: number | undefined, reboot: boolean): Promise<SandboxRecord> {
    const id = record.sandboxID;
    if (record.state !== 'paused') throw conflict(`sandbox "${id}" is already running`);
    if (record.memoryKept === false || reboot) await this.rebootFromFiles(record);
    else await this.containers.thaw(id);
    record.memoryKept = undefined;
    record.endAt = new Date(Date.now() + Math.max(record.pausedRemainingMs ?? 0, (seconds ?? 0) * 1000)).toISOString();
    record.pausedRemainingMs = undefined;
    record.state = 'running';
    writeRecord(this.paths.sandboxDir(id), record);
    this.events.record('resumed', record);
    return record;
  }

  /** A cold boot from the sandbox's own files: the template's start command runs again. */
  private async rebootFromFiles(record: SandboxRecord): Promise<void> {
    const id = record.sandboxID;
    const template = readBootTemplate(this.paths.sandboxDir(id));
    if (!template) throw new Error(`sandbox ${id} has no boot.json (started by an older runtime): it cannot boot again from its files`);
    await this.containers.stop(id);
    await this.containers.bootFor(record, template);
  }

  /**
   * Runs `work` while every process of a running sandbox is frozen, so its files hold still (a
   * consistent snapshot), then thaws it: the sandbox keeps running, its timeout untouched.
   */
  async whileFrozen<T>(id: string, action: string, work: (upperDir: string, boot: ResolvedTemplate) => Promise<T>): Promise<T> {
    return this.lock.run(id, async () => {
      const record = this.require(id);
      if (record.state !== 'running') throw conflict(`Sandbox '${id}' is ${record.state} and cannot be ${action}; resume it first`);
      const boot = readBootTemplate(this.paths.sandboxDir(id));
      if (!boot) throw new Error(`sandbox ${id} was started by an older runtime and cannot be ${action}`);
      return this.containers.whileFrozen(id, () => work(this.containers.bundle(id).upper, boot));
    });
  }

  private sweepExpired(): void {
    const now = Date.now();
    const livenessGroup = this.sweeps++ % LIVENESS_SWEEP_GROUPS;
    for (const record of this.sandboxes.values()) {
      const id = record.sandboxID;
      if (record.state !== 'running' || this.lock.busy(id)) continue;
      const expired = Date.parse(record.endAt) <= now;
      // Ids are random: their last character spreads them evenly over the groups, and stays put.
      const checkLiveness = id.charCodeAt(id.length - 1) % LIVENESS_SWEEP_GROUPS === livenessGroup;
      const died = !expired && checkLiveness && !this.containers.isAlive(id);
      if (expired && !died && record.lifecycle.onTimeout === 'pause') {
        this.options.log(`sandbox ${id} reached its timeout: pausing it (auto-pause)`);
        void this.pause(id, record.autoPauseMemory !== false).catch((err) => this.options.log(`auto-pause ${id}: ${String(err)}`));
        continue;
      }
      if (expired || died) {
        this.options.log(`sandbox ${id} ${expired ? 'reached its timeout' : 'stopped by itself (its init exited)'}`);
        void this.lock.run(id, () => this.destroy(id)).catch((err) => this.options.log(`kill ${id}: ${String(err)}`));
      }
    }
  }

  /** Removes every trace of a sandbox on the host: processes, cgroups, crun state, mounts, files. */
  private async destroy(id: string): Promise<void> {
    const record = this.sandboxes.get(id);
    this.sandboxes.delete(id);
    // Recorded as it leaves the API: whoever sees it gone (404) finds the event there already.
    if (record && record.state !== 'creating') this.events.record('killed', record);
    this.metrics.forget(id);
    await this.containers.remove(id, record?.state === 'paused');
    this.options.afterDestroy?.(id);
  }
}
