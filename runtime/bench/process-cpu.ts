// CPU time of host processes for the benchmarks: a process's utime + stime from /proc, and the
// host pid of a sandbox's agent (the Node process that serves envd's API inside it).
import { readFileSync } from 'node:fs';
import { sandboxHostPids } from '../test/helpers/host-traces';

const MS_PER_CLOCK_TICK = 10; // USER_HZ is 100 on Linux

/** utime + stime of one process, in milliseconds. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_CLOCK_TICK;
}

export function agentHostPid(sandboxId: string): number {
  const pid = sandboxHostPids(sandboxId).find((p) => {
    try {
      // Not e2b-init, whose command line names the agent too.
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return argv.includes('/opt/e2b/agent.js') && !argv[0].endsWith('e2b-init');
    } catch {
      return false;
    }
  });
  if (pid === undefined) throw new Error('the agent process was not found');
  return pid;
}
