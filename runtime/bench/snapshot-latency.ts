// Benchmark: snapshots and forks through the SDK. createSnapshot is how long the sandbox is
// frozen (plus one API round trip), with a fresh sandbox and with 100 MB written to it; then a
// sandbox started from the snapshot to its first command, and a fork to its first command.
// 10 samples each. Prints one JSON object.
import { Sandbox } from 'e2b';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { report, summary } from './stats';

const SAMPLES = 10;

async function timed(samples: number[], work: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await work();
  samples.push(performance.now() - started);
}

async function main(): Promise<void> {
  const runtime = await RuntimeProcess.start(['--warm-pool', '0']);
  try {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 600_000 });
    await sandbox.commands.run('while true; do sleep 0.1; done', { background: true });
    const small: number[] = [];
    const large: number[] = [];
    const startFrom: number[] = [];
    const fork: number[] = [];
    const snapshots: string[] = [];
    for (let i = 0; i < SAMPLES; i++) await timed(small, async () => snapshots.push((await sandbox.createSnapshot()).snapshotId));
    await sandbox.commands.run('head -c 100M /dev/urandom > /home/user/big.bin');
    for (let i = 0; i < SAMPLES; i++) await timed(large, async () => snapshots.push((await sandbox.createSnapshot()).snapshotId));
    for (let i = 0; i < SAMPLES; i++) {
      await timed(startFrom, async () => {
        const started = await Sandbox.create(snapshots[0], runtime.sdk);
        await started.commands.run('true');
        await started.kill();
      });
      await timed(fork, async () => {
        const [forked] = await sandbox.fork({ timeoutMs: 60_000 });
        if (forked instanceof Error) throw forked;
        await forked.commands.run('true');
        await forked.kill();
      });
    }
    await sandbox.kill();
    for (const id of snapshots) await Sandbox.deleteSnapshot(id, runtime.sdk);
    report('runtime-snapshot-latency', {
      unit: 'ms',
      create_snapshot_fresh: summary(small),
      create_snapshot_100mb: summary(large),
      start_from_snapshot_to_first_command: summary(startFrom),
      fork_to_first_command: summary(fork),
    });
  } finally {
    await runtime.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
