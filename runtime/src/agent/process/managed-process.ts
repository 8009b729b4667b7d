// One started command (see command-io.ts for how it was started): its output fanned out to the attached streams with
// backpressure, its stdin / terminal input, and its end.
//
// Output rules: a stream attached in the same tick as the spawn sees everything; while any
// attached stream is saturated, the command's output is paused (so a fast writer is slowed down, not
// buffered in memory); with no stream attached, output is dropped, except a terminal's: its last
// 64 KiB written while nobody watched go to the next stream that attaches (a terminal that comes
// back after a window reload shows what happened meanwhile).
import { ConnectError } from '../connect/errors';
import { CommandIo, OutputKind } from './command-io';
import { EndEvent } from './exit-status';
import { signalProcessTree } from './kill';
import { ProcessConfig } from './launch';

export type { OutputKind } from './command-io';

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
  private endEvent: EndEvent | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private paused = false;
  /** Terminal output written while no stream was attached, oldest first, at most PTY_BACKLOG bytes. */
  private backlog: Buffer[] = [];
  private backlogBytes = 0;

  private constructor(
    private readonly io: CommandIo,
    readonly config: ProcessConfig,
    readonly tag: string | undefined,
    readonly isPty: boolean,
  ) {
    io.listen({ data: (kind, chunk) => this.emit(kind, chunk), finish: (end) => this.finish(end) });
  }

  /** Starts the command with `start` (the launcher or Node's spawn). */
  static async start(start: Promise<CommandIo>, config: ProcessConfig, tag: string | undefined, isPty: boolean): Promise<ManagedProcess> {
    return new ManagedProcess(await start, config, tag, isPty);
  }

  get pid(): number {
    return this.io.pid;
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
    if (this.endEvent) return;
    this.io.closeInput();
  }

  resize(cols: number, rows: number): void {
    if (!this.isPty) throw new ConnectError('failed_precondition', 'this process has no PTY to resize');
    if (this.endEvent || !this.io.resize(cols, rows)) throw new ConnectError('failed_precondition', 'the terminal is closed');
  }

  private async writeInput(data: Buffer, closedMessage: string): Promise<void> {
    if (this.endEvent || !this.io.inputOpen) throw new ConnectError('failed_precondition', closedMessage);
    // Resolves once the bytes are handed on, so a client that outpaces the command is slowed down.
    try {
      await this.io.writeInput(data);
    } catch (err) {
      throw new ConnectError('internal', `error writing input to process ${this.pid}: ${(err as Error).message}`);
    }
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
    this.io.setPaused(shouldPause);
  }

  private finish(end: EndEvent): void {
    if (this.endEvent) return;
    this.endEvent = end;
    clearTimeout(this.killTimer);
    this.io.release();
    const subscribers = [...this.subscribers];
    this.subscribers.clear();
    this.blocked.clear();
    for (const sub of subscribers) sub.sink.end(end);
    for (const listener of this.endListeners.splice(0)) listener(end);
  }
}
