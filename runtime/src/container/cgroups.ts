// crun refuses a hybrid cgroup layout where a controller is bound to cgroup2 while the rest are v1
// ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"). On such hosts the
// stray controller (hugetlb here) is moved to a v1 hierarchy of its own. Pure v2 hosts need nothing.
// And sandbox boots should not wait on the kernel's grace periods: see favorCgroupMigrations.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isMountPoint, mountTable } from './mounts';

export type CgroupLayout = 'v2' | 'hybrid' | 'v1';

let detectedLayout: CgroupLayout | undefined;

/** The host's layout, looked up once: metrics ask per cgroup file read, 1000 times a tick with 500 sandboxes. */
export function cgroupLayout(): CgroupLayout {
  detectedLayout ??= existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? 'v2'
    : existsSync('/sys/fs/cgroup/unified/cgroup.controllers')
      ? 'hybrid'
      : 'v1';
  return detectedLayout;
}

export function prepareCgroupsForCrun(log: (line: string) => void): void {
  if (cgroupLayout() !== 'hybrid') return;
  const controllers = readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim().split(/\s+/).filter(Boolean);
  for (const controller of controllers) {
    const mountPoint = `/sys/fs/cgroup/${controller}`;
    if (isMountPoint(mountPoint)) continue;
    log(`cgroups: moving the ${controller} controller from cgroup2 to its own v1 hierarchy (crun needs this)`);
    // /sys/fs/cgroup is a read-only tmpfs on some hosts: make it writable just long enough.
    const readOnly = cgroupRootIsReadOnly();
    if (readOnly) execFileSync('mount', ['-o', 'remount,rw', '/sys/fs/cgroup']);
    try {
      mkdirSync(mountPoint, { recursive: true });
      execFileSync('mount', ['-t', 'cgroup', '-o', controller, 'cgroup', mountPoint]);
    } finally {
      if (readOnly) execFileSync('mount', ['-o', 'remount,ro', '/sys/fs/cgroup']);
    }
  }
}

/** The cgroup2 file system's mount: the whole tree (v2) or its unified part (hybrid); none on v1. */
function cgroup2MountPoint(): string | undefined {
  const layout = cgroupLayout();
  return layout === 'v2' ? '/sys/fs/cgroup' : layout === 'hybrid' ? '/sys/fs/cgroup/unified' : undefined;
}

/**
 * crun moves every new sandbox's init into its cgroups. A move takes the kernel's one global
 * cgroup_threadgroup_rwsem for writing, which by default first waits for an RCU grace period:
 * 14 of crun's 24 ms in a cold create here. cgroup2's mount option favordynmods (Linux 6.0+)
 * keeps that lock where writers do not wait, for a little more work in every fork and exit. The
 * lock being global, so is the option: it holds for the whole host until a remount or a reboot.
 */
export function favorCgroupMigrations(log: (line: string) => void): void {
  const point = cgroup2MountPoint();
  if (!point || !kernelCgroupFeatures().includes('favordynmods')) return;
  const options = superOptions(point);
  if (!options || options.includes('favordynmods')) return;
  try {
    // mount(8) keeps the mount's other options on a remount.
    execFileSync('mount', ['-o', 'remount,favordynmods', point], { stdio: ['ignore', 'ignore', 'pipe'] });
    log(`cgroups: remounted ${point} with favordynmods (sandbox boots no longer wait for a kernel grace period)`);
  } catch (err) {
    log(`cgroups: could not remount ${point} with favordynmods, sandboxes boot more slowly: ${(err as Error).message.trim()}`);
  }
}

function kernelCgroupFeatures(): string[] {
  try {
    return readFileSync('/sys/kernel/cgroup/features', 'utf8').split(/\s+/);
  } catch {
    return [];
  }
}

/** The file system's own options of the mount at `point`; undefined when nothing is mounted there. */
export function superOptions(point: string): string[] | undefined {
  return mountTable().find((m) => m.point === point)?.superOptions;
}

function cgroupRootIsReadOnly(): boolean {
  return !!mountTable()
    .find((m) => m.point === '/sys/fs/cgroup')
    ?.options.includes('ro');
}
