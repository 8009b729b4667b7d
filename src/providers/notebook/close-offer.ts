// When a notebook closes, the sandbox made for it would run on unnoticed until its timeout: offer
// to kill it (a non-modal notification, Kill / Keep; e2b.notebook.killSandboxOnClose can make it
// always or never). Sandboxes the user picked from the running ones are theirs: never offered.
import * as vscode from 'vscode';
import { InterpreterSessions, StoredSession } from './interpreter-sessions';
import { NotebookClosings, NotebookEnd } from './notebook-closings';

export type KillOnClose = 'ask' | 'always' | 'never';

export class CloseOffer implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** The offers made so far (notebook name and sandbox id), newest last; tests read it. */
  readonly offers: { notebook: string; sandboxId: string; answer?: string }[] = [];
  /** Sessions of closed notebooks, until it is known whether they were saved as a file. */
  private readonly closing = new Map<vscode.NotebookDocument, Promise<StoredSession | undefined>>();

  constructor(
    private readonly sessions: InterpreterSessions,
    closings: NotebookClosings,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      closings.onDidClose((notebook) => this.closing.set(notebook, this.closed(notebook))),
      closings.onDidEnd(
        (end) => void this.ended(end).catch((err) => this.log.warn(`closing ${end.notebook.uri}: ${(err as Error).message}`)),
      ),
    );
  }

  /** At once: an untitled notebook's URI is reused by the next untitled one, which must not inherit its kernels. */
  private async closed(notebook: vscode.NotebookDocument): Promise<StoredSession | undefined> {
    const key = notebook.uri.toString();
    const session = this.sessions.sessionOf(key);
    if (session && notebook.isUntitled) await this.sessions.unassign(key);
    return session;
  }

  private async ended({ notebook, savedAs }: NotebookEnd): Promise<void> {
    const session = await this.closing.get(notebook);
    this.closing.delete(notebook);
    if (!session) return;
    // Saved as a file: the notebook goes on there, with its sandbox and kernels.
    if (savedAs) {
      await this.sessions.adopt(savedAs.uri.toString(), session);
      return;
    }
    if (!session.owned) return;
    const { sandboxId } = session;
    const name = notebook.uri.path.split('/').pop() ?? notebook.uri.toString();
    const setting = vscode.workspace.getConfiguration('e2b').get<KillOnClose>('notebook.killSandboxOnClose', 'ask');
    if (setting === 'never') return;
    const offer: { notebook: string; sandboxId: string; answer?: string } = { notebook: name, sandboxId };
    this.offers.push(offer);
    if (setting === 'ask') {
      const answer = await vscode.window.showInformationMessage(
        `${name} is closed, but its sandbox ${sandboxId} keeps running until its timeout. Kill it?`,
        'Kill',
        'Keep',
      );
      offer.answer = answer ?? 'dismissed';
      if (answer !== 'Kill') return;
    }
    // The kill command also drops the sandbox's handles, editors' folders and assignments.
    await vscode.commands.executeCommand('e2b.killSandbox', sandboxId, { confirm: false });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
