// One Jupyter kernel process and our connection to it over the Jupyter messaging protocol (v5.3):
// shell and control as DEALER, iopub as SUB, HMAC-SHA256 signed messages. We start the kernel
// ourselves (a connection file with free ports, its own process group), so there is no Jupyter
// server in between.
import { ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKeepingFloats } from './json-floats';
import { releasePorts, reservePorts } from './kernel-ports';
import { ZmqSocket } from './zmtp';
import { sleep } from '../sleep';

const DELIMITER = Buffer.from('<IDS|MSG>');
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 60_000;
/** E2B_INTERPRETER_DEBUG=1 logs every kernel message to stderr. */
const DEBUG = process.env.E2B_INTERPRETER_DEBUG === '1';

export interface KernelSpec {
  /** argv; `{connection_file}` is replaced by the connection file's path. */
  argv: string[];
  env?: Record<string, string>;
  /**
   * 'signal': SIGINT to the kernel's process group; 'message': interrupt_request on control;
   * 'none': the kernel cannot be interrupted (its context restarts it instead).
   */
  interruptMode: 'signal' | 'message' | 'none';
  /**
   * For kernels that publish a cell's output from another task than its status (Deno: console
   * output and the cell's value may come after "idle"): code that prints `marker` the same way.
   * After each cell it runs as a silent execution; the cell is finished when the marker arrives,
   * and what comes before it (whatever parent the kernel gave it) belongs to the cell.
   */
  flushCode?: (marker: string) => string;
  /** Silent code run once the kernel is up (before any cell). */
  setupCode?: string;
}

/** How long without any message to wait for a flush marker before giving up on late output. */
const FLUSH_IDLE_TIMEOUT_MS = 3000;

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

export interface JupyterMessage {
  header: MessageHeader;
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  /** Defined per message type by the protocol. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  content: any;
  channel: 'shell' | 'iopub' | 'control';
}

export type ExecutionEnd = 'done' | 'kernel-died' | 'kernel-stopped';

export interface ExecuteOptions {
  silent?: boolean;
  storeHistory?: boolean;
  onMessage?: (msg: JupyterMessage) => void;
}

export interface RunningExecution {
  msgId: string;
  /** Resolves when the kernel is idle again after the request and its reply has arrived. */
  finished: Promise<ExecutionEnd>;
}

interface PendingRequest {
  onMessage?: (msg: JupyterMessage) => void;
  sawIdle: boolean;
  sawReply: boolean;
  /** A user-visible execution of a kernel with `flushCode`: flushed before it finishes. */
  flush: boolean;
  /** Such an execution's idle + reply arrived: its flush decides when it finishes. */
  onSettled?: () => void;
  /** Finished by its owner, not by idle + reply (a flush waits for its marker). */
  manual?: boolean;
  finish: (end: ExecutionEnd) => void;
}

/**
 * A started kernel. Emits 'exit' (code, signal) when its process ends for whatever reason;
 * `stopping` tells whether we asked for it.
 */
export class Kernel extends EventEmitter {
  readonly session = randomUUID();
  private readonly key = randomBytes(32).toString('hex');
  private child?: ChildProcess;
  private shell?: ZmqSocket;
  private control?: ZmqSocket;
  private iopub?: ZmqSocket;
  private readonly pending = new Map<string, PendingRequest>();
  private dir?: string;
  /** Its connection file's ports, handed out to it until it is gone. */
  private ports: number[] = [];
  private exited = false;
  /** It exited by itself before it answered (start() then fails). */
  exitedWhileStarting = false;
  private ready = false;
  stopping = false;
  info?: Record<string, unknown>;
  /** The end of what the kernel wrote to stderr, for diagnostics. */
  stderr = '';

  /**
   * `kernelId` names the connection file `kernel-<id>.json`, as Jupyter does, so that clients can
   * find (and signal) a context's kernel process by its id, e.g. `pkill -INT -f kernel-<id>`.
   */
  constructor(
    private readonly spec: KernelSpec,
    private readonly cwd: string,
    private readonly kernelId: string,
  ) {
    super();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }
  get alive(): boolean {
    return !!this.child && !this.exited;
  }

  async start(): Promise<void> {
    const ports = await reservePorts(5);
    this.ports = ports;
    this.dir = mkdtempSync(join(tmpdir(), 'e2b-kernel-'));
    const connectionFile = join(this.dir, `kernel-${this.kernelId}.json`);
    const [shellPort, iopubPort, stdinPort, controlPort, hbPort] = ports;
    writeFileSync(
      connectionFile,
      JSON.stringify({
        transport: 'tcp',
        ip: HOST,
        shell_port: shellPort,
        iopub_port: iopubPort,
        stdin_port: stdinPort,
        control_port: controlPort,
        hb_port: hbPort,
        key: this.key,
        signature_scheme: 'hmac-sha256',
        kernel_name: '',
      }),
      { mode: 0o600 },
    );
    const argv = this.spec.argv.map((a) => a.replace('{connection_file}', connectionFile));
    const child = spawn(argv[0], argv.slice(1), {
      cwd: this.cwd,
      env: { ...process.env, ...this.spec.env, JPY_PARENT_PID: String(process.pid) },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    this.child = child;
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
      this.onExit(null, null);
    });
    child.once('exit', (code, signal) => {
      if (!spawnError)
        spawnError = new Error(`the kernel exited (${signal ?? `code ${code}`}) while starting: ${this.stderr.trim().slice(-1500)}`);
      this.onExit(code, signal);
    });
    const spawned = Date.now();
    const deadline = spawned + START_TIMEOUT_MS;
    const abort = () => (this.exited ? (spawnError ?? new Error('the kernel exited')) : undefined);
    try {
      [this.shell, this.control, this.iopub] = await Promise.all([
        ZmqSocket.connect(HOST, shellPort, 'DEALER', deadline, abort),
        ZmqSocket.connect(HOST, controlPort, 'DEALER', deadline, abort),
        ZmqSocket.connect(HOST, iopubPort, 'SUB', deadline, abort),
      ]);
      this.shell.on('message', (frames: Buffer[]) => this.onMessage(frames, 'shell'));
      this.control.on('message', (frames: Buffer[]) => this.onMessage(frames, 'control'));
      this.iopub.on('message', (frames: Buffer[]) => this.onMessage(frames, 'iopub'));
      this.iopub.subscribeAll();
      const connected = Date.now();
      await this.waitForReady(deadline, abort);
      if (this.spec.setupCode) await this.execute(this.spec.setupCode, { silent: true }).finished;
      // A kernel that died during its setup code ends that execution; it did not start.
      const died = abort();
      if (died) throw died;
      this.ready = true;
      if (DEBUG)
        process.stderr.write(
          `kernel ${this.pid} (${argv[0]}): sockets after ${connected - spawned} ms, ready after ${Date.now() - spawned} ms\n`,
        );
    } catch (err) {
      this.kill();
      throw abort() ?? err;
    }
  }

  /**
   * kernel_info_request until both its reply and an iopub message about it arrive: then the
   * subscription is in place and no output will be lost.
   */
  private async waitForReady(deadline: number, abort: () => Error | undefined): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const failure = abort();
      if (failure) throw failure;
      if (Date.now() > deadline) throw new Error('the kernel did not answer kernel_info_request in time');
      let reply: JupyterMessage | undefined;
      const sent = this.request('shell', 'kernel_info_request', {}, (msg) => {
        if (msg.channel === 'shell') reply = msg;
      });
      const end = await Promise.race([sent.finished, sleep(attempt < 3 ? 500 : 2000).then(() => undefined)]);
      if (end === 'done' && reply) {
        this.info = reply.content;
        return;
      }
      this.pending.delete(sent.msgId);
      // Some kernels publish no status for kernel_info: after a reply, do not insist forever.
      if (reply && attempt >= 2) {
        this.info = reply.content;
        return;
      }
    }
  }

  execute(code: string, options: ExecuteOptions = {}): RunningExecution {
    return this.request(
      'shell',
      'execute_request',
      {
        code,
        silent: options.silent ?? false,
        store_history: options.storeHistory ?? !options.silent,
        user_expressions: {},
        allow_stdin: false,
        // Our executions never queue up in the kernel (one at a time per context), so there is
        // nothing to abort after an error; with true, ipykernel may abort the *next* request when it
        // arrives right after an error (as after an interrupt).
        stop_on_error: false,
      },
      options.onMessage,
    );
  }

  /** Interrupts the running cell as Jupyter does for the kernel's interrupt mode; false if it cannot. */
  interrupt(): boolean {
    if (!this.alive) return true;
    switch (this.spec.interruptMode) {
      case 'message':
        this.request('control', 'interrupt_request', {});
        return true;
      case 'signal':
        this.signalGroup('SIGINT');
        return true;
      default:
        return false;
    }
  }

  /** Stops the kernel: shutdown_request, then SIGKILL to its process group if it lingers. */
  async shutdown(graceMs = 300): Promise<void> {
    this.stopping = true;
    if (!this.alive) return this.cleanup();
    const exited = new Promise<void>((resolve) => this.child!.once('exit', () => resolve()));
    this.request('control', 'shutdown_request', { restart: false });
    await Promise.race([exited, sleep(graceMs)]);
    this.kill();
    await Promise.race([exited, sleep(2000)]);
    this.cleanup();
  }

  /** Ends the kernel and everything it started, at once. */
  kill(): void {
    this.stopping = true;
    this.signalGroup('SIGKILL');
    this.cleanup();
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (!pid || this.exited) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
  }

  private cleanup(): void {
    for (const socket of [this.shell, this.control, this.iopub]) socket?.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    releasePorts(this.ports);
    this.ports = [];
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    if (!this.ready && !this.stopping) this.exitedWhileStarting = true;
    // Anything left in the group (a cell's subprocesses) goes with the kernel.
    if (this.child?.pid)
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        /* none left */
      }
    this.cleanup();
    const end: ExecutionEnd = this.stopping ? 'kernel-stopped' : 'kernel-died';
    for (const request of [...this.pending.values()]) request.finish(end);
    this.pending.clear();
    this.emit('exit', code, signal);
  }

  private request(
    channel: 'shell' | 'control',
    msgType: string,
    content: unknown,
    onMessage?: (msg: JupyterMessage) => void,
  ): RunningExecution {
    const msgId = randomUUID();
    let finish!: (end: ExecutionEnd) => void;
    const finished = new Promise<ExecutionEnd>((resolve) => {
      finish = resolve;
    });
    if (!this.alive) {
      finish(this.stopping ? 'kernel-stopped' : 'kernel-died');
      return { msgId, finished };
    }
    const pending: PendingRequest = {
      onMessage,
      sawIdle: false,
      sawReply: false,
      flush: msgType === 'execute_request' && !!this.spec.flushCode && !(content as { silent?: boolean }).silent,
      finish: (end) => {
        this.pending.delete(msgId);
        finish(end);
      },
    };
    this.pending.set(msgId, pending);
    const header: MessageHeader = {
      msg_id: msgId,
      msg_type: msgType,
      session: this.session,
      username: 'e2b',
      date: new Date().toISOString(),
      version: '5.3',
    };
    const parts = [JSON.stringify(header), '{}', '{}', JSON.stringify(content)].map((p) => Buffer.from(p));
    const socket = channel === 'shell' ? this.shell! : this.control!;
    socket.send([DELIMITER, Buffer.from(this.sign(parts)), ...parts]);
    if (pending.flush) this.flushBehind(pending);
    return { msgId, finished };
  }

  /**
   * Sends the kernel's flush code right behind `cell`: the kernel runs requests one after the
   * other, so it runs once the cell is done, without waiting for a round trip to us first. The cell
   * finishes when its idle + reply and the marker have arrived; what comes before the marker
   * belongs to the cell. Without any message for FLUSH_IDLE_TIMEOUT_MS after the cell settled,
   * late output is given up on.
   */
  private flushBehind(cell: PendingRequest): void {
    const marker = `E2B-FLUSH-${randomUUID()}`;
    let markerSeen = false;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const settled = () => cell.sawIdle && cell.sawReply;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.pending.get(flushRequest.msgId)?.finish('done');
      cell.finish('done');
    };
    const progress = () => {
      if (!settled()) return;
      if (markerSeen) return finish();
      clearTimeout(timer);
      timer = setTimeout(finish, FLUSH_IDLE_TIMEOUT_MS);
    };
    cell.onSettled = progress;
    const flushRequest = this.request(
      'shell',
      'execute_request',
      {
        code: this.spec.flushCode!(marker),
        silent: true,
        store_history: false,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: false,
      },
      (msg) => {
        if (done || markerSeen) return;
        const type = msg.header.msg_type;
        const text: unknown = msg.content?.text;
        if (type === 'stream' && typeof text === 'string' && text.includes(marker)) {
          const before = text.slice(0, text.indexOf(marker));
          if (before) cell.onMessage?.({ ...msg, content: { ...msg.content, text: before } });
          markerSeen = true;
        } else if (type === 'stream' || type === 'display_data' || type === 'execute_result' || type === 'error') {
          cell.onMessage?.(msg);
        }
        progress();
      },
    );
    const flushPending = this.pending.get(flushRequest.msgId);
    if (flushPending) flushPending.manual = true;
    void flushRequest.finished.then(finish);
  }

  private sign(parts: Buffer[]): string {
    const hmac = createHmac('sha256', this.key);
    for (const part of parts) hmac.update(part);
    return hmac.digest('hex');
  }

  private onMessage(frames: Buffer[], channel: JupyterMessage['channel']): void {
    const at = frames.findIndex((f) => f.equals(DELIMITER));
    if (at < 0 || frames.length < at + 6) return;
    const [signature, header, parent, metadata, content] = frames.slice(at + 1, at + 6);
    if (signature.toString() !== this.sign([header, parent, metadata, content])) return;
    let msg: JupyterMessage;
    try {
      const parsedHeader = JSON.parse(header.toString()) as MessageHeader;
      const isResult = parsedHeader.msg_type === 'execute_result' || parsedHeader.msg_type === 'display_data';
      msg = {
        header: parsedHeader,
        parent_header: JSON.parse(parent.toString()),
        metadata: JSON.parse(metadata.toString()),
        // Results keep whole floats as floats (1.0), as E2B's clients receive them.
        content: isResult ? parseKeepingFloats(content.toString()) : JSON.parse(content.toString()),
        channel,
      };
    } catch {
      return;
    }
    const parentId = msg.parent_header?.msg_id;
    if (DEBUG)
      process.stderr.write(
        `${new Date().toISOString()} kernel ${this.pid} ${channel} ${msg.header.msg_type} date=${msg.header.date} parent=${parentId} ${JSON.stringify(msg.content).slice(0, 300)}\n`,
      );
    const pending = parentId ? this.pending.get(parentId) : undefined;
    if (!pending) return;
    pending.onMessage?.(msg);
    if (channel === 'iopub') {
      if (msg.header.msg_type === 'status' && msg.content?.execution_state === 'idle') pending.sawIdle = true;
    } else if (msg.header.msg_type.endsWith('_reply')) {
      pending.sawReply = true;
      // Control requests (interrupt, shutdown) have no busy/idle cycle.
      if (channel === 'control') pending.finish('done');
    }
    if (pending.sawIdle && pending.sawReply) {
      if (pending.manual) return;
      if (!pending.flush) return pending.finish('done');
      pending.onSettled?.();
    }
  }
}
