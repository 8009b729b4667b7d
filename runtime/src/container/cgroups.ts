// crun refuses a hybrid cgroup layout where a controller is bound to cgroup2 while the rest are v1
// ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"). On such hosts the
// stray controller (hugetlb here) is moved to a v1 hierarchy of its own. Pure v2 hosts need nothing.
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

function cgroupRootIsReadOnly(): boolean {
  return !!mountTable()
    .find((m) => m.point === '/sys/fs/cgroup')
    ?.options.includes('ro');
}
