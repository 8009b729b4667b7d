// What a ManagedProcess needs from a started command, however it was started (Node's spawn, or
// the launcher): its pid, its output as events, flow control, input, resize, and its end.
import { Readable, Writable } from 'node:stream';
import { EndEvent } from './exit-status';

export type OutputKind = 'stdout' | 'stderr' | 'pty';

export interface CommandEvents {
  data(kind: OutputKind, chunk: Buffer): void;
  /** Once: the command exited and all of its output went to data(). */
  finish(end: EndEvent): void;
}

export interface CommandIo {
  readonly pid: number;
  /** Starts delivering events; called once, in the tick the command was started. */
  listen(events: CommandEvents): void;
  setPaused(paused: boolean): void;
  /** stdin (or terminal input) exists and was not closed. */
  readonly inputOpen: boolean;
  /** Resolves once the bytes were handed on; rejects with the write's error. */
  writeInput(data: Buffer): Promise<void>;
  closeInput(): void;
  /** Sends a terminal size; false when there is no terminal control channel (any more). */
  resize(cols: number, rows: number): boolean;
  /** Drops input and control once the command ended. */
  release(): void;
}

/** A command whose input, outputs and terminal control are Node streams. */
export abstract class StreamCommandIo implements CommandIo {
  protected events: CommandEvents | undefined;
  private pendingEnd: EndEvent | undefined;
  private inputUsable: boolean;

  protected constructor(
    readonly pid: number,
    private readonly input: Writable | undefined,
    protected readonly outputs: [Readable, OutputKind][],
    private readonly control: Writable | undefined,
  ) {
    this.inputUsable = !!input;
    input?.on('error', () => {
      this.inputUsable = false;
    });
    control?.on('error', () => {});
    for (const [stream] of outputs) stream.on('error', () => {});
  }

  listen(events: CommandEvents): void {
    this.events = events;
    for (const [stream, kind] of this.outputs) stream.on('data', (chunk: Buffer) => events.data(kind, chunk));
    const end = this.pendingEnd;
    // Later than the caller's own set-up in this tick (its streams attach first).
    if (end) process.nextTick(() => events.finish(end));
  }

  setPaused(paused: boolean): void {
    for (const [stream] of this.outputs) {
      if (paused) stream.pause();
      else stream.resume();
    }
  }

  get inputOpen(): boolean {
    const input = this.input;
    return !!input && this.inputUsable && !input.destroyed && !input.writableEnded;
  }

  writeInput(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.input!.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  closeInput(): void {
    if (!this.inputUsable || !this.input) return;
    this.inputUsable = false;
    this.input.end();
  }

  resize(cols: number, rows: number): boolean {
    if (!this.control || this.control.destroyed) return false;
    this.control.write(`${cols} ${rows}\n`);
    return true;
  }

  release(): void {
    this.inputUsable = false;
    this.input?.destroy();
    this.control?.destroy();
  }

  /** Subclasses call this once the command's end is known and its output is complete. */
  protected finish(end: EndEvent): void {
    if (this.events) this.events.finish(end);
    else this.pendingEnd = end;
  }
}
