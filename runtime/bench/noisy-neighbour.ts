// Benchmark: how responsive a sandbox stays while a fork bomb runs in another one. Measures a
// neighbour's `commands.run('echo')` and the gateway's envd health for it, first with nothing
// else running, then during the bomb's first seconds (when it forks hardest). And how responsive
// the runtime's API stays while BENCH_BURST (100) sandboxes are created at once, cold: its
// `/health` every 10 ms (the runtime's event loop, which no fork of its own may hold up). Prints
// one JSON object.
import { Sandbox } from 'e2b';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { countFromEnv, report, summary } from './stats';

const SAMPLES = 40;
const BURST = countFromEnv('BENCH_BURST', 100);

/** /health latencies of the API, one request every 10 ms, while BURST sandboxes are created and killed. */
async function apiDuringBurst(runtime: RuntimeProcess): Promise<number[]> {
  let bursting = true;
  const latencies: number[] = [];
  const sampling = (async () => {
    while (bursting) {
      const started = performance.now();
      await (await fetch(`${runtime.url}/health`)).text();
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const sandboxes = await Promise.all(Array.from({ length: BURST }, () => Sandbox.create(runtime.sdk)));
  await Promise.all(sandboxes.map((sandbox) => sandbox.kill()));
  bursting = false;
  await sampling;
  return latencies;
}

async function sampleNeighbour(runtime: RuntimeProcess, neighbour: Sandbox): Promise<{ echo: number[]; health: number[] }> {
  const echo: number[] = [];
  const health: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    let started = performance.now();
    await fetch(`${runtime.url}/health`, { headers: { 'E2b-Sandbox-Id': neighbour.sandboxId, 'E2b-Sandbox-Port': '49983' } });
    health.push(performance.now() - started);
    started = performance.now();
    await neighbour.commands.run('echo hi');
    echo.push(performance.now() - started);
  }
  return { echo, health };
}

const withMax = (values: number[]) => ({ ...summary(values), max: Number(Math.max(...values).toFixed(2)) });

async function main(): Promise<void> {
  const runtime = await RuntimeProcess.start(['--warm-pool', '0']);
  try {
    const duringBurst = await apiDuringBurst(runtime);
    const [bomb, neighbour] = await Promise.all([Sandbox.create(runtime.sdk), Sandbox.create(runtime.sdk)]);
    const quiet = await sampleNeighbour(runtime, neighbour);
    await bomb.commands.run('bash -c ":(){ :|:& };:"', { background: true });
    const bombed = await sampleNeighbour(runtime, neighbour);
    await bomb.kill();
    await neighbour.kill();
    report('runtime-noisy-neighbour', {
      neighbour_echo_quiet: withMax(quiet.echo),
      neighbour_echo_during_fork_bomb: withMax(bombed.echo),
      neighbour_envd_health_during_fork_bomb: withMax(bombed.health),
      api_health_during_cold_burst: { at_once: BURST, ...withMax(duringBurst) },
    });
  } finally {
    await runtime.dispose();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
