// Benchmark: a 10 MB file through the SDK's files.read / files.write (raw octet-stream body) and
// through the e2b: provider's direct /files requests (envd-file-http.ts) against a base sandbox:
// wall time p50/p95, and the CPU each hop takes per transfer: this client, the runtime process
// (its gateway relays the bytes) and the sandbox's agent. With BENCH_FILES_OTHER_CLI set to another build's dist/cli.js, a
// second runtime from that build runs beside this one and the two are sampled alternately (an
// A/B on a loaded machine). Prints one JSON object.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Sandbox } from 'e2b';
import { DirectFiles, directFiles } from '../../src/providers/files/envd-file-http';
import { runtimeArguments } from '../src/contract/local-runtime-contract';
import { freePort, SHARED_IMAGES_DIR } from '../test/helpers/runtime-process';
import { agentHostPid, processCpuMs } from './process-cpu';
import { summary } from './stats';

const SIZE = 10 * 1024 * 1024;
const RUNS = Number(process.env.BENCH_FILES_RUNS ?? 20);

function clientCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** One runtime started from `cli` with its own data dir and one base sandbox in it. */
type Kind = 'read' | 'write' | 'direct_read' | 'direct_write';
const KINDS: Kind[] = ['write', 'direct_write', 'read', 'direct_read'];

class Side {
  readonly wall = Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) as unknown as Record<Kind, number[]>;
  readonly cpu = Object.fromEntries(KINDS.map((k) => [k, { client: 0, runtime: 0, agent: 0 }])) as unknown as Record<
    Kind,
    Record<string, number>
  >;
  private readonly direct: DirectFiles;
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly dataDir: string,
    readonly sandbox: Sandbox,
  ) {
    const direct = directFiles(sandbox);
    if (!direct) throw new Error('the SDK exposes no envd URL for direct /files requests');
    this.direct = direct;
  }

  static async start(name: string, cli: string): Promise<Side> {
    const dataDir = mkdtempSync(join(tmpdir(), 'e2b-bench-files-'));
    const port = await freePort();
    const args = runtimeArguments({ command: 'up', listen: { host: '127.0.0.1', port }, dataDir, imagesDir: SHARED_IMAGES_DIR });
    const child = spawn(process.execPath, [cli, ...args, '--warm-pool', '0', '--uplink', 'none'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_EXTRA_CA_CERTS: undefined, E2B_RUNTIME_UPLINK: 'none' },
    });
    let output = '';
    await new Promise<void>((ready, fail) => {
      const onOutput = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('runtime listening on')) ready();
      };
      child.stdout!.on('data', onOutput);
      child.stderr!.on('data', onOutput);
      child.once('exit', (code) => fail(new Error(`runtime exited with ${code}:\n${output}`)));
    });
    const apiKey = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    const url = `http://127.0.0.1:${port}`;
    const sandbox = await Sandbox.create('base', { apiKey, apiUrl: url, sandboxUrl: url, timeoutMs: 30 * 60_000 });
    return new Side(name, child, dataDir, sandbox);
  }

  async sample(kind: Kind, content: Uint8Array, record: boolean): Promise<void> {
    // The agent sleeps (exits) when idle, e.g. while the other side samples: wake it first.
    await this.sandbox.files.exists('/home/user');
    const agentPid = agentHostPid(this.sandbox.sandboxId);
    const before = { client: clientCpuMs(), runtime: processCpuMs(this.child.pid!), agent: processCpuMs(agentPid) };
    const started = performance.now();
    if (kind === 'write') {
      await this.sandbox.files.write('/home/user/big.bin', new Blob([content as Uint8Array<ArrayBuffer>]), { useOctetStream: true });
    } else if (kind === 'direct_write') {
      await this.direct.write('/home/user/big.bin', content);
    } else {
      const path = '/home/user/big.bin';
      const bytes = kind === 'read' ? await this.sandbox.files.read(path, { format: 'bytes' }) : await this.direct.read(path);
      if (bytes.byteLength !== SIZE || bytes[SIZE - 1] !== content[SIZE - 1]) throw new Error(`read ${bytes.byteLength} bytes`);
    }
    const ms = performance.now() - started;
    if (!record) return;
    this.wall[kind].push(ms);
    this.cpu[kind].client += clientCpuMs() - before.client;
    this.cpu[kind].runtime += processCpuMs(this.child.pid!) - before.runtime;
    this.cpu[kind].agent += processCpuMs(agentPid) - before.agent;
  }

  report() {
    const perTransfer = (cpu: Record<string, number>) =>
      Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Number((v / RUNS).toFixed(1))]));
    return Object.fromEntries(KINDS.map((k) => [k, { ...summary(this.wall[k]), cpu_ms: perTransfer(this.cpu[k]) }]));
  }

  async dispose(): Promise<void> {
    await this.sandbox.kill().catch(() => false);
    await new Promise<void>((done) => {
      if (this.child.exitCode !== null) return done();
      this.child.once('exit', () => done());
      this.child.kill('SIGTERM');
    });
    // The killed sandbox left no mounts behind; one still mounted keeps the dir (never rm into it).
    if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(`${this.dataDir}/`)) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const content = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) content[i] = (i * 131 + (i >> 12)) & 0xff;
  const sides: Side[] = [];
  try {
    sides.push(await Side.start('this', resolve(__dirname, '../dist/cli.js')));
    const other = process.env.BENCH_FILES_OTHER_CLI;
    if (other) sides.push(await Side.start('other', other));
    for (let i = -3; i < RUNS; i++) {
      // Alternate which side goes first, so neither always follows the other's garbage.
      const order = i % 2 === 0 ? sides : [...sides].reverse();
      for (const kind of KINDS) for (const side of order) await side.sample(kind, content, i >= 0);
    }
    const result = Object.fromEntries(sides.map((side) => [side.name, side.report()]));
    console.log(JSON.stringify({ benchmark: 'file-transfer', unit: 'ms', bytes: SIZE, runs: RUNS, ...result }, null, 2));
  } finally {
    for (const side of sides) await side.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
