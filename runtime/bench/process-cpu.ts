// CPU time of host processes for the benchmarks: a process's utime + stime from /proc, and the
// host pid of a sandbox's agent (the Node process that serves envd's API inside it).
import { readFileSync } from 'node:fs';
import { agentHostPidOf } from '../test/helpers/host-traces';

const MS_PER_CLOCK_TICK = 10; // USER_HZ is 100 on Linux

/** utime + stime of one process, in milliseconds. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_CLOCK_TICK;
}

export function agentHostPid(sandboxId: string): number {
  const pid = agentHostPidOf(sandboxId);
  if (pid === undefined) throw new Error('the agent process was not found');
  return pid;
}
