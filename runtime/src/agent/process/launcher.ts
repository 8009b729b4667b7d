// The agent's side of `e2b-ptyexec --launcher` (native/launcher.c): one small native process,
// started once, that forks the agent's commands so the agent never forks itself per command.
// Requests go over a Node IPC channel; the command's sockets come back over it as net.Sockets.
// If the launcher dies, the next command starts a new one; commands already running are not
// its children and go on.
import { ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ConnectError } from '../connect/errors';
import { log } from '../log';
import { OutputKind, StreamCommandIo } from './command-io';
import { EndEvent, endEventFor } from './exit-status';
import { CommandSpec } from './launch';

type SocketName = 'io' | 'err' | 'ctl';

interface PendingStart {
  command: CommandSpec;
  sockets: Map<SocketName, Socket>;
  resolve(command: LaunchedCommand): void;
  reject(err: Error): void;
}

interface LauncherMessage {
  id?: number;
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

/** The request fields, NUL-ended, as native/launcher.c reads them. */
export function encodeRequest(id: number, command: CommandSpec): string {
  const env = Object.entries(command.env).map(([key, value]) => `${key}=${value}`);
  const fields = [
    String(id),
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
  return Buffer.from(`${fields.join('\0')}\0`).toString('hex');
}

/** A command the launcher started: its sockets, and its status from the "ctl" socket. */
export class LaunchedCommand extends StreamCommandIo {
  private status: EndEvent | undefined;

  constructor(pid: number, command: CommandSpec, sockets: Map<SocketName, Socket>, ctlLines: Readable) {
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
    // every socket closed, the end is known and complete.
    const open = [...sockets.values()].filter((socket) => !socket.closed);
    let left = open.length;
    const closed = () => {
      if (--left <= 0) this.finish(this.status ?? UNKNOWN_END);
    };
    for (const socket of open) socket.once('close', closed);
    if (left === 0) closed();
  }
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

export class CommandLauncher {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, PendingStart>();

  constructor(private readonly helperPath: string) {}

  /** Starts the launcher if it is not running; false if it cannot be started. */
  ensureRunning(): boolean {
    if (this.child) return true;
    const child = spawn(this.helperPath, ['--launcher'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    if (child.pid === undefined) {
      child.on('error', (err) => log(`process launcher could not start: ${err.message}`));
      return false;
    }
    this.child = child;
    child.on('error', (err) => log(`process launcher: ${err.message}`));
    child.stderr?.on('data', (chunk: Buffer) => log(`process launcher: ${chunk.toString().trim()}`));
    child.on('message', (msg: LauncherMessage, handle?: Socket) => this.onMessage(msg, handle));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      log(`process launcher ${child.pid} ended (${signal ?? code}); the next command starts a new one`);
      for (const [id, start] of this.pending) {
        this.pending.delete(id);
        for (const socket of start.sockets.values()) socket.destroy();
        start.reject(new ConnectError('unavailable', `error starting process '${commandLine(start.command)}': the process launcher ended`));
      }
    });
    return true;
  }

  /** Starts the command; resolves once it runs (its pid is known). */
  start(command: CommandSpec): Promise<LaunchedCommand> {
    const id = this.nextId++;
    const request = encodeRequest(id, command);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { command, sockets: new Map(), resolve, reject });
      this.child!.send({ s: request });
    });
  }

  private onMessage(msg: LauncherMessage, handle: Socket | undefined): void {
    const start = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
    if (!start) {
      handle?.destroy();
      return;
    }
    if (msg.error !== undefined) {
      this.pending.delete(msg.id!);
      start.reject(new ConnectError('invalid_argument', `error starting process '${commandLine(start.command)}': ${msg.error}`));
      return;
    }
    if (!handle || !msg.fd) return;
    start.sockets.set(msg.fd, handle);
    if (msg.fd !== 'ctl') return;
    // "ctl" comes last: the supervisor says "pid N" once the command exists, or why it could not.
    this.pending.delete(msg.id!);
    const ctlLines = lineReader(handle);
    ctlLines.once('data', (line: string) => {
      const [word, ...rest] = line.split(' ');
      if (word === 'pid') {
        start.resolve(new LaunchedCommand(Number(rest[0]), start.command, start.sockets, ctlLines));
      } else {
        for (const socket of start.sockets.values()) socket.destroy();
        start.reject(
          new ConnectError(
            'invalid_argument',
            `error starting process '${commandLine(start.command)}': ${word === 'error' ? rest.join(' ') : line}`,
          ),
        );
      }
    });
    handle.once('close', () => ctlLines.push(null));
  }
}
