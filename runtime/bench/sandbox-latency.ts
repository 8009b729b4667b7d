// Benchmark: create → first commands.run('true'), sequentially and BENCH_BURST (default 100) at
// once, from a warm pool and cold (no pool); and the commands.run('true') round trip. Through the
// official SDK against a real runtime, and every row also against the SDK's floor (a loopback
// endpoint that answers at once), so each reports the runtime's share. Prints one JSON object.
// BENCH_SEQUENTIAL (30) and BENCH_COMMANDS (300) set the other sample counts; BENCH_ROWS (a comma
// list of row names, e.g. create_to_first_command_at_once_warm_pool) runs only those rows.
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

const ONLY_ROWS = process.env.BENCH_ROWS?.split(',').map((r) => r.trim());

/** The rows that run: every row, or those BENCH_ROWS names (in this order either way). */
async function selectedRows(rows: [string, () => Promise<object>][]): Promise<Record<string, object>> {
  const results: Record<string, object> = {};
  for (const [name, row] of rows) if (!ONLY_ROWS || ONLY_ROWS.includes(name)) results[name] = await row();
  return results;
}

async function main(): Promise<void> {
  await withSdkFloor(async (floor) =>
    report('runtime-sandbox-latency', {
      unit: 'ms',
      at_once: BURST,
      ...(await selectedRows([
        [
          'create_to_first_command_warm',
          () => floor.row(sequentialOn, () => onRuntime(2, (sdk, pool) => sequentialOn(sdk, () => pool!.waitFull()))),
        ],
        ['create_to_first_command_cold', () => floor.row(sequentialOn, () => onRuntime(0, (sdk) => sequentialOn(sdk)))],
        [
          'create_to_first_command_at_once_warm_pool',
          () =>
            floor.row(burstOn, () =>
              onRuntime(BURST, async (sdk, pool) => {
                // The whole burst is served from the pool: it holds BURST ready sandboxes first.
                await pool!.waitFull();
                return burstOn(sdk);
              }),
            ),
        ],
        ['create_to_first_command_at_once_cold', () => floor.row(burstOn, () => onRuntime(0, burstOn))],
        ['command_run_true', () => floor.row(commandRoundTripOn, () => onRuntime(0, commandRoundTripOn))],
      ])),
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
