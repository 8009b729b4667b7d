// A sandbox's files on the host: its writable layer (upper, work), rootfs (the overlay of the
// image and that layer), run (the agent's socket), config.json. The layer lives on the sandbox's
// own disk: a sparse ext4 image (disk.img) of the sandbox's disk size, mounted at layer/, so a
// sandbox that writes without end gets ENOSPC inside instead of filling the host's disk.
// (Template build steps keep their layer in the bundle: it becomes a cached layer afterwards.)
// Everything in that one directory is removed when the sandbox dies.
import { chownSync, chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHostCommand } from '../host-command';
import type { BlankDisks } from './blank-disks';
import { HOST_ID_BASE } from './idmap';
import { hasOwnFileSystem } from './mounts';

export class SandboxBundle {
  constructor(readonly dir: string) {}

  get rootfs(): string {
    return join(this.dir, 'rootfs');
  }
  get diskImage(): string {
    return join(this.dir, 'disk.img');
  }
  get disk(): string {
    return join(this.dir, 'layer');
  }
  /** On the sandbox's own disk when it has one. */
  get upper(): string {
    return existsSync(this.diskImage) ? join(this.disk, 'upper') : join(this.dir, 'upper');
  }
  get work(): string {
    return existsSync(this.diskImage) ? join(this.disk, 'work') : join(this.dir, 'work');
  }
  get socketDir(): string {
    return join(this.dir, 'run');
  }
  get socketPath(): string {
    return join(this.socketDir, 'agent.sock');
  }
  get configFile(): string {
    return join(this.dir, 'config.json');
  }
  get logFile(): string {
    return join(this.dir, 'container.log');
  }

  /**
   * Makes the sandbox's disk (when `disk` is given: a copy of the blank one of its size) and the
   * layer dirs, and mounts the overlay; the image stays untouched underneath. On a bundle that has
   * them already (a sandbox booted again after a filesystem-only pause) it mounts what is not
   * mounted and keeps the files. The disk and mount steps are one exec of `diskTool`
   * (native/sandbox-disk.c), not one host tool each.
   */
  async prepare(imageRootfs: string, ociSpec: object, diskTool: string, disk?: { sizeMB: number; blanks: BlankDisks }): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const steps: string[] = [];
    const onDisk = disk?.sizeMB ? true : existsSync(this.diskImage);
    if (disk?.sizeMB) {
      // Sparse, so it costs the host only what is written.
      if (!existsSync(this.diskImage)) steps.push('copy', await disk.blanks.path(disk.sizeMB), this.diskImage);
      mkdirSync(this.disk, { recursive: true });
      // discard (the tool's loop mount has it): space freed inside is handed back to the host's disk.
      if (!(await hasOwnFileSystem(this.disk))) steps.push('loop', this.diskImage, this.disk);
    }
    const upper = join(onDisk ? this.disk : this.dir, 'upper');
    const work = join(onDisk ? this.disk : this.dir, 'work');
    for (const dir of [this.rootfs, this.socketDir]) mkdirSync(dir, { recursive: true });
    // The merged root takes the upper dir's owner: make it the sandbox's root.
    steps.push('dir', upper, String(HOST_ID_BASE), '755', 'dir', work, '-', '-');
    chownSync(this.socketDir, HOST_ID_BASE, HOST_ID_BASE);
    chmodSync(this.socketDir, 0o700);
    writeFileSync(this.configFile, JSON.stringify(ociSpec));
    if (!(await hasOwnFileSystem(this.rootfs))) steps.push('overlay', imageRootfs, upper, work, this.rootfs);
    await runHostCommand(diskTool, steps);
  }

  /** Unmounts and deletes everything; safe to call on a half-made or already removed bundle. */
  async remove(): Promise<void> {
    if (!existsSync(this.dir)) return;
    await this.unmount();
    await removeTree(this.dir);
  }

  /** Unmounts the merged root, then the sandbox's disk (lazily if something still holds them); the layers stay. */
  async unmount(): Promise<void> {
    for (const point of [this.rootfs, this.disk]) {
      if (!(await hasOwnFileSystem(point))) continue;
      try {
        await runHostCommand('umount', [point]);
      } catch {
        await runHostCommand('umount', ['--lazy', point]);
      }
    }
  }
}

/**
 * Removes a tree a sandbox built: GNU rm, off the event loop (it can hold many files, and be deeper
 * than any path can name: Node's rm fails there with ENAMETOOLONG, rm walks it by handle). It stays
 * on this file system: a mount left below is not followed.
 */
export async function removeTree(path: string): Promise<void> {
  await runHostCommand('rm', ['-rf', '--one-file-system', '--', path]);
}
