// Starts the SDK's floor (sdk-floor-server.ts) as its own process on loopback and hands out SDK
// options that point every call of the official SDKs at it, as RuntimeProcess does for a runtime.
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { SdkOptions } from '../test/helpers/runtime-process';
import { withFloor } from './stats';

export class SdkFloor {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<SdkFloor> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'sdk-floor-server.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening (\S+)/.exec(output);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`the SDK floor exited with ${code}: ${output}`)));
    });
    return new SdkFloor(child, url);
  }

  /** The SDK checks the key's form only; the floor takes any. */
  get sdk(): SdkOptions {
    return { apiKey: 'e2b_00000000000000000000000000000000000000ff', apiUrl: this.url, sandboxUrl: this.url };
  }

  /**
   * One row: `measure` against the floor, then `onRuntime` (the same calls against a runtime)
   * right after, so both see the machine alike; the runtime's samples with the floor beside them.
   */
  async row(measure: (sdk: SdkOptions) => Promise<number[]>, onRuntime: () => Promise<number[]>): Promise<ReturnType<typeof withFloor>> {
    const floor = await measure(this.sdk);
    return withFloor(await onRuntime(), floor);
  }

  async dispose(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await new Promise<void>((done) => {
      this.child.once('exit', () => done());
      this.child.kill('SIGTERM');
    });
  }
}

/** Runs `work` with a floor up, and stops it again. */
export async function withSdkFloor<T>(work: (floor: SdkFloor) => Promise<T>): Promise<T> {
  const floor = await SdkFloor.start();
  try {
    return await work(floor);
  } finally {
    await floor.dispose();
  }
}
