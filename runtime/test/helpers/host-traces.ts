// What a sandbox leaves on the host, looked up from the host side: cgroups, mounts, crun state.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Every cgroup directory named after the sandbox, in whichever hierarchies exist. */
export function sandboxCgroupDirs(sandboxId: string): string[] {
  const candidates = [join(CGROUP_ROOT, 'e2b', sandboxId)];
  for (const hierarchy of readdirSync(CGROUP_ROOT)) candidates.push(join(CGROUP_ROOT, hierarchy, 'e2b', sandboxId));
  return candidates.filter((dir) => existsSync(dir));
}

/** Host pids of the processes in the sandbox's cgroup. */
export function sandboxHostPids(sandboxId: string): number[] {
  const dir = sandboxCgroupDirs(sandboxId).find((d) => existsSync(join(d, 'cgroup.procs')));
  if (!dir) return [];
  return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
}

/**
 * Host pid of the sandbox's agent (the Node process serving envd's API), or undefined while none
 * runs (it sleeps, or restarts). Read from the host: asking the sandbox would wake its agent.
 */
export function agentHostPidOf(sandboxId: string): number | undefined {
  return sandboxHostPids(sandboxId).find((pid) => {
    try {
      // Not e2b-init, whose command line names the agent too.
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.includes('/opt/e2b/agent.js') && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'e2b-init';
    } catch {
      return false; // it just ended
    }
  });
}

export function mountsUnder(path: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && p.startsWith(path));
}

/** The host uid a process runs as; undefined if it has exited meanwhile. */
export function hostUidOf(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Uid:'))!;
    return Number(line.split(/\s+/)[1]);
  } catch {
    return undefined;
  }
}

export function crunContainers(dataDir: string): string[] {
  const root = join(dataDir, 'crun');
  return existsSync(root) ? readdirSync(root) : [];
}
