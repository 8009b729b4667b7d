// Benchmark: listing many sandboxes the way the explorer does (GET /v2/sandboxes through the SDK's
// paginator, 100 a page, every page) while the runtime does its periodic work for all of them.
// Creates BENCH_LIST_SANDBOXES (default 500) base sandboxes, then lists them all
// BENCH_LIST_ROUNDS times (default 60) at uneven moments, so some lists meet the runtime's timers
// (metrics, sweeps). Reports the full list's wall time and the runtime's CPU time per list.
// Run on its own: `node --import tsx bench/list-latency.ts` from runtime/ (not in scripts/bench.sh).
import { readFileSync } from 'node:fs';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { countFromEnv, report, summary } from './stats';
import { sleep } from '../test/helpers/wait';

const COUNT = countFromEnv('BENCH_LIST_SANDBOXES', 500);
const ROUNDS = countFromEnv('BENCH_LIST_ROUNDS', 60);
const PAGE = 100;
const CONCURRENCY = 8;

/** The runtime process's CPU time (user + system), in milliseconds (the kernel counts in 10 ms ticks). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function listAll(sdk: RuntimeProcess['sdk']): Promise<number> {
  const paginator = Sandbox.list({ ...sdk, limit: PAGE });
  let listed = 0;
  while (paginator.hasNext) listed += (await paginator.nextItems()).length;
  return listed;
}

async function main(): Promise<void> {
  const runtime = await RuntimeProcess.start(['--image', 'base', '--warm-pool', '0']);
  const ids: string[] = [];
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < COUNT) {
          next++;
          ids.push((await Sandbox.create({ ...runtime.sdk, timeoutMs: 3600_000 })).sandboxId);
        }
      }),
    );
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await sleep(200 + ((i * 397) % 600));
      const cpuBefore = processCpuMs(runtime.pid!);
      const started = performance.now();
      const listed = await listAll(runtime.sdk);
      wall.push(performance.now() - started);
      cpu.push(processCpuMs(runtime.pid!) - cpuBefore);
      if (listed !== COUNT) throw new Error(`listed ${listed} of ${COUNT} sandboxes`);
    }
    report('runtime-list-latency', {
      unit: 'ms',
      sandboxes: COUNT,
      page_size: PAGE,
      list_all_pages: summary(wall),
      runtime_cpu_per_list: summary(cpu),
    });
  } finally {
    for (let i = 0; i < ids.length; i += 20)
      await Promise.all(ids.slice(i, i + 20).map((id) => Sandbox.kill(id, runtime.sdk).catch(() => false)));
    await runtime.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
