// A terminal that shows one command's output as it streams, then its exit code. The command
// keeps running in the sandbox if the terminal is closed (close = detach), so it can be found
// among the sandbox's processes and reattached. A stream that breaks (network, runtime restart)
// is reattached by pid: the command never stopped.
import * as vscode from 'vscode';
import type { CommandHandle, Sandbox } from 'e2b';
import type { SandboxStatus } from '../../connection/sandbox-connections';
import { followStream, reattachThen } from './reattach';

type Callbacks = { onStdout: (t: string) => void; onStderr: (t: string) => void; timeoutMs: number };

export class CommandPseudoterminal implements vscode.Pseudoterminal {
  private readonly writes = new vscode.EventEmitter<string>();
  private readonly closes = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writes.event;
  readonly onDidClose = this.closes.event;
  private handle?: CommandHandle;
  private finished = false;
  private detached = false;
  private readonly exit: Promise<number>;
  private settle!: (code: number) => void;

  constructor(
    private readonly sandbox: () => Promise<Sandbox>,
    private readonly command: { cmd?: string; attachPid?: number; envs?: Record<string, string>; cwd?: string },
    /** Asks the API about the sandbox when the stream breaks: gone means stop, anything else means retry. */
    private readonly status: () => Promise<SandboxStatus> = async () => 'unreachable',
  ) {
    this.exit = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  /** Resolves with the command's exit code (-1 when killed by a signal). */
  get exitCode(): Promise<number> {
    return this.exit;
  }
  get pid(): number | undefined {
    return this.handle?.pid;
  }

  async open(): Promise<void> {
    const write = (text: string) => this.writes.fire(text.replace(/\r?\n/g, '\r\n'));
    let callbacks: Callbacks;
    try {
      const sandbox = await this.sandbox();
      callbacks = { onStdout: write, onStderr: (t: string) => write(`\x1b[31m${t}\x1b[0m`), timeoutMs: 0 };
      if (this.command.attachPid !== undefined) {
        this.handle = await sandbox.commands.connect(this.command.attachPid, callbacks);
        write(`\x1b[2m[attached to pid ${this.command.attachPid}]\x1b[0m\n`);
      } else {
        write(`\x1b[1m$ ${this.command.cmd}\x1b[0m\n`);
        this.handle = await sandbox.commands.run(this.command.cmd!, {
          ...callbacks,
          background: true,
          envs: this.command.envs,
          cwd: this.command.cwd,
        });
      }
    } catch (err) {
      write(`\x1b[31m${(err as Error).message}\x1b[0m\n`);
      this.done(1);
      return;
    }
    this.follow(this.handle, write, callbacks);
  }

  private follow(handle: CommandHandle, write: (text: string) => void, callbacks: Callbacks): void {
    followStream(
      handle,
      {
        exited: (exitCode) => this.done(exitCode),
        broke: (problem) => void this.reconnect(handle.pid, write, callbacks, problem),
      },
      'the command stream ended',
    );
  }

  /** Reattaches to the command (it never stopped) once the connection is back. */
  private async reconnect(pid: number, write: (text: string) => void, callbacks: Callbacks, problem: string): Promise<void> {
    if (this.detached) return;
    write(`\x1b[33m[connection lost (${problem}); reconnecting…]\x1b[0m\n`);
    await reattachThen(
      async () => (await this.sandbox()).commands.connect(pid, { ...callbacks, requestTimeoutMs: 10_000 }),
      this.status,
      () => this.finished || this.detached,
      {
        reattached: (handle) => {
          this.handle = handle;
          write(`\x1b[32m[reconnected to pid ${pid}]\x1b[0m\n`);
          this.follow(handle, write, callbacks);
        },
        sandboxGone: () => {
          write('\x1b[31m[the sandbox is gone (killed or timed out)]\x1b[0m\n');
          this.done(1);
        },
        processEnded: () => {
          write('\x1b[31m[the command ended while the connection was down; its exit code is unknown]\x1b[0m\n');
          this.done(1);
        },
      },
    );
  }

  private done(exitCode: number): void {
    if (this.finished) return;
    this.finished = true;
    this.writes.fire(`\r\n\x1b[2m[exit code ${exitCode}] press any key to close\x1b[0m`);
    this.settle(exitCode);
  }

  handleInput(data: string): void {
    if (this.finished) {
      this.closes.fire();
      return;
    }
    // Typing goes to the command's stdin when it has one; Ctrl-C kills it.
    const pid = this.handle?.pid;
    if (pid === undefined) return;
    if (data === '\x03')
      void this.sandbox()
        .then((s) => s.commands.kill(pid))
        .catch(() => undefined);
  }

  close(): void {
    // Detach only: the command goes on in the sandbox.
    this.detached = true;
    void this.handle?.disconnect().catch(() => undefined);
  }
}
