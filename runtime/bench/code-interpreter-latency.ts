// Benchmark: the code interpreter through the official `@e2b/code-interpreter` SDK against a real
// runtime: create → first runCode result (from a warm pool, and cold), the runCode('1+1') round
// trip in Python (and JavaScript for comparison), and a matplotlib chart cell. Prints one JSON object.
import { Sandbox } from '@e2b/code-interpreter';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { PoolWatch } from './pool-wait';
import { report, summary } from './stats';

const IMAGES = ['--image', 'base', '--image', 'code-interpreter-v1'];
const TEMPLATE = 'code-interpreter-v1';
const CHART = 'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()';

async function createToFirstResult(poolSize: number, samples: number): Promise<number[]> {
  const runtime = await RuntimeProcess.start([...IMAGES, '--warm-pool', `${TEMPLATE}=${poolSize}`]);
  const pool = poolSize > 0 ? new PoolWatch(runtime, TEMPLATE, poolSize) : undefined;
  try {
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      if (pool) await pool.waitFull();
      const started = performance.now();
      const sandbox = await Sandbox.create(runtime.sdk);
      const execution = await sandbox.runCode('1+1');
      if (execution.text !== '2') throw new Error(`unexpected result ${JSON.stringify(execution.toJSON())}`);
      times.push(performance.now() - started);
      await sandbox.kill();
    }
    return times;
  } finally {
    await runtime.dispose();
  }
}

async function roundTrips(): Promise<Record<string, number[]>> {
  const runtime = await RuntimeProcess.start([...IMAGES, '--warm-pool', '0']);
  try {
    const sandbox = await Sandbox.create(runtime.sdk);
    const measure = async (code: string, language: string, samples: number, check: (e: Awaited<ReturnType<Sandbox['runCode']>>) => boolean) => {
      for (let i = 0; i < 10; i++) await sandbox.runCode(code, { language });
      const times: number[] = [];
      for (let i = 0; i < samples; i++) {
        const started = performance.now();
        const execution = await sandbox.runCode(code, { language });
        times.push(performance.now() - started);
        if (!check(execution)) throw new Error(`unexpected result ${JSON.stringify(execution.toJSON())}`);
      }
      return times;
    };
    const result = {
      python: await measure('1+1', 'python', 200, (e) => e.text === '2'),
      javascript: await measure('1+1', 'javascript', 100, (e) => e.text === '2'),
      chart: await measure(CHART, 'python', 30, (e) => e.results.some((r) => r.png)),
    };
    await sandbox.kill();
    return result;
  } finally {
    await runtime.dispose();
  }
}

async function main(): Promise<void> {
  const trips = await roundTrips();
  report('runtime-code-interpreter-latency', {
    unit: 'ms',
    create_to_first_result_warm: summary(await createToFirstResult(1, 10)),
    create_to_first_result_cold: summary(await createToFirstResult(0, 10)),
    run_code_1_plus_1_python: summary(trips.python),
    run_code_1_plus_1_javascript: summary(trips.javascript),
    run_code_matplotlib_chart: summary(trips.chart),
  });
}

main().catch((err) => { console.error(err); process.exit(1); });
