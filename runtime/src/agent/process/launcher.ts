// The agent's side of `e2b-ptyexec --launcher` (native/launcher.c): one small native process,
// started once, that forks the agent's commands so the agent never forks itself per command.
// It forks supervisors ahead of need ("spares"), whose sockets come over the Node IPC channel as
// net.Sockets; a command is then one write to a spare that already waits, and the launcher makes
// the next spare meanwhile. If the launcher dies, spares and running commands go on (they are not
// its children), and the next spare comes from a new launcher. The first launcher is init's
// (native/init.c), on the agent's own IPC channel: the agent forks itself for none.
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ConnectError } from '../connect/errors';
import { log } from '../log';
import { OutputKind, StreamCommandIo } from './command-io';
import { EndEvent, endEventFor } from './exit-status';
import { CommandSpec } from './launch';

type SocketName = 'io' | 'err' | 'ctl';

/** How long a taken spare goes unreplaced while its command runs on (a server, a terminal). */
const REPLACE_SPARE_AFTER_MS = 10;

type Spare = Map<SocketName, Socket>;

interface SpareWaiter {
  resolve(spare: Spare): void;
  reject(err: Error): void;
}

interface LauncherMessage {
  spare?: number;
  fd?: SocketName;
  error?: string;
}

/** The end reported when the supervisor vanished without saying how the command ended. */
const UNKNOWN_END: EndEvent = {
  exitCode: -1,
  exited: false,
  status: 'unknown: the process supervisor ended without an exit status',
  error: 'unknown: the process supervisor ended without an exit status',
};

function commandLine(command: CommandSpec): string {
  return command.argv.join(' ');
}

/** The request a spare reads: 8 hex digits of length, then NUL-ended fields (see native/launcher.c). */
export function encodeRequest(command: CommandSpec): Buffer {
  const env = Object.entries(command.env).map(([key, value]) => `${key}=${value}`);
  const fields = [
    command.pty ? 'pty' : 'pipes',
    command.stdin ? '1' : '0',
    String(command.pty?.cols ?? 0),
    String(command.pty?.rows ?? 0),
    command.identity ? '1' : '0',
    String(command.identity?.uid ?? 0),
    String(command.identity?.gid ?? 0),
    (command.identity?.groups ?? []).join(','),
    command.cwd,
    String(command.argv.length),
    ...command.argv,
    String(env.length),
    ...env,
  ];
  if (fields.some((field) => field.includes('\0'))) {
    throw new ConnectError(
      'internal',
      `error starting process '${commandLine(command)}': arguments and environment must be strings without null bytes`,
    );
  }
  const body = Buffer.from(`${fields.join('\0')}\0`);
  return Buffer.concat([Buffer.from(body.length.toString(16).padStart(8, '0')), body]);
}

/** A command the launcher started: its sockets, and its status from the "ctl" socket. */
export class LaunchedCommand extends StreamCommandIo {
  private status: EndEvent | undefined;

  /** `afterFinish` runs once the end was passed on. */
  constructor(pid: number, command: CommandSpec, sockets: Map<SocketName, Socket>, ctlLines: Readable, afterFinish: () => void) {
    const io = sockets.get('io')!;
    const err = sockets.get('err');
    const ctl = sockets.get('ctl')!;
    const outputs: [Readable, OutputKind][] = command.pty
      ? [[io, 'pty']]
      : [
          [io, 'stdout'],
          [err!, 'stderr'],
        ];
    const input = command.pty || command.stdin ? io : undefined;
    super(pid, input, outputs, command.pty ? ctl : undefined);
    ctlLines.on('data', (line: string) => {
      const [word, value] = line.split(' ');
      if (word === 'exit') this.status = endEventFor(Number(value), null);
      else if (word === 'signal') this.status = endEventFor(null, Number(value));
    });
    // The supervisor exits only after the command exited and its output was passed on: once
    // every socket reached its end, the end is known and complete. Not waiting for the sockets
    // to close sends the end before their teardown (a dozen syscalls).
    let left = sockets.size;
    const socketDone = () => {
      if (--left > 0) return;
      this.finish(this.status ?? UNKNOWN_END);
      afterFinish();
    };
    for (const socket of sockets.values()) whenDone(socket, socketDone);
  }
}

/** Calls `done` once: when the socket's input ended, or it closed (an error, or already). */
function whenDone(socket: Socket, done: () => void): void {
  if (socket.readableEnded || socket.closed) return done();
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    done();
  };
  socket.once('end', once);
  socket.once('close', once);
}

/** Splits a socket's text into lines, emitted as 'data' strings. */
function lineReader(socket: Socket): Readable {
  const lines = new Readable({ objectMode: true, read() {} });
  let partial = '';
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop()!;
    for (const line of parts) lines.push(line);
  });
  return lines;
}

/** The channel to a running launcher. */
interface LauncherLink {
  /** Who the launcher is, for the log. */
  readonly name: string;
  send(message: object): void;
}

export class CommandLauncher {
  private link: LauncherLink | undefined;
  private inheritedTried = false;
  private nextSpareId = 1;
  /** Spares asked for whose sockets are still arriving, by id. */
  private readonly arriving = new Map<number, Spare>();
  /** Spares whose supervisors wait for a command, each with its listener for the supervisor's end. */
  private readonly ready: { spare: Spare; onGone: () => void }[] = [];
  /** Starts that wait for a spare, oldest first. */
  private readonly waiting: SpareWaiter[] = [];

  constructor(private readonly helperPath: string) {}

  /** Starts the launcher if it is not running, with a spare on its way; false if it cannot be started. */
  ensureRunning(): boolean {
    if (this.link) return true;
    const link = this.adoptInherited() ?? this.spawnLauncher();
    if (!link) return false;
    this.link = link;
    this.topUp();
    return true;
  }

  /** The launcher init started beside the agent (native/init.c: the agent's own IPC channel), once. */
  private adoptInherited(): LauncherLink | undefined {
    if (this.inheritedTried) return undefined;
    this.inheritedTried = true;
    if (!process.send || !process.connected) return undefined;
    const link: LauncherLink = { name: 'started by init', send: (message) => process.send!(message) };
    process.on('message', (msg: LauncherMessage, handle?: Socket) => this.onMessage(msg, handle));
    process.once('disconnect', () => this.ended(link, 'its channel closed'));
    return link;
  }

  private spawnLauncher(): LauncherLink | undefined {
    const child = spawn(this.helperPath, ['--launcher'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    if (child.pid === undefined) {
      child.on('error', (err) => log(`process launcher could not start: ${err.message}`));
      return undefined;
    }
    const link: LauncherLink = { name: String(child.pid), send: (message) => child.send(message) };
    child.on('error', (err) => log(`process launcher: ${err.message}`));
    child.stderr?.on('data', (chunk: Buffer) => log(`process launcher: ${chunk.toString().trim()}`));
    child.on('message', (msg: LauncherMessage, handle?: Socket) => this.onMessage(msg, handle));
    child.once('exit', (code, signal) => this.ended(link, String(signal ?? code)));
    return link;
  }

  /** The launcher is gone: spares on their way are lost (ready ones go on: they are not its children). */
  private ended(link: LauncherLink, how: string): void {
    if (this.link === link) this.link = undefined;
    log(`process launcher ${link.name} ended (${how}); the next command starts a new one`);
    for (const spare of this.arriving.values()) for (const socket of spare.values()) socket.destroy();
    this.arriving.clear();
    for (const waiter of this.waiting.splice(0)) waiter.reject(new ConnectError('unavailable', 'the process launcher ended'));
  }

  /** Starts the command on a spare; resolves once it runs (its pid is known). */
  start(command: CommandSpec): Promise<LaunchedCommand> {
    const request = encodeRequest(command);
    return this.takeSpare().then(
      (spare) => run(spare, command, request, () => this.topUp()),
      (err: Error) => {
        throw new ConnectError('unavailable', `error starting process '${commandLine(command)}': ${err.message}`);
      },
    );
  }

  /**
   * A ready spare, or the next one to arrive. The one taken is replaced once its command ended
   * (or REPLACE_SPARE_AFTER_MS passed): made while the command runs, the new spare's fork and
   * sockets would compete with the command and its start event for the CPU.
   */
  private takeSpare(): Promise<Spare> {
    const first = this.ready.shift();
    if (first) {
      first.spare.get('ctl')!.off('close', first.onGone);
      setTimeout(() => this.topUp(), REPLACE_SPARE_AFTER_MS).unref();
      return Promise.resolve(first.spare);
    }
    const taken = new Promise<Spare>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.topUp();
    return taken;
  }

  /** Asks for spares until there is one more than the starts waiting need. */
  private topUp(): void {
    while (this.link && this.ready.length + this.arriving.size < this.waiting.length + 1) {
      const id = this.nextSpareId++;
      this.arriving.set(id, new Map());
      this.link.send({ spare: id });
    }
  }

  private onMessage(msg: LauncherMessage, handle: Socket | undefined): void {
    const spare = msg.spare !== undefined ? this.arriving.get(msg.spare) : undefined;
    if (!spare) {
      handle?.destroy();
      return;
    }
    if (msg.error !== undefined) {
      this.arriving.delete(msg.spare!);
      log(`process launcher: ${msg.error}`);
      this.waiting.shift()?.reject(new Error(msg.error));
      return;
    }
    if (!handle || !msg.fd) return;
    handle.on('error', () => {});
    spare.set(msg.fd, handle);
    // "ctl" comes last: the spare is complete.
    if (msg.fd !== 'ctl') return;
    this.arriving.delete(msg.spare!);
    const waiter = this.waiting.shift();
    if (waiter) return waiter.resolve(spare);
    // A spare's supervisor that ends while it waits (killed from inside the sandbox) is dropped.
    const onGone = () => {
      const index = this.ready.findIndex((entry) => entry.spare === spare);
      if (index >= 0) this.ready.splice(index, 1);
      for (const socket of spare.values()) socket.destroy();
      this.topUp();
    };
    handle.once('close', onGone);
    this.ready.push({ spare, onGone });
  }
}

/** Hands the request to the spare's supervisor; resolves once it says the command's pid. */
function run(spare: Spare, command: CommandSpec, request: Buffer, onFinish: () => void): Promise<LaunchedCommand> {
  const ctl = spare.get('ctl')!;
  if (command.pty) {
    spare.get('err')!.destroy();
    spare.delete('err');
  }
  const fail = (why: string) => {
    for (const socket of spare.values()) socket.destroy();
    return new ConnectError('invalid_argument', `error starting process '${commandLine(command)}': ${why}`);
  };
  return new Promise((resolve, reject) => {
    const ctlLines = lineReader(ctl);
    let answered = false;
    ctlLines.once('data', (line: string) => {
      answered = true;
      const [word, ...rest] = line.split(' ');
      if (word === 'pid') resolve(new LaunchedCommand(Number(rest[0]), command, spare, ctlLines, onFinish));
      else reject(fail(word === 'error' ? rest.join(' ') : line));
    });
    ctl.once('close', () => {
      ctlLines.push(null);
      if (!answered) reject(fail('the process supervisor ended before the command started'));
    });
    ctl.write(request);
  });
}
