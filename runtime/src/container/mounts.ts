// The host's mount table as this process sees it (/proc/self/mountinfo): mount points and options;
// and the cheap check the per-sandbox paths use instead of reading that table.
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface MountEntry {
  point: string;
  /** The mount's own options (rw, nosuid, relatime...). */
  options: string[];
  /** The file system's options, after " - " (for cgroup2: nsdelegate, favordynmods...). */
  superOptions: string[];
}

export function mountTable(): MountEntry[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [mount, fs = ''] = line.split(' - ');
      const fields = mount.split(' ');
      return { point: fields[4], options: fields[5].split(','), superOptions: fs.split(' ')[2]?.split(',') ?? [] };
    });
}

/** Exact (a bind mount of the same file system counts too), but reads the whole table. */
export function isMountPoint(path: string): boolean {
  return mountTable().some((m) => m.point === path);
}

/**
 * Whether another file system is mounted on `dir`: its device differs from its parent's. Two
 * stats, where the table has a few lines per sandbox (1,500+ with 500 sandboxes) and was read on
 * every create. It misses a bind mount of the parent's own file system: use it only for mounts
 * that bring their own (a sandbox's loop disk and overlay root).
 */
export async function hasOwnFileSystem(dir: string): Promise<boolean> {
  try {
    const [inner, outer] = await Promise.all([stat(dir), stat(dirname(dir))]);
    return inner.dev !== outer.dev;
  } catch {
    return false;
  }
}
