// A VS Code terminal attached to a PTY in a sandbox: `bash -i -l` with input, resize, colours and
// the shell's exit code. timeoutMs 0 keeps it open past the SDK's 60 s default; a streaming
// decoder keeps multi-byte characters split across chunks intact. Reattaches by pid after a
// window reload when the shell still runs.
import * as vscode from 'vscode';
import type { CommandHandle, Sandbox } from 'e2b';

export interface PtySession { sandboxId: string; pid: number }

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

  constructor(
    private readonly sandbox: () => Promise<Sandbox>,
    readonly sandboxId: string,
    /** Reattach to this shell instead of starting a new one. */
    private readonly existingPid: number | undefined,
    private readonly sessions: { started(session: PtySession): void; ended(session: PtySession): void },
    private readonly options: { cwd?: string; envs?: Record<string, string> } = {},
  ) {}

  get pid(): number | undefined { return this.handle?.pid; }

  async open(initial: vscode.TerminalDimensions | undefined): Promise<void> {
    this.dimensions = initial ?? this.dimensions;
    const onData = (data: Uint8Array) => this.writes.fire(this.decoder.decode(data, { stream: true }));
    try {
      const sandbox = await this.sandbox();
      if (this.existingPid !== undefined) {
        this.handle = await sandbox.pty.connect(this.existingPid, { onData, timeoutMs: 0 });
        this.writes.fire(`\x1b[2m[reattached to the shell (pid ${this.existingPid}) in sandbox ${this.sandboxId}]\x1b[0m\r\n`);
        if (this.dimensions) await sandbox.pty.resize(this.handle.pid, { cols: this.dimensions.columns, rows: this.dimensions.rows });
      } else {
        this.handle = await sandbox.pty.create({
          cols: this.dimensions?.columns ?? 80,
          rows: this.dimensions?.rows ?? 24,
          onData,
          timeoutMs: 0,
          cwd: this.options.cwd,
          envs: this.options.envs,
        });
      }
    } catch (err) {
      this.writes.fire(`\x1b[31mCannot open a terminal in sandbox ${this.sandboxId}: ${(err as Error).message}\x1b[0m\r\n`);
      this.closes.fire(1);
      return;
    }
    const session = { sandboxId: this.sandboxId, pid: this.handle.pid };
    this.sessions.started(session);
    this.handle.wait().then(
      (result) => this.finish(session, result.exitCode),
      (err: { exitCode?: number; message?: string }) => this.finish(session, err?.exitCode, err?.exitCode === undefined ? err?.message : undefined),
    );
  }

  private finish(session: PtySession, exitCode: number | undefined, problem?: string): void {
    this.sessions.ended(session);
    if (this.closedByUser) return;
    const tail = this.decoder.decode();
    if (tail) this.writes.fire(tail);
    if (problem) this.writes.fire(`\r\n\x1b[31m[connection to the sandbox lost: ${problem}]\x1b[0m\r\n`);
    this.closes.fire(exitCode ?? 1);
  }

  handleInput(data: string): void {
    const pid = this.handle?.pid;
    if (pid === undefined) return;
    // One input call at a time, so keystrokes arrive in order.
    this.input = this.input.then(async () => (await this.sandbox()).pty.sendInput(pid, this.encoder.encode(data))).catch(() => undefined);
  }

  setDimensions(dimensions: vscode.TerminalDimensions): void {
    this.dimensions = dimensions;
    const pid = this.handle?.pid;
    if (pid === undefined) return;
    void this.sandbox().then((s) => s.pty.resize(pid, { cols: dimensions.columns, rows: dimensions.rows })).catch(() => undefined);
  }

  close(): void {
    this.closedByUser = true;
    const pid = this.handle?.pid;
    if (pid !== undefined) void this.sandbox().then((s) => s.pty.kill(pid)).catch(() => undefined);
  }
}
