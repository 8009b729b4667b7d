// Benchmark: the code interpreter through the official `@e2b/code-interpreter` SDK against a real
// runtime: create → first runCode result (p50/p95 over 10 sandboxes), and the runCode('1+1')
// round trip in Python (and in JavaScript for comparison). Prints one JSON object.
import { Sandbox } from '@e2b/code-interpreter';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { summary as stats } from './stats';


async function main(): Promise<void> {
  const runtime = await RuntimeProcess.start(['--image', 'base', '--image', 'code-interpreter-v1']);
  try {
    const createToFirst: number[] = [];
    const createOnly: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const sandbox = await Sandbox.create(runtime.sdk);
      createOnly.push(performance.now() - started);
      const execution = await sandbox.runCode('1+1');
      if (execution.text !== '2') throw new Error(`unexpected result ${JSON.stringify(execution.toJSON())}`);
      createToFirst.push(performance.now() - started);
      await sandbox.kill();
    }
    const sandbox = await Sandbox.create(runtime.sdk);
    const roundTrip = async (language: string, samples: number) => {
      for (let i = 0; i < 10; i++) await sandbox.runCode('1+1', { language });
      const times: number[] = [];
      for (let i = 0; i < samples; i++) {
        const started = performance.now();
        await sandbox.runCode('1+1', { language });
        times.push(performance.now() - started);
      }
      return times;
    };
    const python = await roundTrip('python', 200);
    const javascript = await roundTrip('javascript', 100);
    await sandbox.kill();
    console.log(JSON.stringify({
      benchmark: 'runtime-code-interpreter-latency',
      unit: 'ms',
      create_to_first_result: stats(createToFirst),
      create: stats(createOnly),
      run_code_1_plus_1_python: stats(python),
      run_code_1_plus_1_javascript: stats(javascript),
    }, null, 2));
  } finally {
    await runtime.dispose();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
