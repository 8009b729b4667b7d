// How many bytes a sandbox's writable layer holds, for its metrics. A layer on the sandbox's own
// disk is measured as envd measures `/`: statfs of that file system, one syscall and no exec. Only
// a layer without one (none is made that way now) is walked by `du`, one at a time: a `du` per
// sandbox at once (a burst of new sandboxes all sampled together) meant a spawn each, and spawns
// block the runtime's event loop (~1.9 s measured for 100 new sandboxes).
import { statfs } from 'node:fs/promises';
import { hasOwnFileSystem } from '../container/mounts';
import { HostCommandError, runHostCommand } from '../host-command';

export interface SandboxLayer {
  /** The sandbox's writable layer (overlayfs upper dir). */
  upperDir: string;
  /** The mount point of the sandbox's own disk, when it has one (the layer lives on it). */
  diskDir?: string;
}

let duQueue: Promise<unknown> = Promise.resolve();

export async function layerBytesUsed(layer: SandboxLayer): Promise<number> {
  if (layer.diskDir && (await hasOwnFileSystem(layer.diskDir))) {
    const fs = await statfs(layer.diskDir);
    return (fs.blocks - fs.bfree) * fs.bsize;
  }
  const next = duQueue.then(() => du(layer.upperDir));
  duQueue = next;
  return next;
}

/** du's total; it still prints one when some entries could not be read (and exits 1). */
async function du(dir: string): Promise<number> {
  const stdout = await runHostCommand('du', ['-s', '--block-size=1', dir]).catch((err: unknown) =>
    err instanceof HostCommandError ? err.stdout : '',
  );
  return Number(stdout.split(/\s/)[0]) || 0;
}
