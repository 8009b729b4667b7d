// Benchmark: the code interpreter through the official `@e2b/code-interpreter` SDK against a real
// runtime: create → first runCode result (from a warm pool, and cold), the runCode('1+1') round
// trip in Python and JavaScript, and a matplotlib chart cell. Every `1+1` row is also measured
// against the SDK's floor (a loopback endpoint that answers at once), so each reports the
// runtime's share. BENCH_SEQUENTIAL (10) and BENCH_RUN_CODE (200) set the sample
// counts. Prints one JSON object.
import { Sandbox } from '@e2b/code-interpreter';
import { RuntimeProcess, SdkOptions } from '../test/helpers/runtime-process';
import { withSdkFloor } from './sdk-floor';
import { PoolWatch } from './pool-wait';
import { countFromEnv, report, summary } from './stats';

const IMAGES = ['--image', 'base', '--image', 'code-interpreter-v1'];
const TEMPLATE = 'code-interpreter-v1';
const CHART = 'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()';
const SEQUENTIAL = countFromEnv('BENCH_SEQUENTIAL', 10);
const RUN_CODE = countFromEnv('BENCH_RUN_CODE', 200);

type Execution = Awaited<ReturnType<Sandbox['runCode']>>;
const isTwo = (e: Execution) => e.text === '2';

async function createToFirstResultOn(sdk: SdkOptions, beforeEach?: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    if (beforeEach) await beforeEach();
    const started = performance.now();
    const sandbox = await Sandbox.create(sdk);
    const execution = await sandbox.runCode('1+1');
    if (!isTwo(execution)) throw new Error(`unexpected result ${JSON.stringify(execution.toJSON())}`);
    times.push(performance.now() - started);
    await sandbox.kill();
  }
  return times;
}

async function createToFirstResult(poolSize: number): Promise<number[]> {
  const runtime = await RuntimeProcess.start([...IMAGES, '--warm-pool', `${TEMPLATE}=${poolSize}`]);
  const pool = poolSize > 0 ? new PoolWatch(runtime, TEMPLATE, poolSize) : undefined;
  try {
    return await createToFirstResultOn(runtime.sdk, pool && (() => pool.waitFull()));
  } finally {
    await runtime.dispose();
  }
}

async function measure(
  sandbox: Sandbox,
  code: string,
  language: string,
  samples: number,
  check: (e: Execution) => boolean,
): Promise<number[]> {
  for (let i = 0; i < 10; i++) await sandbox.runCode(code, { language });
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const execution = await sandbox.runCode(code, { language });
    times.push(performance.now() - started);
    if (!check(execution)) throw new Error(`unexpected result ${JSON.stringify(execution.toJSON())}`);
  }
  return times;
}

async function onePlusOne(sdk: SdkOptions, language: string): Promise<number[]> {
  const sandbox = await Sandbox.create(sdk);
  const times = await measure(sandbox, '1+1', language, language === 'python' ? RUN_CODE : Math.ceil(RUN_CODE / 2), isTwo);
  await sandbox.kill();
  return times;
}

/** Runs `work` against a fresh runtime without a pool. */
async function onRuntime(work: (sdk: SdkOptions) => Promise<number[]>): Promise<number[]> {
  const runtime = await RuntimeProcess.start([...IMAGES, '--warm-pool', '0']);
  try {
    return await work(runtime.sdk);
  } finally {
    await runtime.dispose();
  }
}

async function chart(sdk: SdkOptions): Promise<number[]> {
  const sandbox = await Sandbox.create(sdk);
  const times = await measure(sandbox, CHART, 'python', Math.min(30, RUN_CODE), (e) => e.results.some((r) => r.png));
  await sandbox.kill();
  return times;
}

async function main(): Promise<void> {
  await withSdkFloor(async (floor) =>
    report('runtime-code-interpreter-latency', {
      unit: 'ms',
      create_to_first_result_warm: await floor.row(createToFirstResultOn, () => createToFirstResult(1)),
      create_to_first_result_cold: await floor.row(createToFirstResultOn, () => createToFirstResult(0)),
      run_code_1_plus_1_python: await floor.row(
        (sdk) => onePlusOne(sdk, 'python'),
        () => onRuntime((sdk) => onePlusOne(sdk, 'python')),
      ),
      run_code_1_plus_1_javascript: await floor.row(
        (sdk) => onePlusOne(sdk, 'javascript'),
        () => onRuntime((sdk) => onePlusOne(sdk, 'javascript')),
      ),
      run_code_matplotlib_chart: summary(await onRuntime(chart)),
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
