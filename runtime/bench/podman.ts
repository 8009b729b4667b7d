// Benchmark: what a Linux user would run instead, measured beside the runtime in the same
// `npm run bench`: Debian's Podman (with crun) on the same root filesystem as the runtime's base
// image, imported as a Podman image into a store of this run's own (removed afterwards, with
// every container). Rows comparable to the runtime's: a new container and its first command
// (`podman run --rm … true`, and `podman run -d` + `podman exec … true` for a container that stays
// up as a sandbox does), a command in a running container (`podman exec`), BENCH_PODMAN_BURST
// (default 100) `podman run --rm … true` at once, and the memory of BENCH_PODMAN_IDLE (default
// 100) idle containers (host memory growth, conmon's RSS, the container's cgroup). Containers have
// no network (`--network none`). Where Podman is missing or cannot run, prints
// `podman: skipped (<reason>)`, records that, and exits 0. Prints one JSON object.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SHARED_IMAGES_DIR } from '../test/helpers/runtime-process';
import { usedHostMemoryMB } from './host-memory';
import { countFromEnv, report, summary } from './stats';

const run = promisify(execFile);
const SAMPLES = countFromEnv('BENCH_PODMAN_SAMPLES', 20);
const EXECS = countFromEnv('BENCH_PODMAN_EXECS', 50);
const BURST = countFromEnv('BENCH_PODMAN_BURST', 100);
const IDLE = countFromEnv('BENCH_PODMAN_IDLE', 100);
const SETTLE_MS = 15_000;
const IMAGE = 'localhost/e2b-bench-base:latest';
const BASE_ROOTFS = join(SHARED_IMAGES_DIR, 'base', 'rootfs');
const GLOBAL_DIR = '/var/lib/containers';

/** Podman on a store of its own: nothing of a user's Podman state is read or left behind. */
class Podman {
  readonly root = mkdtempSync('/var/tmp/e2b-bench-podman-');
  /** `podman import` keeps a blob cache there whatever the store; made by this run, it goes too. */
  private readonly madeGlobalDir = !existsSync(GLOBAL_DIR);
  readonly runroot = join(this.root, 'run');
  readonly limits = hostLimits();

  private get global(): string[] {
    return ['--root', join(this.root, 'storage'), '--runroot', this.runroot, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
  }

  /** The options of every container: no network, the image as imported, the host's rlimits. */
  get containerOptions(): string[] {
    return ['--network', 'none', '--pull', 'never', '--ulimit', `nofile=${this.limits.nofile}`, '--ulimit', `nproc=${this.limits.nproc}`];
  }

  async cli(args: string[]): Promise<string> {
    return (await run('podman', [...this.global, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
  }

  /** `podman import` of the base root filesystem, streamed from tar. */
  async importBase(): Promise<void> {
    const tar = spawn('tar', ['-C', BASE_ROOTFS, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const importing = spawn('podman', [...this.global, 'import', '-', IMAGE], { stdio: [tar.stdout, 'ignore', 'pipe'] });
    let stderr = '';
    importing.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = (child: ChildProcess) => new Promise<number | null>((done) => child.once('exit', done));
    const [tarCode, importCode] = await Promise.all([exited(tar), exited(importing)]);
    if (tarCode !== 0 || importCode !== 0)
      throw Object.assign(new Error('podman import failed'), { stderr: stderr || `tar exited with ${tarCode}` });
  }

  /** Removes every container and image of this store, unmounts what is left, and deletes it. */
  async dispose(): Promise<void> {
    await this.cli(['rm', '--all', '--force', '--time', '0']).catch(() => '');
    await this.cli(['rmi', '--all', '--force']).catch(() => '');
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1])
      .filter((m) => m?.startsWith(`${this.root}/`));
    for (const mount of mounts.reverse()) await run('umount', ['-l', mount]).catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
    if (this.madeGlobalDir) rmSync(GLOBAL_DIR, { recursive: true, force: true });
  }
}

/**
 * The host's own open-file and process limits. Podman asks for more than this machine's hard limits
 * by default, which crun may not set; and conmon (which starts crun) runs with at most 32768
 * processes here, so the process limit is capped there.
 */
function hostLimits(): { nofile: string; nproc: string } {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const limit = (name: string, cap = Number.POSITIVE_INFINITY) => {
    const [soft, hard] = new RegExp(`^${name}\\s+(\\S+)\\s+(\\S+)`, 'm')
      .exec(limits)!
      .slice(1)
      .map((v) => Math.min(v === 'unlimited' ? cap : Number(v), cap));
    return Number.isFinite(hard) ? `${soft}:${hard}` : '-1:-1';
  };
  return { nofile: limit('Max open files'), nproc: limit('Max processes', 32768) };
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

function rssMB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** The memory cgroup the container's first process is in (v1 `memory` controller, or v2). */
function cgroupMemoryMB(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'));
  const file = v1
    ? `/sys/fs/cgroup/memory${v1.split(':')[2]}/memory.usage_in_bytes`
    : `/sys/fs/cgroup${lines.find((l) => l.startsWith('0::'))?.slice(3)}/memory.current`;
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) / 1024 / 1024 : Number.NaN;
}

const mean = (values: number[]) => Number((values.reduce((a, b) => a + b, 0) / values.length).toFixed(2));

async function measure(podman: Podman): Promise<object> {
  const options = podman.containerOptions;
  const runTrue = () => podman.cli(['run', '--rm', ...options, IMAGE, 'true']);
  await runTrue();

  const runRm: number[] = [];
  for (let i = 0; i < SAMPLES; i++) runRm.push((await timed(runTrue)).ms);

  const createExec: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const { ms, value: id } = await timed(async () => {
      const id = await podman.cli(['run', '-d', ...options, IMAGE, 'sleep', 'infinity']);
      await podman.cli(['exec', id, 'true']);
      return id;
    });
    createExec.push(ms);
    await podman.cli(['rm', '--force', '--time', '0', id]);
  }

  const running = await podman.cli(['run', '-d', ...options, IMAGE, 'sleep', 'infinity']);
  for (let i = 0; i < 5; i++) await podman.cli(['exec', running, 'true']);
  const exec: number[] = [];
  for (let i = 0; i < EXECS; i++) exec.push((await timed(() => podman.cli(['exec', running, 'true']))).ms);
  await podman.cli(['rm', '--force', '--time', '0', running]);

  const burst = await Promise.all(Array.from({ length: BURST }, () => timed(runTrue)));

  // The burst's memory is still being handed back: let the host settle before the baseline.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const before = usedHostMemoryMB();
  const idle: string[] = [];
  const started = performance.now();
  for (let i = 0; i < IDLE; i++) idle.push(await podman.cli(['run', '-d', ...options, IMAGE, 'sleep', 'infinity']));
  const createSeconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const after = usedHostMemoryMB();
  const pids = (await podman.cli(['inspect', '--format', '{{.State.ConmonPid}} {{.State.Pid}}', ...idle]))
    .split('\n')
    .map((l) => l.split(' ').map(Number));
  const conmon = pids.map(([c]) => rssMB(c)).filter(Number.isFinite);
  const cgroups = pids.map(([, p]) => cgroupMemoryMB(p)).filter(Number.isFinite);

  return {
    unit: 'ms',
    podman: (await podman.cli(['--version'])).replace(/^podman version /, ''),
    oci_runtime: (await podman.cli(['info', '--format', '{{.Host.OCIRuntime.Version}}'])).split('\n')[0],
    network: 'none',
    run_rm_true: summary(runRm),
    run_detached_then_exec_true: summary(createExec),
    exec_true: summary(exec),
    at_once: BURST,
    run_rm_true_at_once: summary(burst.map((b) => b.ms)),
    idle_memory: {
      unit: 'MB',
      containers: IDLE,
      create_seconds: Number(createSeconds.toFixed(1)),
      host_memory_per_container: Number(((after - before) / IDLE).toFixed(2)),
      conmon_rss_mean: mean(conmon),
      cgroup_memory_per_container_mean: mean(cgroups),
      conmon_plus_cgroup_per_container: Number((mean(conmon) + mean(cgroups)).toFixed(2)),
    },
  };
}

async function unavailable(): Promise<string | undefined> {
  if (process.env.E2B_BENCH_PODMAN_SKIP) return process.env.E2B_BENCH_PODMAN_SKIP;
  try {
    await run('podman', ['--version']);
  } catch {
    return 'podman is not installed; scripts/bench.sh installs it with apt-get';
  }
  if (!existsSync(BASE_ROOTFS)) return `no base image at ${BASE_ROOTFS}`;
  return undefined;
}

function skip(reason: string): void {
  console.log(`podman: skipped (${reason})`);
  report('podman', { skipped: reason });
}

async function main(): Promise<void> {
  const missing = await unavailable();
  if (missing) return skip(missing);
  const podman = new Podman();
  try {
    await podman.importBase();
    report('podman', await measure(podman));
  } catch (err) {
    skip(
      `it did not run here: ${String((err as { stderr?: string }).stderr || err)
        .trim()
        .split('\n')
        .pop()}`,
    );
  } finally {
    await podman.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
