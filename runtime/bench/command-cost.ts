// Benchmark: what one commands.run('true') costs in a running base sandbox: the SDK round trip
// (p50/p95), and the CPU it takes inside the sandbox, split into the agent's own share (the Node
// process) and everything else the command path starts (helpers, the command itself), and on the
// host: the runtime process (its gateway relays the call) and this client (the SDK). CPU comes
// from the sandbox's cpuacct cgroup and /proc stat, read on the host around the loop.
// Prints one JSON object.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { sandboxCgroupDirs } from '../test/helpers/host-traces';
import { agentHostPid, processCpuMs } from './process-cpu';
import { report, summary } from './stats';

const WARMUP = 30;
const RUNS = Number(process.env.BENCH_COMMAND_RUNS ?? 300);

/** Nanoseconds of CPU the sandbox's processes used so far. */
function sandboxCpuNs(sandboxId: string): number {
  const dir = sandboxCgroupDirs(sandboxId).find((d) => d.includes('/cpuacct'));
  if (!dir) throw new Error('no cpuacct cgroup for the sandbox');
  return Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8'));
}

async function main(): Promise<void> {
  const runtime = await RuntimeProcess.start(['--image', 'base', '--warm-pool', '0']);
  try {
    const sandbox = await Sandbox.create(runtime.sdk);
    for (let i = 0; i < WARMUP; i++) await sandbox.commands.run('true');
    const agent = agentHostPid(sandbox.sandboxId);
    const cpuBefore = sandboxCpuNs(sandbox.sandboxId);
    const agentBefore = processCpuMs(agent);
    const runtimeBefore = processCpuMs(runtime.pid!);
    const clientBefore = process.cpuUsage();
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await sandbox.commands.run('true');
      times.push(performance.now() - started);
    }
    const sandboxCpuMs = (sandboxCpuNs(sandbox.sandboxId) - cpuBefore) / 1e6 / RUNS;
    const agentCpuMs = (processCpuMs(agent) - agentBefore) / RUNS;
    const runtimeCpuMs = (processCpuMs(runtime.pid!) - runtimeBefore) / RUNS;
    const client = process.cpuUsage(clientBefore);
    const clientCpuMs = (client.user + client.system) / 1000 / RUNS;
    await sandbox.kill();
    report('runtime-command-cost', {
      unit: 'ms',
      command_run_true: summary(times),
      sandbox_cpu_per_command: Number(sandboxCpuMs.toFixed(3)),
      agent_cpu_per_command: Number(agentCpuMs.toFixed(3)),
      other_cpu_per_command: Number((sandboxCpuMs - agentCpuMs).toFixed(3)),
      runtime_cpu_per_command: Number(runtimeCpuMs.toFixed(3)),
      client_cpu_per_command: Number(clientCpuMs.toFixed(3)),
    });
  } finally {
    await runtime.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
