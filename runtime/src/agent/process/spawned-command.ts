// A command started with Node's spawn: directly, or through the one-shot e2b-ptyexec helper. The
// agent's fallback when the launcher cannot be used (and the only way without the helper).
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { ConnectError } from '../connect/errors';
import { OutputKind, StreamCommandIo } from './command-io';
import { endEventFor } from './exit-status';
import { LaunchPlan } from './launch';

export class SpawnedCommand extends StreamCommandIo {
  private constructor(child: ChildProcess, pid: number, isPty: boolean, viaHelper: boolean) {
    const outputs: [Readable, OutputKind][] = [];
    // A terminal is one stream; the helper's own errors (fd 2) join it.
    if (child.stdout) outputs.push([child.stdout, isPty ? 'pty' : 'stdout']);
    if (child.stderr) outputs.push([child.stderr, isPty ? 'pty' : 'stderr']);
    super(pid, child.stdin ?? undefined, outputs, (child.stdio[3] as Writable | null | undefined) ?? undefined);
    if (viaHelper) {
      // The helper's relay closes our pipes only after the command exited and its output was
      // passed on, so 'close' (exit + all pipes closed) marks the true end.
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => this.finish(endEventFor(code, signal)));
    } else {
      // Without the helper, background jobs may hold the pipes open forever: on exit, take what
      // is already in the pipes and stop.
      child.once('exit', (code, signal) => {
        for (const [stream, kind] of this.outputs) this.drainAfterExit(stream, kind);
        this.finish(endEventFor(code, signal));
      });
    }
  }

  /** Spawns the plan's command; a spawn failure becomes `invalid_argument`. */
  static async start(plan: LaunchPlan): Promise<SpawnedCommand> {
    const { spawn: how, command } = plan;
    const child = spawn(how.file, how.args, how.options);
    if (child.pid === undefined) {
      const [err] = (await once(child, 'error')) as [Error];
      throw new ConnectError('invalid_argument', `error starting process '${command.argv.join(' ')}': ${err.message}`);
    }
    child.on('error', () => {});
    return new SpawnedCommand(child, child.pid, plan.pty, how.viaHelper);
  }

  private drainAfterExit(stream: Readable, kind: OutputKind): void {
    const events = this.events;
    // What Node already buffered (while paused) comes first.
    stream.removeAllListeners('data');
    let chunk: Buffer | null;
    while ((chunk = stream.read() as Buffer | null) !== null) events?.data(kind, chunk);
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
        events?.data(kind, Buffer.from(buf.subarray(0, n)));
      }
    }
    stream.destroy();
  }
}
