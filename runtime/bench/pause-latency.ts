// Benchmark: pause and resume latency (SDK call to answer) over 20 cycles of one sandbox with a
// process running. Prints one JSON object.
import { Sandbox } from 'e2b';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { report, summary } from './stats';

async function main(): Promise<void> {
  const runtime = await RuntimeProcess.start();
  try {
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.commands.run('while true; do sleep 0.1; done', { background: true });
    const pause: number[] = [];
    const resume: number[] = [];
    for (let i = 0; i < 20; i++) {
      let started = performance.now();
      await Sandbox.pause(sandbox.sandboxId, runtime.sdk);
      pause.push(performance.now() - started);
      started = performance.now();
      await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
      resume.push(performance.now() - started);
    }
    await sandbox.kill();
    report('runtime-pause-resume-latency', {
      unit: 'ms',
      pause: summary(pause),
      resume: summary(resume),
    });
  } finally {
    await runtime.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
