// When a notebook closes, the sandbox made for it would run on unnoticed until its timeout: offer
// to kill it (a non-modal notification, Kill / Keep; e2b.notebook.killSandboxOnClose can make it
// always or never). Sandboxes the user picked from the running ones are theirs: never offered.
import * as vscode from 'vscode';
import { InterpreterSessions } from './interpreter-sessions';
import { NotebookClosings, NotebookEnd } from './notebook-closings';

export type KillOnClose = 'ask' | 'always' | 'never';

export class CloseOffer implements vscode.Disposable {
  private readonly disposable: vscode.Disposable;
  /** The offers made so far (notebook name and sandbox id), newest last; tests read it. */
  readonly offers: { notebook: string; sandboxId: string; answer?: string }[] = [];

  constructor(private readonly sessions: InterpreterSessions, closings: NotebookClosings, private readonly log: vscode.LogOutputChannel) {
    this.disposable = closings.onDidEnd((end) => void this.ended(end).catch((err) => this.log.warn(`closing ${end.notebook.uri}: ${(err as Error).message}`)));
  }

  private async ended({ notebook, savedAs }: NotebookEnd): Promise<void> {
    const key = notebook.uri.toString();
    const sandboxId = this.sessions.sandboxIdOf(key);
    if (!sandboxId) return;
    // Saved as a file: the notebook goes on there, with its sandbox and kernels.
    if (savedAs) {
      await this.sessions.move(key, savedAs.uri.toString());
      return;
    }
    const owned = this.sessions.owns(key);
    // The next untitled notebook gets the same URI: it must not inherit this one's kernels.
    if (notebook.isUntitled) await this.sessions.unassign(key);
    if (!owned) return;
    const name = notebook.uri.path.split('/').pop() ?? key;
    const setting = vscode.workspace.getConfiguration('e2b').get<KillOnClose>('notebook.killSandboxOnClose', 'ask');
    if (setting === 'never') return;
    const offer: { notebook: string; sandboxId: string; answer?: string } = { notebook: name, sandboxId };
    this.offers.push(offer);
    if (setting === 'ask') {
      const answer = await vscode.window.showInformationMessage(
        `${name} is closed, but its sandbox ${sandboxId} keeps running until its timeout. Kill it?`,
        'Kill', 'Keep',
      );
      offer.answer = answer ?? 'dismissed';
      if (answer !== 'Kill') return;
    }
    // The kill command also drops the sandbox's handles, editors' folders and assignments.
    await vscode.commands.executeCommand('e2b.killSandbox', sandboxId, { confirm: false });
  }

  dispose(): void {
    this.disposable.dispose();
  }
}
