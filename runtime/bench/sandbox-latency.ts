// Benchmark: create → first commands.run('true'), sequentially and BENCH_BURST (default 100) at
// once, from a warm pool and cold (no pool); and the commands.run('true') round trip. Through the
// official SDK against a real runtime, and every row also against the SDK's floor (a loopback
// endpoint that answers at once), so each reports the runtime's share. Prints one JSON object.
// BENCH_SEQUENTIAL (30) and BENCH_COMMANDS (300) set the other sample counts.
import { Sandbox } from 'e2b';
import { RuntimeProcess, SdkOptions } from '../test/helpers/runtime-process';
import { withSdkFloor } from './sdk-floor';
import { PoolWatch } from './pool-wait';
import { countFromEnv, report } from './stats';

const SEQUENTIAL = countFromEnv('BENCH_SEQUENTIAL', 30);
const BURST = countFromEnv('BENCH_BURST', 100);
const COMMANDS = countFromEnv('BENCH_COMMANDS', 300);
const IMAGES = ['--image', 'base'];

async function createToFirstCommand(sdk: SdkOptions): Promise<{ ms: number; sandbox: Sandbox }> {
  const started = performance.now();
  const sandbox = await Sandbox.create(sdk);
  await sandbox.commands.run('true');
  return { ms: performance.now() - started, sandbox };
}

/** Sequential creates, each after `beforeEach` (a full pool: every create warm). */
async function sequentialOn(sdk: SdkOptions, beforeEach?: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    if (beforeEach) await beforeEach();
    const { ms, sandbox } = await createToFirstCommand(sdk);
    times.push(ms);
    await sandbox.kill();
  }
  return times;
}

/** BURST creates at once, each followed by its first command; per-sandbox times. */
async function burstOn(sdk: SdkOptions): Promise<number[]> {
  const results = await Promise.all(Array.from({ length: BURST }, () => createToFirstCommand(sdk)));
  await Promise.all(results.map((r) => r.sandbox.kill()));
  return results.map((r) => r.ms);
}

async function commandRoundTripOn(sdk: SdkOptions): Promise<number[]> {
  const sandbox = await Sandbox.create(sdk);
  for (let i = 0; i < 20; i++) await sandbox.commands.run('true');
  const times: number[] = [];
  for (let i = 0; i < COMMANDS; i++) {
    const started = performance.now();
    await sandbox.commands.run('true');
    times.push(performance.now() - started);
  }
  await sandbox.kill();
  return times;
}

/** Runs `measure` against a fresh runtime with a base pool of `poolSize`, waiting for it to fill first. */
async function onRuntime(poolSize: number, measure: (sdk: SdkOptions, pool?: PoolWatch) => Promise<number[]>): Promise<number[]> {
  const runtime = await RuntimeProcess.start([...IMAGES, '--warm-pool', `base=${poolSize}`]);
  try {
    return await measure(runtime.sdk, poolSize > 0 ? new PoolWatch(runtime, 'base', poolSize) : undefined);
  } finally {
    await runtime.dispose();
  }
}

async function main(): Promise<void> {
  await withSdkFloor(async (floor) =>
    report('runtime-sandbox-latency', {
      unit: 'ms',
      at_once: BURST,
      create_to_first_command_warm: await floor.row(sequentialOn, () =>
        onRuntime(2, (sdk, pool) => sequentialOn(sdk, () => pool!.waitFull())),
      ),
      create_to_first_command_cold: await floor.row(sequentialOn, () => onRuntime(0, (sdk) => sequentialOn(sdk))),
      create_to_first_command_at_once_warm_pool: await floor.row(burstOn, () =>
        onRuntime(BURST, async (sdk, pool) => {
          await pool!.waitFull();
          return burstOn(sdk);
        }),
      ),
      create_to_first_command_at_once_cold: await floor.row(burstOn, () => onRuntime(0, burstOn)),
      command_run_true: await floor.row(commandRoundTripOn, () => onRuntime(0, commandRoundTripOn)),
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
