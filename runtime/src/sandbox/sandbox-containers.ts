// The container side of a sandbox: boots it (bundle, crun container, network link, agent, the
// template's start command), hands a booted one to its caller, freezes and thaws it, and stops
// or removes its container. It knows nothing of records, deadlines or callers' requests: the
// manager decides when, this does how.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlankDisks } from '../container/blank-disks';
import { Crun } from '../container/crun';
import { SandboxBundle } from '../container/bundle';
import { cgroupPathOf, containerName } from '../container/names';
import { NATIVE_PROGRAMS } from '../container/native';
import { sandboxOciSpec } from '../container/oci-spec';
import { agentRequest, waitForAgent } from '../envd/agent-link';
import { CommandOutcome, runInSandbox } from '../envd/agent-process';
import { SandboxStart } from '../image/recipes';
import { SandboxNetworks } from '../network/sandbox-networks';
import { RuntimePaths } from '../paths';
import { sleep } from '../sleep';
import { VolumeStore } from '../volumes/store';
import { volumeOciMounts } from '../volumes/mounts';
import { writeBootTemplate } from './boot-template';
import { SandboxLayer } from './disk-usage';
import { SandboxRecord } from './record';
import { sandboxEnv } from './settings';
import { ResolvedTemplate } from './template-source';

const AGENT_START_TIMEOUT_MS = 20000;
const READY_TIMEOUT_MS = 120_000;
const READY_POLL_MS = 50;
/**
 * A fresh agent runs its code as bytecode until V8 has seen it a few times: this many commands
 * bring a pooled sandbox's first command closer to the speed of later ones (warm create → first
 * command 12.2 → 11.5 ms p50 over five interleaved runs here; one warm-up only loads the path).
 */
const WARM_UP_COMMANDS = 10;

export interface ContainerOptions {
  nodeBinary: string;
  agentScript: string;
  interpreterScript: string;
  noNewPrivileges: boolean;
  /** The runtime's volumes, for the sandboxes that mount some. */
  volumes?: VolumeStore;
  /** Each sandbox's link to the host and its egress rules (none: loopback only). */
  network?: SandboxNetworks;
  /**
   * A handed-out sandbox's agent exits after this long with nothing to do, and e2b-init starts it
   * again on the next connection (native/init.c); 0 or unset: never. A pool sandbox never sleeps.
   */
  agentIdleExitMs?: number;
}

export class SandboxContainers {
  /** Host pid of each sandbox's init, to notice sandboxes that died by themselves. */
  private readonly initPids = new Map<string, number>();
  /** Each sandbox's disk is a sparse copy of one blank image per size, made once per runtime. */
  private readonly blankDisks: BlankDisks;

  constructor(
    private readonly paths: RuntimePaths,
    readonly crun: Crun,
    private readonly options: ContainerOptions,
  ) {
    this.blankDisks = new BlankDisks(paths.blankDisksDir);
  }

  private get diskTool(): string {
    return join(this.paths.binDir, NATIVE_PROGRAMS.sandboxDisk);
  }

  bundle(id: string): SandboxBundle {
    return new SandboxBundle(this.paths.sandboxDir(id));
  }

  socketPath(id: string): string {
    return this.bundle(id).socketPath;
  }

  /** Where the sandbox's writable layer is, for its disk metrics. */
  layerOf(id: string): SandboxLayer {
    const bundle = this.bundle(id);
    return existsSync(bundle.diskImage) ? { upperDir: bundle.upper, diskDir: bundle.disk } : { upperDir: bundle.upper };
  }

  /** A container found running at start (re-adopted): its init pid, for liveness checks. */
  adopt(id: string, pid: number): void {
    this.initPids.set(id, pid);
  }

  hasInit(id: string): boolean {
    return this.initPids.has(id);
  }

  /** False once the sandbox's init has exited (or is a zombie); true while unknown. */
  isAlive(id: string): boolean {
    return isAlive(this.initPids.get(id));
  }

  /**
   * Everything that does not depend on the caller: the container, its agent, and the template's
   * start command (which, as in E2B where it ran when the template was built, sees the template's
   * env vars but not the caller's). `record`: the sandbox's, for its volumes and network (a pooled
   * sandbox has none yet and gets the defaults until it is handed out). `agentInit`: what the
   * agent's first /init carries, the template's settings unless the caller's are given.
   */
  async boot(id: string, template: ResolvedTemplate, record: SandboxRecord | undefined, agentInit?: object): Promise<void> {
    const { rootfs, limits } = template;
    const bundle = this.bundle(id);
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
      extraMounts: [
        ...volumeOciMounts(this.options.volumes, record?.volumeMounts),
        ...(this.options.network?.prepare(id, bundle.dir) ?? []),
      ],
    });
    await bundle.prepare(rootfs, spec, this.diskTool, { sizeMB: template.diskSizeMB, blanks: this.blankDisks });
    const pid = await this.crun.run(containerName(id), bundle.dir, bundle.logFile);
    this.initPids.set(id, pid);
    await this.options.network?.attach(id, pid, record ?? {});
    await waitForAgent(bundle.socketPath, AGENT_START_TIMEOUT_MS);
    await this.initAgent(
      bundle.socketPath,
      agentInit ?? {
        envVars: sandboxEnv(id, template, {}),
        defaultUser: template.defaultUser ?? 'user',
        defaultWorkdir: template.defaultWorkdir,
      },
    );
    if (template.start) await this.runStartCommands(bundle.socketPath, template.start);
  }

  /**
   * Boots a sandbox for its caller. Without a start command nothing runs between boot and hand-out,
   * so the agent's first /init carries the caller's settings: one /init, and the agent's warm-up
   * for the first command (which follows the first /init) does not hold up a second one.
   */
  async bootFor(record: SandboxRecord, template: ResolvedTemplate): Promise<void> {
    if (template.start) {
      await this.boot(record.sandboxID, template, record);
      await this.handOut(record, template);
      return;
    }
    // The network link is attached with the record's egress rules already.
    await this.boot(record.sandboxID, template, record, this.callerInit(record, template));
  }

  /** Gives a booted sandbox to its caller: their egress rules, env vars and access token. */
  async handOut(record: SandboxRecord, template: ResolvedTemplate): Promise<void> {
    await this.options.network?.apply(record.sandboxID, record);
    await this.initAgent(this.socketPath(record.sandboxID), this.callerInit(record, template));
  }

  /** The /init that gives the agent its caller's env vars, access token and idle exit. */
  private callerInit(record: SandboxRecord, template: ResolvedTemplate): object {
    return {
      envVars: sandboxEnv(record.sandboxID, template, record.envVars),
      accessToken: record.envdAccessToken,
      defaultUser: template.defaultUser ?? 'user',
      defaultWorkdir: template.defaultWorkdir,
      idleExitMs: this.options.agentIdleExitMs ?? 0,
      timestamp: new Date().toISOString(),
    };
  }

  /** Commands through the agent's whole path (users, spawn, shell), so the next one finds it all loaded and compiled. */
  async warmUp(id: string): Promise<void> {
    for (let i = 0; i < WARM_UP_COMMANDS; i++) await runInSandbox(this.socketPath(id), undefined, { cmd: 'true' }, true, 10_000);
  }

  /** Freezes every process (cgroup freezer); resolves once the freezer says so. */
  async freeze(id: string): Promise<void> {
    await this.crun.pause(containerName(id));
    await this.waitForStatus(id, 'paused');
  }

  async thaw(id: string): Promise<void> {
    await this.crun.resume(containerName(id));
    await this.waitForStatus(id, 'running');
  }

  /** Runs `work` while the sandbox is frozen, then thaws it (also when `work` fails). */
  async whileFrozen<T>(id: string, work: () => Promise<T>): Promise<T> {
    await this.crun.pause(containerName(id));
    try {
      await this.waitForStatus(id, 'paused');
      return await work();
    } finally {
      await this.thaw(id);
    }
  }

  /** Ends the container and its processes; the sandbox's disk and layer stay, unmounted. */
  async stop(id: string): Promise<void> {
    // Frozen processes cannot die: thaw before killing.
    if ((await this.crun.state(containerName(id)))?.status === 'paused') await this.crun.resume(containerName(id)).catch(() => undefined);
    await this.crun.deleteForce(containerName(id));
    this.initPids.delete(id);
    await this.options.network?.detach(id);
    await this.bundle(id).unmount();
  }

  /** Removes every trace of the container: processes, cgroups, crun state, network link, mounts, files. */
  async remove(id: string, frozen: boolean): Promise<void> {
    this.initPids.delete(id);
    // Frozen processes cannot die: thaw before killing.
    if (frozen) await this.crun.resume(containerName(id)).catch(() => undefined);
    await this.crun.deleteForce(containerName(id));
    await this.options.network?.detach(id);
    const bundle = this.bundle(id);
    if (existsSync(bundle.dir)) await bundle.remove();
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
      await sleep(READY_POLL_MS);
    }
    throw new Error(
      `the template's ready command did not pass within ${READY_TIMEOUT_MS / 1000} s: ${start.readyCmd} (last output: ${last?.output.slice(-500)})`,
    );
  }

  /** `crun pause` can return while the freezer is still FREEZING: wait until it says so. */
  private async waitForStatus(id: string, status: 'paused' | 'running'): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if ((await this.crun.state(containerName(id)))?.status === status) return;
      await sleep(10);
    }
    throw new Error(`sandbox ${id} did not become ${status}`);
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
