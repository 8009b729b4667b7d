// Benchmark: host memory per idle sandbox. Creates BENCH_IDLE_SANDBOXES (default 500) base
// sandboxes, lets them settle past the agent's idle exit (BENCH_AGENT_IDLE_EXIT_SECONDS, default
// the CLI's 30; 0 = agents never sleep, the old behaviour, for an A/B), and divides the growth of
// the host's used memory (MemTotal − MemAvailable, so the page cache that can be dropped does not
// count) by their number. Also reports the sandboxes' own cgroup memory, how many agents slept,
// and the price of sleeping: the first command after the agent slept (it starts the agent again),
// next to a second one right after. Memory is read before anything asks a sandbox, which wakes it.
// Prints one JSON object.
import { readFileSync } from 'node:fs';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { agentHostPidOf, sandboxCgroupDirs } from '../test/helpers/host-traces';
import { usedHostMemoryMB } from './host-memory';
import { report, summary } from './stats';
import { sleep } from '../test/helpers/wait';

const COUNT = Number(process.env.BENCH_IDLE_SANDBOXES ?? 500);
const CONCURRENCY = 8;
const SETTLE_MS = 15_000;
const IDLE_EXIT_SECONDS = Number(process.env.BENCH_AGENT_IDLE_EXIT_SECONDS ?? 30);
// The gateway closes its pooled sockets to an agent after 4 s; only then does the idle time start.
const FREE_SOCKET_MS = 4000;
const WAKE_SAMPLES = Math.min(COUNT, 30);

/** Whether the sandbox's agent process runs (read from the host: asking the sandbox would wake it). */
const agentRuns = (sandboxId: string) => agentHostPidOf(sandboxId) !== undefined;

/** ms of `commands.run('true')` on sandboxes whose agent slept, and of a second one right after. */
async function wakeUpCost(sandboxes: Sandbox[]): Promise<{ asleep: number[]; awake: number[] }> {
  const asleep: number[] = [];
  const awake: number[] = [];
  for (const sandbox of sandboxes) {
    if (agentRuns(sandbox.sandboxId)) continue;
    let started = performance.now();
    await sandbox.commands.run('true');
    asleep.push(performance.now() - started);
    started = performance.now();
    await sandbox.commands.run('true');
    awake.push(performance.now() - started);
  }
  return { asleep, awake };
}

function cgroupMemoryMB(sandboxId: string): number {
  const dir = sandboxCgroupDirs(sandboxId).find((d) => d.includes('/memory/'));
  if (!dir) return Number.NaN;
  return Number(readFileSync(`${dir}/memory.usage_in_bytes`, 'utf8')) / 1024 / 1024;
}

async function main(): Promise<void> {
  const runtime = await RuntimeProcess.start(['--image', 'base', '--warm-pool', '0', '--agent-idle-exit', String(IDLE_EXIT_SECONDS)]);
  const sandboxes: Sandbox[] = [];
  try {
    await sleep(3000);
    const before = usedHostMemoryMB();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < COUNT) {
          next++;
          sandboxes.push(await Sandbox.create({ ...runtime.sdk, timeoutMs: 3600_000 }));
        }
      }),
    );
    const createSeconds = (performance.now() - started) / 1000;
    await sleep(SETTLE_MS + (IDLE_EXIT_SECONDS > 0 ? IDLE_EXIT_SECONDS * 1000 + FREE_SOCKET_MS : 0));
    const after = usedHostMemoryMB();
    const cgroups = sandboxes.map((s) => cgroupMemoryMB(s.sandboxId)).filter((v) => Number.isFinite(v));
    const agentsAsleep = sandboxes.filter((s) => !agentRuns(s.sandboxId)).length;
    const wake = await wakeUpCost(sandboxes.slice(0, WAKE_SAMPLES));
    // Every one of them still answers (which wakes the rest).
    const alive = (await Promise.all(sandboxes.map((s) => s.isRunning()))).filter(Boolean).length;
    report('runtime-idle-sandbox-memory', {
      unit: 'MB',
      sandboxes: COUNT,
      answering: alive,
      agent_idle_exit_seconds: IDLE_EXIT_SECONDS,
      agents_asleep: agentsAsleep,
      create_seconds: Number(createSeconds.toFixed(1)),
      host_memory_per_sandbox: Number(((after - before) / COUNT).toFixed(2)),
      host_memory_growth: Number((after - before).toFixed(0)),
      cgroup_memory_per_sandbox_mean: Number((cgroups.reduce((a, b) => a + b, 0) / cgroups.length).toFixed(2)),
      // ms; empty when no agent slept (BENCH_AGENT_IDLE_EXIT_SECONDS=0).
      first_command_after_agent_slept: wake.asleep.length ? summary(wake.asleep) : undefined,
      second_command_after_wake: wake.awake.length ? summary(wake.awake) : undefined,
    });
  } finally {
    for (let i = 0; i < sandboxes.length; i += 20) await Promise.all(sandboxes.slice(i, i + 20).map((s) => s.kill().catch(() => false)));
    await runtime.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
