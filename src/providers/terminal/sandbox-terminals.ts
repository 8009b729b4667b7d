// Opens sandbox shells and command terminals, remembers live shells per workspace so they can be
// reattached after a window reload, and offers "E2B Sandbox" in the terminal profile dropdown.
// Shell terminals are transient: VS Code never revives them itself (it cannot: it would start a
// failing or a host process in their place); this extension does, on activation, at startup.
import * as vscode from 'vscode';
import { SandboxConnections } from '../../connection/sandbox-connections';
import { CommandPseudoterminal } from './command-pty';
import { PtySession, SandboxPseudoterminal } from './sandbox-pty';

const SESSIONS_KEY = 'e2b.terminalSessions';

export class SandboxTerminals implements vscode.Disposable {
  private readonly closeListener: vscode.Disposable;

  constructor(
    private readonly connections: SandboxConnections,
    private readonly state: vscode.Memento,
  ) {
    this.closeListener = vscode.window.onDidCloseTerminal((terminal) => {
      const pty = (terminal.creationOptions as vscode.ExtensionTerminalOptions).pty;
      if (!(pty instanceof SandboxPseudoterminal)) return;
      // Closed by its user (or an extension): the shell goes too. Closed by a window reload or
      // VS Code shutting down: it lives on, to be reattached.
      const reason = terminal.exitStatus?.reason;
      if (reason === vscode.TerminalExitReason.User || reason === vscode.TerminalExitReason.Extension) pty.endShell();
    });
  }

  dispose(): void {
    this.closeListener.dispose();
  }

  /** An interactive shell (`bash -i -l` on a PTY). */
  openShell(
    sandboxId: string,
    options: { cwd?: string; envs?: Record<string, string> } = {},
  ): { terminal: vscode.Terminal; pty: SandboxPseudoterminal } {
    const pty = this.shellPty(sandboxId, undefined, options);
    const terminal = vscode.window.createTerminal(this.shellTerminalOptions(sandboxId, pty));
    terminal.show();
    return { terminal, pty };
  }

  private shellTerminalOptions(sandboxId: string, pty: SandboxPseudoterminal): vscode.ExtensionTerminalOptions {
    return { name: `E2B ${sandboxId.slice(0, 8)}`, pty, iconPath: new vscode.ThemeIcon('vm'), isTransient: true };
  }

  shellPty(sandboxId: string, pid?: number, options: { cwd?: string; envs?: Record<string, string> } = {}): SandboxPseudoterminal {
    return new SandboxPseudoterminal(
      () => this.connections.get(sandboxId),
      sandboxId,
      pid,
      {
        started: (s) => this.remember(s),
        ended: (s) => this.forget(s),
      },
      options,
      () => this.connections.status(sandboxId),
    );
  }

  /** A command whose output streams into a terminal, ending with its exit code. */
  runCommand(
    sandboxId: string,
    cmd: string,
    options: { cwd?: string; envs?: Record<string, string> } = {},
  ): { terminal: vscode.Terminal; pty: CommandPseudoterminal } {
    const pty = new CommandPseudoterminal(
      () => this.connections.get(sandboxId),
      { cmd, ...options },
      () => this.connections.status(sandboxId),
    );
    const terminal = vscode.window.createTerminal({
      name: `E2B: ${cmd.slice(0, 40)}`,
      pty,
      iconPath: new vscode.ThemeIcon('play'),
      isTransient: true,
    });
    terminal.show();
    return { terminal, pty };
  }

  /** Streams a running (background) command's further output into a terminal. */
  attach(sandboxId: string, pid: number, label: string): { terminal: vscode.Terminal; pty: CommandPseudoterminal } {
    const pty = new CommandPseudoterminal(
      () => this.connections.get(sandboxId),
      { attachPid: pid },
      () => this.connections.status(sandboxId),
    );
    const terminal = vscode.window.createTerminal({
      name: `E2B: ${label.slice(0, 40)}`,
      pty,
      iconPath: new vscode.ThemeIcon('debug-console'),
      isTransient: true,
    });
    terminal.show();
    return { terminal, pty };
  }

  /**
   * Reopens terminals for shells that were live when the window went away. The sessions stay
   * remembered until each shell ends, so a reload during the reattach loses nothing.
   */
  reattachAll(sessions = this.sessions()): number {
    const terminals = sessions.map((session) =>
      vscode.window.createTerminal(this.shellTerminalOptions(session.sandboxId, this.shellPty(session.sandboxId, session.pid))),
    );
    const shown = terminals.at(-1);
    if (shown) keepShownThroughStartup(shown);
    return sessions.length;
  }

  /** The shells this workspace has open, to reattach after a reload. */
  sessions(): PtySession[] {
    return this.state.get<PtySession[]>(SESSIONS_KEY, []);
  }

  profileProvider(pickSandbox: () => Promise<string | undefined>): vscode.TerminalProfileProvider {
    return {
      provideTerminalProfile: async () => {
        const sandboxId = await pickSandbox();
        if (!sandboxId) return undefined;
        return new vscode.TerminalProfile(this.shellTerminalOptions(sandboxId, this.shellPty(sandboxId)));
      },
    };
  }

  private remember(session: PtySession): void {
    const sessions = this.state
      .get<PtySession[]>(SESSIONS_KEY, [])
      .filter((s) => !(s.sandboxId === session.sandboxId && s.pid === session.pid));
    void this.state.update(SESSIONS_KEY, [...sessions, session]);
  }

  private forget(session: PtySession): void {
    void this.state.update(
      SESSIONS_KEY,
      this.state.get<PtySession[]>(SESSIONS_KEY, []).filter((s) => !(s.sandboxId === session.sandboxId && s.pid === session.pid)),
    );
  }
}

const STARTUP_MS = 15_000;

/**
 * VS Code opens a host shell of its own when it restores a terminal panel that has no terminals
 * it can revive, and shows it: a user would type into the host believing it is the sandbox. For
 * the first seconds after a reload, until someone types, the reattached sandbox shell stays the
 * one shown.
 */
function keepShownThroughStartup(terminal: vscode.Terminal): void {
  terminal.show(true);
  const listener = vscode.window.onDidChangeActiveTerminal((active) => {
    if (!active || active === terminal) return;
    if (active.state.isInteractedWith) {
      listener.dispose();
      return;
    }
    // With the focus: the host shell may have had it, and keystrokes must not go to a hidden one.
    terminal.show(false);
  });
  setTimeout(() => listener.dispose(), STARTUP_MS);
}
