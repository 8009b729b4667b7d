// A VS Code terminal attached to a PTY in a sandbox: `bash -i -l` with input, resize, colours and
// the shell's exit code. timeoutMs 0 keeps it open past the SDK's 60 s default; a streaming
// decoder keeps multi-byte characters split across chunks intact. Reattaches by pid after a
// window reload when the shell still runs, and after the connection drops (network, runtime
// restart): the shell lives on in the sandbox, so losing the stream is not the end of it.
import * as vscode from 'vscode';
import type { CommandHandle, Sandbox } from 'e2b';
import { watchLiveness } from '../../connection/liveness';
import type { SandboxStatus } from '../../connection/sandbox-connections';
import { followStream, reattach, reattachThen } from './reattach';

export interface PtySession {
  sandboxId: string;
  pid: number;
}

/** An idle shell's stream is silent: a health check every 5 s notices a network that went quiet. */
const LIVENESS = { intervalMs: 5000, probeTimeoutMs: 4000, failuresAllowed: 1 };
const RECONNECT_TIMEOUT_MS = 10_000;

/** connecting → connected ⇄ reconnecting → closed. */
export type PtyConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export class SandboxPseudoterminal implements vscode.Pseudoterminal {
  private readonly writes = new vscode.EventEmitter<string>();
  private readonly closes = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writes.event;
  readonly onDidClose = this.closes.event;
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();
  private handle?: CommandHandle;
  private input: Promise<unknown> = Promise.resolve();
  private closedByUser = false;
  private dimensions?: vscode.TerminalDimensions;
  private state: PtyConnectionState = 'connecting';
  /** Which stream is current: callbacks of a stream given up on are ignored. */
  private generation = 0;
  private stopWatching = () => undefined as void;
  private readonly stateChanges = new vscode.EventEmitter<PtyConnectionState>();
  readonly onDidChangeConnectionState = this.stateChanges.event;
  private readonly names = new vscode.EventEmitter<string>();
  readonly onDidChangeName = this.names.event;
  /** The shell's pid once attached (undefined if it never was): keystrokes typed before wait for it. */
  private readonly attached: Promise<number | undefined>;
  private settleAttached!: (pid: number | undefined) => void;

  constructor(
    private readonly sandbox: () => Promise<Sandbox>,
    readonly sandboxId: string,
    /** Reattach to this shell instead of starting a new one. */
    private readonly existingPid: number | undefined,
    private readonly sessions: { started(session: PtySession): void; ended(session: PtySession): void },
    private readonly options: { cwd?: string; envs?: Record<string, string> } = {},
    /** Asks the API about the sandbox when the stream breaks: gone means stop, anything else means retry. */
    private readonly status: () => Promise<SandboxStatus> = async () => 'unreachable',
  ) {
    this.attached = new Promise((resolve) => {
      this.settleAttached = resolve;
    });
  }

  get pid(): number | undefined {
    return this.handle?.pid;
  }
  get connectionState(): PtyConnectionState {
    return this.state;
  }

  private setState(state: PtyConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.stateChanges.fire(state);
  }

  private readonly onData = (data: Uint8Array) => this.writes.fire(this.decoder.decode(data, { stream: true }));

  async open(initial: vscode.TerminalDimensions | undefined): Promise<void> {
    this.dimensions = initial ?? this.dimensions;
    if (this.existingPid !== undefined) return this.reattachAfterReload(this.existingPid);
    try {
      const sandbox = await this.sandbox();
      this.handle = await sandbox.pty.create({
        cols: this.dimensions?.columns ?? 80,
        rows: this.dimensions?.rows ?? 24,
        onData: this.onData,
        timeoutMs: 0,
        cwd: this.options.cwd,
        envs: this.options.envs,
      });
    } catch (err) {
      this.writes.fire(`\x1b[31mCannot open a terminal in sandbox ${this.sandboxId}: ${(err as Error).message}\x1b[0m\r\n`);
      this.settleAttached(undefined);
      this.setState('closed');
      this.closes.fire(1);
      return;
    }
    const session = { sandboxId: this.sandboxId, pid: this.handle.pid };
    this.sessions.started(session);
    this.settleAttached(this.handle.pid);
    this.follow(session, this.handle);
  }

  /**
   * The window reloaded while this shell ran: attach to it again (the agent sends what it wrote
   * meanwhile), retrying while the runtime comes back. If the sandbox or the shell is gone, the
   * terminal stays open and says so, so nobody mistakes another shell for this one.
   */
  private async reattachAfterReload(pid: number): Promise<void> {
    const session = { sandboxId: this.sandboxId, pid };
    this.writes.fire(`\x1b[2m[reattaching to the shell (pid ${pid}) in sandbox ${this.sandboxId}…]\x1b[0m\r\n`);
    const attach = () => this.connectTo(pid);
    let outcome: Awaited<ReturnType<typeof reattach<CommandHandle>>>;
    try {
      outcome = { handle: await attach() };
    } catch {
      outcome = await reattach(attach, this.status, () => this.closedByUser);
    }
    if (!('handle' in outcome)) {
      this.settleAttached(undefined);
      if (outcome.ended !== 'closed')
        this.markUnreachable(
          outcome.ended === 'sandbox gone'
            ? `sandbox ${this.sandboxId} is gone (killed or timed out)`
            : `the shell (pid ${pid}) ended while this window was away`,
        );
      return;
    }
    this.handle = outcome.handle;
    this.writes.fire(`\x1b[2m[reattached to the shell (pid ${pid}) in sandbox ${this.sandboxId}]\x1b[0m\r\n`);
    this.settleAttached(pid);
    this.sessions.started(session);
    if (this.dimensions) await this.resizeTo(pid, this.dimensions);
    this.follow(session, outcome.handle);
  }

  /** Attaches a new stream to a shell that runs on in the sandbox. */
  private async connectTo(pid: number): Promise<CommandHandle> {
    return (await this.sandbox()).pty.connect(pid, { onData: this.onData, timeoutMs: 0, requestTimeoutMs: RECONNECT_TIMEOUT_MS });
  }

  /** A failed resize changes nothing the user typed: it is not worth an error. */
  private async resizeTo(pid: number, dimensions: vscode.TerminalDimensions): Promise<void> {
    await this.sandbox()
      .then((s) => s.pty.resize(pid, { cols: dimensions.columns, rows: dimensions.rows }))
      .catch(() => undefined);
  }

  /**
   * Keeps the terminal open, named and worded so it cannot pass for a live shell. It stays
   * remembered, so a reload brings it back saying the same, until its user closes it.
   */
  private markUnreachable(problem: string): void {
    this.stopWatching();
    this.setState('closed');
    this.names.fire(`E2B ${this.sandboxId.slice(0, 8)} (gone)`);
    this.writes.fire(
      `\r\n\x1b[31m[${problem}: this terminal no longer reaches a shell. Close it; open a new one from the E2B view.]\x1b[0m\r\n`,
    );
  }

  /** Waits for the shell's end on this stream; a stream that breaks without an exit code is a lost connection. */
  private follow(session: PtySession, handle: CommandHandle): void {
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.closedByUser;
    this.setState('connected');
    this.stopWatching();
    this.stopWatching = watchLiveness(
      async (timeoutMs) => (await this.sandbox()).isRunning({ requestTimeoutMs: timeoutMs }),
      () => {
        if (!current()) return;
        // The network went quiet: give up on this stream (it may never end by itself) and reattach.
        this.generation++;
        void handle.disconnect().catch(() => undefined);
        void this.reconnect(session, 'the sandbox stopped answering');
      },
      LIVENESS,
    );
    followStream(
      handle,
      {
        exited: (exitCode) => this.finish(session, exitCode),
        broke: (problem) => void this.reconnect(session, problem),
      },
      'the stream ended',
      current,
    );
  }

  /** Says the connection was lost, then reattaches to the same shell once it is back. */
  private async reconnect(session: PtySession, problem: string): Promise<void> {
    this.stopWatching();
    if (this.closedByUser) return;
    this.setState('reconnecting');
    this.writes.fire(`\r\n\x1b[33m[connection to sandbox ${this.sandboxId} lost (${problem}); reconnecting…]\x1b[0m\r\n`);
    await reattachThen(
      () => this.connectTo(session.pid),
      this.status,
      () => this.closedByUser,
      {
        reattached: async (handle) => {
          this.handle = handle;
          this.writes.fire(`\x1b[32m[reconnected to the shell (pid ${session.pid})]\x1b[0m\r\n`);
          if (this.dimensions) await this.resizeTo(session.pid, this.dimensions);
          this.follow(session, handle);
        },
        sandboxGone: () => this.markUnreachable(`sandbox ${this.sandboxId} is gone (killed or timed out)`),
        processEnded: () => this.markUnreachable('the shell ended while the connection was down'),
      },
    );
  }

  private finish(session: PtySession, exitCode: number | undefined, problem?: string): void {
    this.stopWatching();
    this.sessions.ended(session);
    this.setState('closed');
    if (this.closedByUser) return;
    const tail = this.decoder.decode();
    if (tail) this.writes.fire(tail);
    if (problem) this.writes.fire(`\r\n\x1b[31m[${problem}]\x1b[0m\r\n`);
    this.closes.fire(exitCode ?? 1);
  }

  handleInput(data: string): void {
    // One input call at a time, so keystrokes arrive in order; those typed while the terminal
    // still attaches wait for it instead of being dropped.
    this.input = this.input
      .then(async () => {
        const pid = this.handle?.pid ?? (await this.attached);
        if (pid === undefined || this.state === 'closed') return;
        await (await this.sandbox()).pty.sendInput(pid, this.encoder.encode(data));
      })
      .catch(() => undefined);
  }

  setDimensions(dimensions: vscode.TerminalDimensions): void {
    this.dimensions = dimensions;
    const pid = this.handle?.pid;
    if (pid === undefined) return;
    void this.resizeTo(pid, dimensions);
  }

  /**
   * VS Code closes the terminal, for any reason, a window reload included: stop streaming, but
   * leave the shell running. Whether it ends is `endShell`'s business, decided by why it closed.
   */
  close(): void {
    this.closedByUser = true;
    this.settleAttached(undefined);
    this.stopWatching();
    this.setState('closed');
  }

  /** The user closed the terminal: the shell ends with it and is not reattached again. */
  endShell(): void {
    const pid = this.handle?.pid ?? this.existingPid;
    if (pid === undefined) return;
    this.sessions.ended({ sandboxId: this.sandboxId, pid });
    void this.sandbox()
      .then((s) => s.pty.kill(pid))
      .catch(() => undefined);
  }
}
