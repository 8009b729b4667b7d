// Starts a real runtime (the CLI, as a child process) on a free loopback port with its own data
// dir, sharing the machine's image cache so images are built once.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { sleep } from './wait';
import { DEFAULT_DATA_DIR, runtimeArguments } from '../../src/contract/local-runtime-contract';

export const SHARED_IMAGES_DIR = process.env.E2B_TEST_IMAGES_DIR ?? join(DEFAULT_DATA_DIR, 'images');
const CLI = resolve(__dirname, '../../dist/cli.js');

export interface SdkOptions {
  apiKey: string;
  apiUrl: string;
  sandboxUrl: string;
  requestTimeoutMs?: number;
}

export class RuntimeProcess {
  private child?: ChildProcess;
  output = '';

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  /** Test runtimes keep one warm base sandbox (not the CLI default) unless `--warm-pool` is given. */
  static async start(extraArgs: string[] = []): Promise<RuntimeProcess> {
    const args = extraArgs.includes('--warm-pool') ? extraArgs : [...extraArgs, '--warm-pool', 'base=1'];
    const runtime = new RuntimeProcess(mkdtempSync(join(tmpdir(), 'e2b-runtime-test-')), await freePort(), args);
    await runtime.launch();
    return runtime;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get apiKey(): string {
    return readFileSync(join(this.dataDir, 'api-key'), 'utf8').trim();
  }
  /** The runtime process's pid (for benchmarks that read its CPU time). */
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get sdk(): SdkOptions {
    return { apiKey: this.apiKey, apiUrl: this.url, sandboxUrl: this.url };
  }

  async launch(): Promise<void> {
    this.output = '';
    const args = runtimeArguments({
      command: 'up',
      listen: { host: '127.0.0.1', port: this.port },
      dataDir: this.dataDir,
      imagesDir: SHARED_IMAGES_DIR,
    });
    const child = spawn(process.execPath, [CLI, ...args, ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // The runtime makes no https calls of its own; an inherited extra CA file only slows node's start (~3x).
      // No test runtime ever sends a sandbox's packet off this machine: no uplink unless the test passes its own `--uplink`.
      env: { ...process.env, NODE_EXTRA_CA_CERTS: undefined, E2B_RUNTIME_UPLINK: process.env.E2B_RUNTIME_UPLINK || 'none' },
    });
    this.child = child;
    await new Promise<void>((resolveReady, reject) => {
      const onOutput = (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes('runtime listening on')) resolveReady();
      };
      child.stdout!.on('data', onOutput);
      child.stderr!.on('data', onOutput);
      child.once('exit', (code) => reject(new Error(`runtime exited with ${code} before it was ready:\n${this.output}`)));
    });
  }

  /** Stops the runtime process; its sandboxes keep running. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
  }

  /** Kills the runtime process with SIGKILL: no clean-up of its own happens. */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGKILL');
    });
  }

  /** Resolves once the runtime has logged `text` after output offset `from`. */
  async waitForOutput(text: string, from: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text, from)) {
      if (Date.now() > deadline)
        throw new Error(`the runtime did not log "${text}" within ${timeoutMs} ms:\n${this.output.slice(from).slice(-2000)}`);
      await sleep(20);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Kills every sandbox this runtime has, stops it and removes its data dir. */
  async dispose(): Promise<void> {
    // Sandboxes outlive a stopped runtime: bring it back to kill them properly.
    if (this.hasSandboxDirs() && !(await this.isUp())) await this.launch();
    await this.killAllSandboxes();
    await this.destroyAllVolumes();
    await this.stop();
    // What the API does not list (the warm pool's sandboxes, ones still booting) still runs:
    // end every container of this runtime's crun root, so no sandbox outlives its runtime.
    this.deleteLeftContainers();
    // Volume disks stay mounted while the runtime is down (sandboxes may use them): never rm into one.
    for (const point of readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((p) => p?.startsWith(`${this.dataDir}/`))) {
      execFileSync('umount', ['--lazy', point]);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** A base sandbox without an envd access token (secure: false: the SDK always asks for one now, the API still takes it); its id. */
  async createInsecureSandbox(): Promise<string> {
    const created = await fetch(`${this.url}/sandboxes`, {
      method: 'POST',
      headers: { 'X-API-KEY': this.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ templateID: 'base', secure: false }),
    });
    if (created.status !== 201) throw new Error(`create with secure:false answered ${created.status}: ${await created.text()}`);
    return ((await created.json()) as { sandboxID: string }).sandboxID;
  }

  async destroyAllVolumes(): Promise<void> {
    try {
      const res = await fetch(`${this.url}/volumes`, { headers: { 'X-API-KEY': this.apiKey } });
      for (const v of (await res.json()) as { volumeID: string }[]) {
        await fetch(`${this.url}/volumes/${v.volumeID}`, { method: 'DELETE', headers: { 'X-API-KEY': this.apiKey } });
      }
    } catch {
      // The runtime may already be gone.
    }
  }

  private deleteLeftContainers(): void {
    const root = join(this.dataDir, 'crun');
    let ids: string[];
    try {
      ids = execFileSync('crun', ['--root', root, 'list', '-q']).toString().split('\n').filter(Boolean);
    } catch {
      return; // no crun root: nothing ever started
    }
    for (const id of ids) execFileSync('crun', ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
  }

  private hasSandboxDirs(): boolean {
    try {
      return readdirSync(join(this.dataDir, 'sandboxes')).length > 0;
    } catch {
      return false;
    }
  }

  async isUp(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/health`)).ok;
    } catch {
      return false;
    }
  }

  async killAllSandboxes(): Promise<void> {
    try {
      const res = await fetch(`${this.url}/v2/sandboxes?limit=100`, { headers: { 'X-API-KEY': this.apiKey } });
      for (const s of (await res.json()) as { sandboxID: string }[]) {
        await fetch(`${this.url}/sandboxes/${s.sandboxID}`, { method: 'DELETE', headers: { 'X-API-KEY': this.apiKey } });
      }
    } catch {
      // The runtime may already be gone.
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });
}
