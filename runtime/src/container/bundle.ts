// A sandbox's files on the host: <sandboxDir>/{upper,work} (its writable layer), rootfs (the
// overlay of the image and that layer), run (the agent's socket), config.json. Everything in
// that one directory is removed when the sandbox dies.
import { execFile } from 'node:child_process';
import { chownSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_ID_BASE } from './idmap';

export class SandboxBundle {
  constructor(readonly dir: string) {}

  get rootfs(): string { return join(this.dir, 'rootfs'); }
  get upper(): string { return join(this.dir, 'upper'); }
  get work(): string { return join(this.dir, 'work'); }
  get socketDir(): string { return join(this.dir, 'run'); }
  get socketPath(): string { return join(this.socketDir, 'agent.sock'); }
  get configFile(): string { return join(this.dir, 'config.json'); }
  get logFile(): string { return join(this.dir, 'container.log'); }

  /** Creates the layer dirs and mounts the overlay; the image stays untouched underneath. */
  async prepare(imageRootfs: string, ociSpec: object): Promise<void> {
    for (const dir of [this.upper, this.work, this.rootfs, this.socketDir]) mkdirSync(dir, { recursive: true });
    // The merged root takes the upper dir's owner: make it the sandbox's root.
    chownSync(this.upper, HOST_ID_BASE, HOST_ID_BASE);
    chmodSync(this.upper, 0o755);
    chownSync(this.socketDir, HOST_ID_BASE, HOST_ID_BASE);
    chmodSync(this.socketDir, 0o700);
    writeFileSync(this.configFile, JSON.stringify(ociSpec));
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${imageRootfs},upperdir=${this.upper},workdir=${this.work}`, this.rootfs]);
  }

  isMounted(): boolean {
    return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === this.rootfs);
  }

  /** Unmounts and deletes everything; safe to call on a half-made or already removed bundle. */
  async remove(): Promise<void> {
    if (!existsSync(this.dir)) return;
    await this.unmount();
    await removeTree(this.dir);
  }

  /** Unmounts the merged root (lazily if something still holds it); the layers stay. */
  async unmount(): Promise<void> {
    if (!this.isMounted()) return;
    try {
      await run('umount', [this.rootfs]);
    } catch {
      await run('umount', ['--lazy', this.rootfs]);
    }
  }
}

/**
 * Removes a tree a sandbox built: GNU rm, off the event loop (it can hold many files, and be deeper
 * than any path can name: Node's rm fails there with ENAMETOOLONG, rm walks it by handle). It stays
 * on this file system: a mount left below is not followed.
 */
export function removeTree(path: string): Promise<void> {
  return run('rm', ['-rf', '--one-file-system', '--', path]);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, (err, _stdout, stderr) => (err ? reject(new Error(`${command}: ${stderr.trim() || err.message}`)) : resolve()));
  });
}
