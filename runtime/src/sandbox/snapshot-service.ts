// Taking snapshots of running sandboxes and forking them: the sandbox is frozen for as long as
// its writable layer takes to copy, then runs on; forks are new sandboxes started from that copy.
// Files only: processes and memory are not carried over (a fork boots as a fresh sandbox would).
import { conflict, invalidInput, notFound } from '../errors';
import { lifetimeSeconds } from './lifetime';
import { SandboxManager } from './manager';
import { copyOfNetwork } from './network-config';
import { SandboxRecord } from './record';
import { SandboxSettings } from './settings';
import { parseSnapshotName, SnapshotInfo, SnapshotReference, SnapshotStore } from './snapshots';
import { ResolvedTemplate, TemplateSource } from './template-source';

/** The overlay's mount options fit in a page: lower dirs beyond this could not be mounted. */
const MAX_LOWERDIR_CHARS = 3500;

/** One fork: its sandbox, or why it could not start (the server says it with the error's status). */
export type ForkResult = { sandbox: SandboxRecord } | { error: Error };

export class SandboxSnapshots {
  /** `templates`: the other templates, whose names a snapshot may not take. */
  constructor(
    private readonly sandboxes: SandboxManager,
    readonly store: SnapshotStore,
    private readonly templates: TemplateSource,
  ) {}

  /** `name`: the snapshot's name (`name` or `team/name:tag`), when it gets one. */
  async create(sandboxID: string, name: string | undefined): Promise<SnapshotInfo> {
    const reference = name === undefined ? undefined : this.validName(name);
    this.sandboxes.require(sandboxID);
    const layer = await this.sandboxes.whileFrozen(sandboxID, 'snapshotted', (upper, base) => this.copy(upper, base));
    return this.commit(sandboxID, layer, 'snapshot', reference);
  }

  /**
   * Snapshots the sandbox once and starts `count` sandboxes from it, each with the source's
   * settings (metadata, env vars, network, volumes and lifecycle choices). Each fork succeeds or fails on
   * its own; the moment they start from is removed afterwards (its layer stays while they live).
   */
  async fork(sandboxID: string, count: number, timeoutSeconds: number): Promise<ForkResult[]> {
    const source = this.sandboxes.get(sandboxID);
    if (!source) throw notFound(`Sandbox '${sandboxID}' not found`);
    const layer = await this.sandboxes.whileFrozen(sandboxID, 'forked', (upper, base) => this.copy(upper, base));
    const info = this.commit(sandboxID, layer, 'fork');
    try {
      const startFork = async () =>
        this.sandboxes.create(this.sandboxes.template(info.snapshotID), inheritedSettings(source, lifetimeSeconds(timeoutSeconds)));
      return await Promise.all(
        Array.from({ length: count }, () =>
          startFork().then(
            (sandbox): ForkResult => ({ sandbox }),
            (err): ForkResult => ({ error: err instanceof Error ? err : new Error(String(err)) }),
          ),
        ),
      );
    } finally {
      await this.store.delete(info.snapshotID);
    }
  }
  /** The sandbox's upper layer, copied while it is frozen; refused when one more layer could not be mounted. */
  private async copy(upper: string, base: ResolvedTemplate): Promise<{ buildID: string; base: ResolvedTemplate }> {
    if (base.rootfs.length + this.store.layerDir('x'.repeat(36)).length + 1 > MAX_LOWERDIR_CHARS) {
      throw invalidInput(
        'this sandbox stacks on too many snapshots for another one (the overlay cannot mount more layers): start a sandbox from its template and copy the files over',
      );
    }
    return { buildID: await this.store.copyLayer(upper), base };
  }

  private commit(
    sandboxID: string,
    { buildID, base }: { buildID: string; base: ResolvedTemplate },
    kind: 'snapshot' | 'fork',
    name?: SnapshotReference,
  ): SnapshotInfo {
    try {
      const { template, tag } = this.store.commit(buildID, { sandboxID, base }, kind, name);
      return this.store.info(template, tag);
    } catch (err) {
      void this.store.discard(buildID);
      throw err;
    }
  }

  private validName(value: string): SnapshotReference {
    const name = parseSnapshotName(value);
    const owner = this.store.find(name.identifier);
    if ((owner && owner.kind !== 'snapshot') || (!owner && this.templates.resolve(name.identifier))) {
      throw conflict(`'${name.identifier}' is already the name of a template: choose another name for the snapshot`);
    }
    return name;
  }
}

/** What a fork keeps of its source's settings (checked when the source was created). */
function inheritedSettings(source: SandboxRecord, timeoutSeconds: number): SandboxSettings {
  const network = source.network ? copyOfNetwork(source.network) : source.trafficAccessToken ? { allowPublicTraffic: false } : undefined;
  const autoResume = source.lifecycle.autoResume;
  return {
    timeoutSeconds,
    metadata: { ...source.metadata },
    envVars: { ...source.envVars },
    secure: source.envdAccessToken !== undefined,
    trafficToken: network?.allowPublicTraffic === false,
    autoPause: source.lifecycle.onTimeout === 'pause',
    autoPauseMemory: source.autoPauseMemory ?? undefined,
    autoResume,
    allowInternetAccess: source.allowInternetAccess !== false,
    network,
    // The same volumes, not copies: a fork shares them with its source, as any two mounts do.
    volumeMounts: source.volumeMounts?.map((m) => ({ ...m })) ?? [],
  };
}
