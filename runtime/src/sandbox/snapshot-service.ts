// Taking snapshots of running sandboxes and forking them: the sandbox is frozen for as long as
// its writable layer takes to copy, then runs on; forks are new sandboxes started from that copy.
// Files only: processes and memory are not carried over (a fork boots as a fresh sandbox would).
import { invalidInput, notFound, conflict } from '../errors';
import { CreateRequest, ResolvedTemplate, SandboxManager, TemplateSource } from './manager';
import { SandboxRecord } from './record';
import { parseSnapshotName, SnapshotInfo, SnapshotReference, SnapshotStore } from './snapshots';

const MAX_FORK_COUNT = 100;
/** The overlay's mount options fit in a page: lower dirs beyond this could not be mounted. */
const MAX_LOWERDIR_CHARS = 3500;
/** E2B's default lifetime of a fork when the request names none. */
const DEFAULT_FORK_TIMEOUT_S = 15;

/** One fork: its sandbox, or why it could not start (the server says it with the error's status). */
export type ForkResult = { sandbox: SandboxRecord } | { error: Error };

export class SandboxSnapshots {
  /** `templates`: the other templates, whose names a snapshot may not take. */
  constructor(private readonly sandboxes: SandboxManager, readonly store: SnapshotStore, private readonly templates: TemplateSource) {}

  async create(sandboxID: string, body: Record<string, unknown>): Promise<SnapshotInfo> {
    const name = this.validName(body.name);
    this.sandboxes.require(sandboxID);
    const layer = await this.sandboxes.whileFrozen(sandboxID, 'snapshotted', (upper, base) => this.copy(upper, base));
    return this.commit(sandboxID, layer, 'snapshot', name);
  }

  /**
   * Snapshots the sandbox once and starts `count` sandboxes from it, each with the source's
   * settings (metadata, env vars, network, volumes and lifecycle choices). Each fork succeeds or fails on
   * its own; the moment they start from is removed afterwards (its layer stays while they live).
   */
  async fork(sandboxID: string, body: Record<string, unknown>): Promise<ForkResult[]> {
    const count = forkCount(body.count);
    const timeout = forkTimeout(body.timeout);
    const source = this.sandboxes.get(sandboxID);
    if (!source) throw notFound(`Sandbox '${sandboxID}' not found`);
    const layer = await this.sandboxes.whileFrozen(sandboxID, 'forked', (upper, base) => this.copy(upper, base));
    const info = this.commit(sandboxID, layer, 'fork');
    try {
      const request: CreateRequest = { ...inheritedSettings(source), templateID: info.snapshotID, timeout };
      return await Promise.all(Array.from({ length: count }, () => this.sandboxes.create(request).then(
        (sandbox): ForkResult => ({ sandbox }),
        (err): ForkResult => ({ error: err instanceof Error ? err : new Error(String(err)) }),
      )));
    } finally {
      await this.store.delete(info.snapshotID);
    }
  }

  /** The sandbox's upper layer, copied while it is frozen; refused when one more layer could not be mounted. */
  private async copy(upper: string, base: ResolvedTemplate): Promise<{ buildID: string; base: ResolvedTemplate }> {
    if (base.rootfs.length + this.store.layerDir('x'.repeat(36)).length + 1 > MAX_LOWERDIR_CHARS) {
      throw invalidInput('this sandbox stacks on too many snapshots for another one (the overlay cannot mount more layers): start a sandbox from its template and copy the files over');
    }
    return { buildID: await this.store.copyLayer(upper), base };
  }

  private commit(sandboxID: string, { buildID, base }: { buildID: string; base: ResolvedTemplate }, kind: 'snapshot' | 'fork', name?: SnapshotReference): SnapshotInfo {
    try {
      const { template, tag } = this.store.commit(buildID, { sandboxID, base }, kind, name);
      return this.store.info(template, tag);
    } catch (err) {
      void this.store.discard(buildID);
      throw err;
    }
  }

  private validName(value: unknown): SnapshotReference | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw invalidInput('name must be a string');
    const name = parseSnapshotName(value);
    const owner = this.store.find(name.identifier);
    if ((owner && owner.kind !== 'snapshot') || (!owner && this.templates.resolve(name.identifier))) {
      throw conflict(`'${name.identifier}' is already the name of a template: choose another name for the snapshot`);
    }
    return name;
  }
}

/** What a fork keeps of its source's create request. */
function inheritedSettings(source: SandboxRecord): CreateRequest {
  return {
    metadata: source.metadata,
    envVars: source.envVars,
    secure: source.envdAccessToken !== undefined,
    allow_internet_access: source.allowInternetAccess,
    autoPause: source.lifecycle.onTimeout === 'pause',
    autoPauseMemory: source.autoPauseMemory,
    autoResume: { enabled: source.lifecycle.autoResume },
    network: source.network ? { ...source.network } : (source.trafficAccessToken ? { allowPublicTraffic: false } : undefined),
    // The same volumes, not copies: a fork shares them with its source, as any two mounts do.
    volumeMounts: source.volumeMounts?.map(({ name, path }) => ({ name, path })),
  };
}

function forkCount(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidInput('Count must be an integer number of sandboxes');
  if (value < 1) throw invalidInput('Count must be at least 1');
  if (value > MAX_FORK_COUNT) throw invalidInput(`Count cannot be greater than ${MAX_FORK_COUNT}`);
  return value;
}

function forkTimeout(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_FORK_TIMEOUT_S;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidInput('Timeout must be a number of seconds');
  if (value <= 0) throw invalidInput('Timeout must be greater than 0');
  return value;
}
