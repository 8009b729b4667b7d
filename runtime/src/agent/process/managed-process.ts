// One started command: its child process, its output fanned out to the attached streams with
// backpressure, its stdin / terminal input, and its end.
//
// Output rules: a stream attached in the same tick as the spawn sees everything; while any
// attached stream is saturated, the child's pipes are paused (so a fast writer is slowed down, not
// buffered in memory); with no stream attached, output is dropped, except a terminal's: its last
// 64 KiB written while nobody watched go to the next stream that attaches (a terminal that comes
// back after a window reload shows what happened meanwhile).
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { ConnectError } from '../connect/errors';
import { EndEvent, endEventFor } from './exit-status';
import { signalProcessTree } from './kill';
import { LaunchPlan, ProcessConfig } from './launch';

export type OutputKind = 'stdout' | 'stderr' | 'pty';

const STD_CHUNK = 32 * 1024;
const PTY_CHUNK = 16 * 1024;
const PTY_BACKLOG = 64 * 1024;

export interface ProcessSink {
  /** Returns false when saturated; the subscriber then calls Subscription.ready() once it drained. */
  data(kind: OutputKind, chunk: Buffer): boolean;
  end(end: EndEvent): void;
}

export interface Subscription {
  ready(): void;
  cancel(): void;
}

interface Subscriber {
  sink: ProcessSink;
}

export class ManagedProcess {
  private readonly subscribers = new Set<Subscriber>();
  private readonly blocked = new Set<Subscriber>();
  private readonly endListeners: ((end: EndEvent) => void)[] = [];
  private readonly outputs: [Readable, OutputKind][] = [];
  private endEvent: EndEvent | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private stdinOpen: boolean;
  /** Terminal output written while no stream was attached, oldest first, at most PTY_BACKLOG bytes. */
  private backlog: Buffer[] = [];
  private backlogBytes = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly config: ProcessConfig,
    readonly tag: string | undefined,
    readonly isPty: boolean,
    viaHelper: boolean,
  ) {
    this.stdinOpen = !!child.stdin;
    child.stdin?.on('error', () => {
      this.stdinOpen = false;
    });
    child.stdio[3]?.on('error', () => {});
    if (isPty) {
      // Everything a terminal shows is one stream; the helper's own errors (fd 2) join it.
      if (child.stdout) this.outputs.push([child.stdout, 'pty']);
      if (child.stderr) this.outputs.push([child.stderr, 'pty']);
    } else {
      if (child.stdout) this.outputs.push([child.stdout, 'stdout']);
      if (child.stderr) this.outputs.push([child.stderr, 'stderr']);
    }
    for (const [stream, kind] of this.outputs) {
      stream.on('data', (chunk: Buffer) => this.emit(kind, chunk));
      stream.on('error', () => {});
    }
    if (viaHelper) {
      // The helper's relay closes our pipes only after the command exited and its output was
      // passed on, so 'close' (exit + all pipes closed) marks the true end.
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => this.finish(code, signal));
    } else {
      // Without the helper, background jobs may hold the pipes open forever: on exit, take what
      // is already in the pipes and stop.
      child.once('exit', (code, signal) => {
        for (const [stream, kind] of this.outputs) this.drainAfterExit(stream, kind);
        this.finish(code, signal);
      });
    }
  }

  /** Spawns the command; a spawn failure becomes `invalid_argument`. */
  static async start(plan: LaunchPlan, config: ProcessConfig, tag: string | undefined): Promise<ManagedProcess> {
    const child = spawn(plan.file, plan.args, plan.options);
    if (child.pid === undefined) {
      const [err] = (await once(child, 'error')) as [Error];
      throw new ConnectError('invalid_argument', `error starting process '${[config.cmd, ...config.args].join(' ')}': ${err.message}`);
    }
    child.on('error', () => {});
    return new ManagedProcess(child, child.pid, config, tag, plan.pty, plan.viaHelper);
  }

  get ended(): EndEvent | undefined {
    return this.endEvent;
  }

  /** Attaches a sink; a process that already ended delivers only its end. */
  subscribe(sink: ProcessSink): Subscription {
    if (this.endEvent) {
      sink.end(this.endEvent);
      return { ready() {}, cancel() {} };
    }
    const sub: Subscriber = { sink };
    this.subscribers.add(sub);
    const missed = this.backlog.splice(0);
    this.backlogBytes = 0;
    for (const chunk of missed) this.emit('pty', chunk);
    return {
      ready: () => {
        if (this.blocked.delete(sub)) this.updateFlow();
      },
      cancel: () => {
        this.subscribers.delete(sub);
        if (this.blocked.delete(sub)) this.updateFlow();
      },
    };
  }

  onEnd(listener: (end: EndEvent) => void): void {
    if (this.endEvent) listener(this.endEvent);
    else this.endListeners.push(listener);
  }

  /** Kills the command (SIGKILL) once `ms` have passed, unless it ended before. */
  killAfter(ms: number): void {
    if (this.endEvent) return;
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.signal('SIGKILL'), ms);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.endEvent) return;
    signalProcessTree(this.pid, signal);
  }

  async writeStdin(data: Buffer): Promise<void> {
    if (this.isPty) throw new ConnectError('failed_precondition', 'this process has a PTY: send input as pty, not stdin');
    await this.writeInput(data, 'stdin is not enabled or already closed');
  }

  async writePty(data: Buffer): Promise<void> {
    if (!this.isPty) throw new ConnectError('failed_precondition', 'this process has no PTY: send input as stdin');
    await this.writeInput(data, 'the terminal is closed');
  }

  closeStdin(): void {
    if (this.isPty) throw new ConnectError('failed_precondition', 'cannot close stdin of a PTY process: send Ctrl+D (0x04) instead');
    if (!this.stdinOpen || !this.child.stdin) return;
    this.stdinOpen = false;
    this.child.stdin.end();
  }

  resize(cols: number, rows: number): void {
    const control = this.child.stdio[3] as Writable | null | undefined;
    if (!this.isPty || !control) throw new ConnectError('failed_precondition', 'this process has no PTY to resize');
    if (this.endEvent || control.destroyed) throw new ConnectError('failed_precondition', 'the terminal is closed');
    control.write(`${cols} ${rows}\n`);
  }

  private writeInput(data: Buffer, closedMessage: string): Promise<void> {
    const stdin = this.child.stdin;
    if (!stdin || !this.stdinOpen || stdin.destroyed || stdin.writableEnded) {
      return Promise.reject(new ConnectError('failed_precondition', closedMessage));
    }
    // Resolves once the bytes are handed to the child, so a client that outpaces it is slowed down.
    return new Promise((resolve, reject) => {
      stdin.write(data, (err) => {
        if (err) reject(new ConnectError('internal', `error writing input to process ${this.pid}: ${err.message}`));
        else resolve();
      });
    });
  }

  private emit(kind: OutputKind, chunk: Buffer): void {
    if (this.subscribers.size === 0) {
      if (kind === 'pty') this.keepForLater(chunk);
      return;
    }
    const max = kind === 'pty' ? PTY_CHUNK : STD_CHUNK;
    for (let offset = 0; offset < chunk.length; offset += max) {
      const piece = chunk.subarray(offset, offset + max);
      for (const sub of this.subscribers) {
        if (!sub.sink.data(kind, piece)) this.blocked.add(sub);
      }
    }
    if (this.blocked.size > 0) this.updateFlow();
  }

  private keepForLater(chunk: Buffer): void {
    this.backlog.push(chunk);
    this.backlogBytes += chunk.length;
    while (this.backlogBytes > PTY_BACKLOG) {
      const excess = this.backlogBytes - PTY_BACKLOG;
      const oldest = this.backlog[0];
      if (oldest.length <= excess) {
        this.backlog.shift();
        this.backlogBytes -= oldest.length;
      } else {
        this.backlog[0] = oldest.subarray(excess);
        this.backlogBytes -= excess;
      }
    }
  }

  private updateFlow(): void {
    const shouldPause = this.blocked.size > 0 && !this.endEvent;
    if (shouldPause === this.paused) return;
    this.paused = shouldPause;
    for (const [stream] of this.outputs) {
      if (shouldPause) stream.pause();
      else stream.resume();
    }
  }

  private drainAfterExit(stream: Readable, kind: OutputKind): void {
    // What Node already buffered (while paused) comes first.
    stream.removeAllListeners('data');
    let chunk: Buffer | null;
    while ((chunk = stream.read() as Buffer | null) !== null) this.emit(kind, chunk);
    // Then what is still in the pipe. libuv's pipes are non-blocking, so reading stops at EAGAIN.
    const fd = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd === 'number' && fd >= 0) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      // Bounded: a background job might keep writing.
      for (let i = 0; i < 256; i++) {
        let n: number;
        try {
          n = readSync(fd, buf, 0, buf.length, null);
        } catch {
          break;
        }
        if (n <= 0) break;
        this.emit(kind, Buffer.from(buf.subarray(0, n)));
      }
    }
    stream.destroy();
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.endEvent) return;
    const end = endEventFor(code, signal);
    this.endEvent = end;
    clearTimeout(this.killTimer);
    this.stdinOpen = false;
    this.child.stdin?.destroy();
    (this.child.stdio[3] as Writable | null | undefined)?.destroy();
    const subscribers = [...this.subscribers];
    this.subscribers.clear();
    this.blocked.clear();
    for (const sub of subscribers) sub.sink.end(end);
    for (const listener of this.endListeners.splice(0)) listener(end);
  }
}
