// Runs the host tools the runtime needs (crun, the disk tool, umount, rm, ip, du...) through
// e2b-spawner (native/spawner.c), a small process that forks them, so that the runtime does not
// fork itself for them: Node's spawn() waits for the fork on the event loop, and a fork of the runtime
// copies its page tables (~1.3 ms per command idle, ~4 ms each in a burst of 100 creates here).
// The runtime names the program once it is built (useSpawner). Should the spawner exit, the
// commands its workers were running still answer, and the next command starts a new spawner.
import { ChildProcess, spawn } from 'node:child_process';

export interface HostCommandOptions {
  /** Written to the command's stdin (at most 64 kB: the spawner writes it before reading output). */
  input?: string;
  /** Killed (SIGKILL) after this long; the failure says it timed out. */
  timeoutMs?: number;
  /** The command's stdout and stderr are appended to this file instead of being captured. */
  outputFile?: string;
}

/** A command that exited non-zero, died of a signal, timed out or could not start. */
export class HostCommandError extends Error {
  constructor(
    readonly command: string,
    /** The exit code, or minus the signal. */
    readonly status: number,
    readonly stdout: string,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    const reason = stderr.trim() || (timedOut ? 'timed out' : status < 0 ? `was killed by signal ${-status}` : `exited with ${status}`);
    super(`${command}: ${reason}`);
    this.reason = reason;
  }

  /** What the command said on stderr, else how it ended. */
  readonly reason: string;
}

/** Why a host command failed, for a caller's own message. */
export function whyFailed(err: unknown): string {
  return err instanceof HostCommandError ? err.reason : (err as Error).message;
}

const MAX_INPUT = 64 * 1024;

interface Pending {
  command: string;
  resolve(stdout: string): void;
  reject(err: Error): void;
}

/** One e2b-spawner process and the commands it was asked to run. */
class SpawnerProcess {
  /** False once it exited: new commands go to a new one, this one's answers may still come in. */
  accepting = true;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered: Buffer = Buffer.alloc(0);

  constructor(program: string) {
    this.child = spawn(program, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdin!.on('error', () => {});
    this.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.on('exit', () => (this.accepting = false));
    // Its workers hold its stdout until they answered: at its close every answer is in.
    this.child.on('close', (code, signal) => this.failPending(`the command spawner exited (${signal ?? code})`));
    this.child.on('error', (err) => {
      this.accepting = false;
      this.failPending(`the command spawner failed: ${err.message}`);
    });
    this.holdProcessOpen(false);
  }

  run(command: string, args: string[], options: HostCommandOptions): Promise<string> {
    const id = this.nextId++;
    const input = Buffer.from(options.input ?? '');
    const strings = Buffer.from([options.outputFile ?? '', command, ...args].map((s) => `${s}\0`).join(''));
    const head = Buffer.alloc(16);
    head.writeUInt32LE(12 + input.length + strings.length, 0);
    head.writeUInt32LE(id, 4);
    head.writeUInt32LE(options.timeoutMs ?? 0, 8);
    head.writeUInt32LE(input.length, 12);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { command, resolve, reject });
      this.holdProcessOpen(true);
      this.child.stdin!.write(Buffer.concat([head, input, strings]));
    });
  }

  /** The runtime waits for a command it runs, never for an idle spawner (it exits at its stdin's EOF). */
  private holdProcessOpen(hold: boolean): void {
    for (const handle of [this.child, this.child.stdin, this.child.stdout] as unknown as { ref(): void; unref(): void }[]) {
      if (hold) handle.ref();
      else handle.unref();
    }
  }

  private failPending(why: string): void {
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      waiting.reject(new Error(`${waiting.command}: ${why}`));
    }
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readUInt32LE(0)) {
      const answer = this.buffered.subarray(4, 4 + this.buffered.readUInt32LE(0));
      this.buffered = this.buffered.subarray(4 + answer.length);
      const id = answer.readUInt32LE(0);
      const status = answer.readInt32LE(4);
      const timedOut = answer.readUInt32LE(8) === 1;
      const outLength = answer.readUInt32LE(12);
      const stdout = answer.toString('utf8', 20, 20 + outLength);
      const stderr = answer.toString('utf8', 20 + outLength);
      const waiting = this.pending.get(id);
      if (!waiting) continue;
      this.pending.delete(id);
      if (this.pending.size === 0) this.holdProcessOpen(false);
      if (status === 0 && !timedOut) waiting.resolve(stdout);
      else waiting.reject(new HostCommandError(waiting.command, status, stdout, stderr, timedOut));
    }
  }
}

class Spawner {
  private current: SpawnerProcess | undefined;

  constructor(private readonly program: string) {}

  run(command: string, args: string[], options: HostCommandOptions): Promise<string> {
    if (!this.current?.accepting) this.current = new SpawnerProcess(this.program);
    return this.current.run(command, args, options);
  }
}

let spawner: Spawner | undefined;

/** From now on commands go through the spawner at `program` (the runtime's own build of it). */
export function useSpawner(program: string): void {
  spawner = new Spawner(program);
}

/** Runs `command` (searched in PATH) to its end; its stdout, or a HostCommandError. */
export function runHostCommand(command: string, args: string[], options: HostCommandOptions = {}): Promise<string> {
  if (Buffer.byteLength(options.input ?? '') > MAX_INPUT) return Promise.reject(new Error(`${command}: input over ${MAX_INPUT} bytes`));
  if (!spawner) return Promise.reject(new Error(`${command}: the runtime's command spawner is not set up (useSpawner)`));
  return spawner.run(command, args, options);
}
