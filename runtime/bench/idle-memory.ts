// Benchmark: host memory per idle sandbox. Creates BENCH_IDLE_SANDBOXES (default 500) base
// sandboxes, lets them settle, and divides the growth of the host's used memory (MemTotal −
// MemAvailable, so the page cache that can be dropped does not count) by their number. Also reports
// the sandboxes' own cgroup memory. Prints one JSON object.
import { readFileSync } from 'node:fs';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { sandboxCgroupDirs } from '../test/helpers/host-traces';
import { usedHostMemoryMB } from './host-memory';
import { report } from './stats';
import { sleep } from '../test/helpers/wait';

const COUNT = Number(process.env.BENCH_IDLE_SANDBOXES ?? 500);
const CONCURRENCY = 8;
const SETTLE_MS = 15_000;

function cgroupMemoryMB(sandboxId: string): number {
  const dir = sandboxCgroupDirs(sandboxId).find((d) => d.includes('/memory/'));
  if (!dir) return Number.NaN;
  return Number(readFileSync(`${dir}/memory.usage_in_bytes`, 'utf8')) / 1024 / 1024;
}

async function main(): Promise<void> {
  const runtime = await RuntimeProcess.start(['--image', 'base', '--warm-pool', '0']);
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
    await sleep(SETTLE_MS);
    const after = usedHostMemoryMB();
    // Every one of them still answers.
    const alive = (await Promise.all(sandboxes.map((s) => s.isRunning()))).filter(Boolean).length;
    const cgroups = sandboxes.map((s) => cgroupMemoryMB(s.sandboxId)).filter((v) => Number.isFinite(v));
    report('runtime-idle-sandbox-memory', {
      unit: 'MB',
      sandboxes: COUNT,
      answering: alive,
      create_seconds: Number(createSeconds.toFixed(1)),
      host_memory_per_sandbox: Number(((after - before) / COUNT).toFixed(2)),
      host_memory_growth: Number((after - before).toFixed(0)),
      cgroup_memory_per_sandbox_mean: Number((cgroups.reduce((a, b) => a + b, 0) / cgroups.length).toFixed(2)),
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
