// A volume's storage on the host: its own sparse ext4 image (disk.img, the volume's size cap: a
// sandbox that fills it gets ENOSPC, not the host) loop-mounted at data/, which is what sandboxes
// get bind-mounted and what the content API chroots into. Unlike a sandbox's scratch disk it keeps
// its journal: a volume's files are meant to last.
import { chmodSync, chownSync, existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMountPoint } from '../container/mounts';
import { removeTree } from '../container/bundle';
import { runHostCommand as run } from '../host-command';

export class VolumeDisk {
  constructor(readonly dir: string) {}

  get image(): string {
    return join(this.dir, 'disk.img');
  }
  get data(): string {
    return join(this.dir, 'data');
  }

  /** Makes and mounts a new, empty disk whose root belongs to `rootOwner` (host ids), mode 0777. */
  async create(sizeMB: number, rootOwner: number): Promise<void> {
    mkdirSync(this.data, { recursive: true });
    await run('truncate', ['-s', `${sizeMB}M`, this.image]);
    await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', 'lazy_itable_init=1,lazy_journal_init=1,nodiscard', this.image]);
    await this.mount();
    // E2B's volumes start empty: no lost+found (e2fsck makes one again should it need it).
    rmdirSync(join(this.data, 'lost+found'));
    chownSync(this.data, rootOwner, rootOwner);
    chmodSync(this.data, 0o777);
  }

  get mounted(): boolean {
    return isMountPoint(this.data);
  }

  /** Mounts the disk unless it is (a second mount of one ext4 image would corrupt it). */
  async mount(): Promise<void> {
    if (this.mounted) return;
    // No setuid programs or devices from a volume, ever. Not noexec: bind mounts inherit it, and
    // sandboxes run programs kept on their volumes (the host never does).
    await run('mount', ['-o', 'loop,nosuid,nodev,discard', this.image, this.data]);
  }

  /** Unmounts (lazily if a dying sandbox still holds it) and deletes the disk. */
  async remove(): Promise<void> {
    if (this.mounted) {
      try {
        await run('umount', [this.data]);
      } catch {
        await run('umount', ['--lazy', this.data]);
      }
    }
    if (existsSync(this.dir)) await removeTree(this.dir);
  }
}
