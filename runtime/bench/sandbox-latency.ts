// Benchmark: create → first commands.run('true') over 30 sandboxes, and the commands.run('true')
// round trip, through the official SDK against a real runtime. Prints one JSON object.
import { Sandbox } from 'e2b';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { summary } from './stats';


async function main(): Promise<void> {
  const runtime = await RuntimeProcess.start();
  try {
    const createToFirst: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      const sandbox = await Sandbox.create(runtime.sdk);
      await sandbox.commands.run('true');
      createToFirst.push(performance.now() - started);
      await sandbox.kill();
    }
    const sandbox = await Sandbox.create(runtime.sdk);
    for (let i = 0; i < 10; i++) await sandbox.commands.run('true');
    const roundTrip: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      await sandbox.commands.run('true');
      roundTrip.push(performance.now() - started);
    }
    await sandbox.kill();
    console.log(JSON.stringify({
      benchmark: 'runtime-sandbox-latency',
      unit: 'ms',
      create_to_first_command: summary(createToFirst),
      command_run_true: summary(roundTrip),
    }, null, 2));
  } finally {
    await runtime.dispose();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
