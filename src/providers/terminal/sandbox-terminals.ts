// Opens sandbox shells and command terminals, remembers live shells per workspace so they can be
// reattached after a window reload, and offers "E2B Sandbox" in the terminal profile dropdown.
import * as vscode from 'vscode';
import { SandboxConnections } from '../../connection/sandbox-connections';
import { CommandPseudoterminal } from './command-pty';
import { PtySession, SandboxPseudoterminal } from './sandbox-pty';

const SESSIONS_KEY = 'e2b.terminalSessions';

export class SandboxTerminals {
  constructor(private readonly connections: SandboxConnections, private readonly state: vscode.Memento) {}

  /** An interactive shell (`bash -i -l` on a PTY). */
  openShell(sandboxId: string, options: { cwd?: string; envs?: Record<string, string> } = {}): { terminal: vscode.Terminal; pty: SandboxPseudoterminal } {
    const pty = this.shellPty(sandboxId, undefined, options);
    const terminal = vscode.window.createTerminal({ name: `E2B ${sandboxId.slice(0, 8)}`, pty, iconPath: new vscode.ThemeIcon('vm') });
    terminal.show();
    return { terminal, pty };
  }

  shellPty(sandboxId: string, pid?: number, options: { cwd?: string; envs?: Record<string, string> } = {}): SandboxPseudoterminal {
    return new SandboxPseudoterminal(() => this.connections.get(sandboxId), sandboxId, pid, {
      started: (s) => this.remember(s),
      ended: (s) => this.forget(s),
    }, options, () => this.connections.status(sandboxId));
  }

  /** A command whose output streams into a terminal, ending with its exit code. */
  runCommand(sandboxId: string, cmd: string, options: { cwd?: string; envs?: Record<string, string> } = {}): { terminal: vscode.Terminal; pty: CommandPseudoterminal } {
    const pty = new CommandPseudoterminal(() => this.connections.get(sandboxId), { cmd, ...options }, () => this.connections.status(sandboxId));
    const terminal = vscode.window.createTerminal({ name: `E2B: ${cmd.slice(0, 40)}`, pty, iconPath: new vscode.ThemeIcon('play'), isTransient: true });
    terminal.show();
    return { terminal, pty };
  }

  /** Streams a running (background) command's further output into a terminal. */
  attach(sandboxId: string, pid: number, label: string): { terminal: vscode.Terminal; pty: CommandPseudoterminal } {
    const pty = new CommandPseudoterminal(() => this.connections.get(sandboxId), { attachPid: pid }, () => this.connections.status(sandboxId));
    const terminal = vscode.window.createTerminal({ name: `E2B: ${label.slice(0, 40)}`, pty, iconPath: new vscode.ThemeIcon('debug-console'), isTransient: true });
    terminal.show();
    return { terminal, pty };
  }

  /** Reopens terminals for shells that were live when the window went away. */
  reattachAll(): number {
    const sessions = this.state.get<PtySession[]>(SESSIONS_KEY, []);
    void this.state.update(SESSIONS_KEY, []);
    for (const session of sessions) {
      const pty = this.shellPty(session.sandboxId, session.pid);
      vscode.window.createTerminal({ name: `E2B ${session.sandboxId.slice(0, 8)}`, pty, iconPath: new vscode.ThemeIcon('vm') });
    }
    return sessions.length;
  }

  profileProvider(pickSandbox: () => Promise<string | undefined>): vscode.TerminalProfileProvider {
    return {
      provideTerminalProfile: async () => {
        const sandboxId = await pickSandbox();
        if (!sandboxId) return undefined;
        return new vscode.TerminalProfile({ name: `E2B ${sandboxId.slice(0, 8)}`, pty: this.shellPty(sandboxId), iconPath: new vscode.ThemeIcon('vm') });
      },
    };
  }

  private remember(session: PtySession): void {
    const sessions = this.state.get<PtySession[]>(SESSIONS_KEY, []).filter((s) => !(s.sandboxId === session.sandboxId && s.pid === session.pid));
    void this.state.update(SESSIONS_KEY, [...sessions, session]);
  }

  private forget(session: PtySession): void {
    void this.state.update(SESSIONS_KEY, this.state.get<PtySession[]>(SESSIONS_KEY, []).filter((s) => !(s.sandboxId === session.sandboxId && s.pid === session.pid)));
  }
}
