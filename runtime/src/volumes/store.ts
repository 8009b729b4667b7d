// The runtime's volumes (protocol §1.4): persistent storage that outlives sandboxes, one dir each
// under DATA_DIR/volumes/<id> holding volume.json (id, name, content token) and its disk. A dir
// without volume.json is a create that did not finish, removed on the next start.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidInput, unauthenticated, notFound, conflict } from '../errors';
import { HOST_ID_BASE } from '../container/idmap';
import { DEFAULT_OWNER_ID, VolumeIo } from './volume-io';
import { VolumeDisk } from './volume-disk';

export interface VolumeRecord {
  volumeID: string;
  name: string;
  /** The bearer token of the content API, as E2B hands one out with the volume. */
  token: string;
  createdAt: string;
}

export interface VolumeStoreOptions {
  dataDir: string;
  /** The e2b-volume-io helper. */
  helper: string;
  /** Each volume's size cap. */
  sizeMB: number;
  log: (line: string) => void;
}

export const DEFAULT_VOLUME_SIZE_MB = 10 * 1024;
const VALID_NAME = /^[a-zA-Z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RECORD_FILE = 'volume.json';

export class VolumeStore {
  private readonly volumes = new Map<string, VolumeRecord>();
  /** Names of volumes being created, so two creates of one name cannot both win. */
  private readonly creating = new Set<string>();

  constructor(private readonly options: VolumeStoreOptions) {}

  get dir(): string {
    return join(this.options.dataDir, 'volumes');
  }

  private disk(volumeID: string): VolumeDisk {
    return new VolumeDisk(join(this.dir, volumeID));
  }

  /** Loads the volumes a previous runtime made, mounts their disks, removes unfinished ones. */
  async restore(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    for (const id of readdirSync(this.dir)) {
      const file = join(this.dir, id, RECORD_FILE);
      try {
        if (!existsSync(file)) {
          this.options.log(`volumes: removing ${id} (its create did not finish)`);
          await this.disk(id).remove();
          continue;
        }
        // Parsed before the disk is touched; a broken record leaves the volume's files alone.
        const record = JSON.parse(readFileSync(file, 'utf8')) as VolumeRecord;
        await this.disk(id).mount();
        this.volumes.set(id, record);
      } catch (err) {
        this.options.log(`volumes: ${id} left as it is, to be retried on the next start: ${String(err)}`);
      }
    }
  }

  async create(name: unknown): Promise<VolumeRecord> {
    if (typeof name !== 'string' || !VALID_NAME.test(name)) throw invalidInput('Invalid volume name: use letters, digits, _ and - only');
    if (this.creating.has(name) || this.byName(name)) throw invalidInput(`Volume with name '${name}' already exists`);
    this.creating.add(name);
    const record: VolumeRecord = {
      volumeID: randomUUID(),
      name,
      token: randomBytes(32).toString('hex'),
      createdAt: new Date().toISOString(),
    };
    const disk = this.disk(record.volumeID);
    try {
      await disk.create(this.options.sizeMB, HOST_ID_BASE + DEFAULT_OWNER_ID);
      // Written last: its presence is what makes the volume exist.
      const file = join(disk.dir, RECORD_FILE);
      writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      this.volumes.set(record.volumeID, record);
      return record;
    } catch (err) {
      await disk.remove().catch((e) => this.options.log(`volumes: cleaning up ${record.volumeID}: ${String(e)}`));
      throw new Error(`Error when creating volume: ${(err as Error).message}`, { cause: err });
    } finally {
      this.creating.delete(name);
    }
  }

  list(): VolumeRecord[] {
    return [...this.volumes.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  byName(name: string): VolumeRecord | undefined {
    return [...this.volumes.values()].find((v) => v.name === name);
  }

  /** E2B's answers: a malformed id is 400, an unknown one 404. */
  require(volumeID: string): VolumeRecord {
    if (!UUID.test(volumeID)) throw invalidInput('Invalid volume ID');
    const record = this.volumes.get(volumeID.toLowerCase());
    if (!record) throw notFound('Volume not found');
    return record;
  }

  /**
   * Deletes a volume and its files. Refused while a sandbox (running or paused) mounts it: E2B
   * itself deletes the volume under them, but then their mount points only error.
   */
  async destroy(volumeID: string, mountedBy: string[]): Promise<void> {
    const record = this.require(volumeID);
    if (mountedBy.length > 0) {
      throw conflict(`Volume '${record.name}' is in use: mounted by sandbox ${mountedBy.join(', ')}. Kill those sandboxes first.`);
    }
    this.volumes.delete(record.volumeID);
    await this.disk(record.volumeID).remove();
  }

  /** The host dir sandboxes get bind-mounted. */
  mountSource(record: VolumeRecord): string {
    return this.disk(record.volumeID).data;
  }

  /** The volume's files, for a caller holding its content token. */
  content(volumeID: string, authorization: string | undefined): VolumeIo {
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw unauthenticated('missing volume token: send it as "Authorization: Bearer <token>"');
    const record = this.volumes.get(volumeID.toLowerCase());
    const given = Buffer.from(token);
    const expected = Buffer.from(record?.token ?? '');
    if (!record || given.length !== expected.length || !timingSafeEqual(given, expected)) throw unauthenticated('invalid volume token');
    return new VolumeIo(this.options.helper, this.mountSource(record));
  }
}
