// Benchmark: create → first commands.run('true'), sequentially and 100 at once, from a warm pool
// and cold (no pool); and the commands.run('true') round trip. Through the official SDK against
// a real runtime. Prints one JSON object.
import { Sandbox } from 'e2b';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { PoolWatch } from './pool-wait';
import { report, summary } from './stats';

const SEQUENTIAL = 30;
const BURST = 100;
const IMAGES = ['--image', 'base'];

async function createToFirstCommand(runtime: RuntimeProcess): Promise<{ ms: number; sandbox: Sandbox }> {
  const started = performance.now();
  const sandbox = await Sandbox.create(runtime.sdk);
  await sandbox.commands.run('true');
  return { ms: performance.now() - started, sandbox };
}

/** Sequential creates; `poolSize` > 0 waits for a full pool before each one (every create warm). */
async function sequential(poolSize: number): Promise<number[]> {
  const runtime = await RuntimeProcess.start([...IMAGES, '--warm-pool', `base=${poolSize}`]);
  const pool = poolSize > 0 ? new PoolWatch(runtime, 'base', poolSize) : undefined;
  try {
    const times: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      if (pool) await pool.waitFull();
      const { ms, sandbox } = await createToFirstCommand(runtime);
      times.push(ms);
      await sandbox.kill();
    }
    return times;
  } finally {
    await runtime.dispose();
  }
}

/** BURST creates at once, each followed by its first command; per-sandbox times. */
async function burst(poolSize: number): Promise<number[]> {
  const runtime = await RuntimeProcess.start([...IMAGES, '--warm-pool', `base=${poolSize}`]);
  try {
    if (poolSize > 0) await new PoolWatch(runtime, 'base', poolSize).waitFull();
    const results = await Promise.all(Array.from({ length: BURST }, () => createToFirstCommand(runtime)));
    await Promise.all(results.map((r) => r.sandbox.kill()));
    return results.map((r) => r.ms);
  } finally {
    await runtime.dispose();
  }
}

async function commandRoundTrip(): Promise<number[]> {
  const runtime = await RuntimeProcess.start([...IMAGES, '--warm-pool', '0']);
  try {
    const sandbox = await Sandbox.create(runtime.sdk);
    for (let i = 0; i < 20; i++) await sandbox.commands.run('true');
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      await sandbox.commands.run('true');
      times.push(performance.now() - started);
    }
    await sandbox.kill();
    return times;
  } finally {
    await runtime.dispose();
  }
}

async function main(): Promise<void> {
  report('runtime-sandbox-latency', {
    unit: 'ms',
    create_to_first_command_warm: summary(await sequential(2)),
    create_to_first_command_cold: summary(await sequential(0)),
    [`create_to_first_command_${BURST}_at_once_warm_pool_${BURST}`]: summary(await burst(BURST)),
    [`create_to_first_command_${BURST}_at_once_cold`]: summary(await burst(0)),
    command_run_true: summary(await commandRoundTrip()),
  });
}

main().catch((err) => { console.error(err); process.exit(1); });
