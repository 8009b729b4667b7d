// The one place the extension calls the SDK's Volume API: the team's volumes (list, create,
// destroy) and each volume's files through its content API, at the connection's volume URL
// (the local runtime's E2B_VOLUME_API_URL; E2B's `https://api.<domain>` otherwise).
import * as vscode from 'vscode';
import type { Volume, VolumeEntryStat, VolumeInfo } from 'e2b';
import { ConnectionService } from './connection-service';
import { loadSdk } from './sandbox-service';
import { ConnectionProfile, sdkOptions } from './profile';
import { toUserFacingError, UserFacingError } from './user-errors';
import { PromiseCache } from '../util/promise-cache';

export type { VolumeEntryStat, VolumeInfo };

/** E2B's rule for volume names. */
export const VOLUME_NAME = /^[a-zA-Z0-9_-]+$/;

export class VolumeService {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after this window created or destroyed a volume. */
  readonly onDidChangeVolumes = this.changed.event;
  /** Connected volumes (their content tokens) by id, for the current connection. */
  /** Connected volumes; a failed connect is forgotten, so the next call tries again. */
  private readonly handles = new PromiseCache<Volume>();

  constructor(private readonly connection: ConnectionService) {
    connection.onDidChange(() => this.handles.clear());
  }

  list(): Promise<VolumeInfo[]> {
    return this.call(async (opts) => (await loadSdk()).Volume.list(opts));
  }

  async create(name: string): Promise<VolumeInfo> {
    const volume = await this.call(async (opts) => (await loadSdk()).Volume.create(name, opts));
    void this.handles.set(volume.volumeId, Promise.resolve(volume));
    this.changed.fire();
    return { volumeId: volume.volumeId, name: volume.name };
  }

  /** False when it was already gone; a volume a sandbox mounts is refused (409) with the reason. */
  async destroy(volumeId: string): Promise<boolean> {
    const destroyed = await this.call(async (opts) => (await loadSdk()).Volume.destroy(volumeId, opts));
    this.handles.delete(volumeId);
    this.changed.fire();
    return destroyed;
  }

  /** The volume's file operations; errors stay the SDK's (the file system provider types them). */
  async files(volumeId: string): Promise<VolumeFiles> {
    const profile = await this.connection.current();
    const handle = this.handles.get(volumeId, () => this.call(async (opts) => (await loadSdk()).Volume.connect(volumeId, opts)));
    return new VolumeFiles(await handle, contentOptions(profile));
  }

  private async call<T>(action: (opts: ReturnType<typeof sdkOptions>) => Promise<T>): Promise<T> {
    let profile: ConnectionProfile | undefined;
    try {
      profile = await this.connection.current();
      return await action(sdkOptions(profile));
    } catch (err) {
      if (err instanceof UserFacingError) throw err;
      const name = (err as { name?: string }).name;
      // The SDK's volume errors carry the server's reason ("409: Volume 'x' is in use: …").
      if (name === 'VolumeError' || name === 'VolumeNotFoundError')
        throw new UserFacingError((err as Error).message.replace(/^\d{3}: /, ''));
      throw toUserFacingError(err, { connectionLabel: profile?.label ?? 'E2B connection', apiUrl: profile?.apiUrl });
    }
  }
}

/** What every content API call gets: where the content API is. */
function contentOptions(profile: ConnectionProfile): { apiUrl?: string; domain?: string } {
  return { apiUrl: profile.volumeApiUrl, domain: profile.domain };
}

/** One volume's files, bound to the connection's content API URL. */
export class VolumeFiles {
  constructor(
    readonly volume: Volume,
    private readonly opts: { apiUrl?: string; domain?: string },
  ) {}

  stat(path: string): Promise<VolumeEntryStat> {
    return this.volume.getInfo(path, this.opts);
  }
  list(path: string): Promise<VolumeEntryStat[]> {
    return this.volume.list(path, this.opts);
  }
  makeDir(path: string): Promise<VolumeEntryStat> {
    return this.volume.makeDir(path, { ...this.opts, force: true });
  }
  remove(path: string): Promise<void> {
    return this.volume.remove(path, this.opts);
  }
  read(path: string): Promise<Uint8Array> {
    return this.volume.readFile(path, { ...this.opts, format: 'bytes' });
  }
  /** `force`: overwrite an existing file (E2B refuses to otherwise). */
  write(path: string, content: Uint8Array, force: boolean): Promise<VolumeEntryStat> {
    const copy = new Uint8Array(content.byteLength);
    copy.set(content);
    return this.volume.writeFile(path, copy.buffer, { ...this.opts, force });
  }
}
