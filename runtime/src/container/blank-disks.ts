// One formatted, empty ext4 image per disk size, made once per runtime process; every sandbox's
// disk is a sparse copy of it (the ~4 MB mkfs wrote, copied by native/sandbox-disk.c), where
// truncate + mkfs was two execs and mkfs's own work on every create. Made afresh by each runtime
// process, so a change of the mkfs options below always takes effect (and the file system UUID is
// per process).
import { mkdirSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { runHostCommand } from '../host-command';

/** No journal (a sandbox's disk is scratch); inode tables initialised lazily by the kernel. */
const MKFS_ARGS = ['-q', '-F', '-O', '^has_journal', '-m', '0', '-E', 'lazy_itable_init=1,nodiscard'];

export class BlankDisks {
  private readonly images = new Map<number, Promise<string>>();

  constructor(private readonly dir: string) {}

  /** The blank disk of `sizeMB`, made on first use; sandbox disks are sparse copies of it. */
  path(sizeMB: number): Promise<string> {
    let image = this.images.get(sizeMB);
    if (!image) {
      image = this.make(sizeMB);
      // A failed mkfs is tried again by the next create, not remembered.
      image.catch(() => this.images.delete(sizeMB));
      this.images.set(sizeMB, image);
    }
    return image;
  }

  private async make(sizeMB: number): Promise<string> {
    mkdirSync(this.dir, { recursive: true });
    const image = join(this.dir, `ext4-${sizeMB}M.img`);
    const partial = `${image}.tmp`;
    const file = await open(partial, 'w');
    try {
      await file.truncate(sizeMB * 1024 * 1024);
    } finally {
      await file.close();
    }
    await runHostCommand('mkfs.ext4', [...MKFS_ARGS, partial]);
    await rename(partial, image);
    return image;
  }
}
