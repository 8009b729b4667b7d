// When the user is done with a notebook. VS Code keeps a saved notebook's document open for a
// while after its last tab closes (onDidCloseNotebookDocument comes late, or not at all), so the
// last tab closing counts as closing it too; whichever comes first is reported, once, until the
// notebook is opened or shown again. An untitled notebook saved as a file closes too, but lives on
// as the file: that is told apart (a file notebook with the same cells opens around then), so its
// sandbox can follow it instead of being offered for killing.
import * as vscode from 'vscode';
import { nextEvent } from '../../util/next-event';

/** How long after an untitled notebook closes its saved file may still open. */
const SAVE_AS_WINDOW_MS = 2000;

export interface NotebookEnd {
  notebook: vscode.NotebookDocument;
  savedAs?: vscode.NotebookDocument;
}

export class NotebookClosings implements vscode.Disposable {
  private readonly closed = new vscode.EventEmitter<vscode.NotebookDocument>();
  /** At once, when the notebook closes (its queue can stop). */
  readonly onDidClose = this.closed.event;
  private readonly ended = new vscode.EventEmitter<NotebookEnd>();
  /** After telling a "save as" from a close: `savedAs` is the file an untitled notebook became. */
  readonly onDidEnd = this.ended.event;
  private readonly reported = new Set<string>();
  private readonly recentlyOpened: { notebook: vscode.NotebookDocument; at: number }[] = [];
  private readonly disposables: vscode.Disposable[] = [this.closed, this.ended];

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidCloseNotebookDocument((notebook) => this.report(notebook)),
      vscode.workspace.onDidOpenNotebookDocument((notebook) => {
        this.reported.delete(notebook.uri.toString());
        if (notebook.isUntitled) return;
        this.recentlyOpened.push({ notebook, at: Date.now() });
        if (this.recentlyOpened.length > 10) this.recentlyOpened.shift();
      }),
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        for (const tab of e.opened) {
          const uri = notebookUriOf(tab);
          if (uri) this.reported.delete(uri);
        }
        for (const tab of e.closed) {
          const uri = notebookUriOf(tab);
          // A tab moved to another group is still open.
          if (!uri || isShown(uri)) continue;
          const notebook = vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === uri);
          if (notebook) this.report(notebook);
        }
      }),
    );
  }

  private report(notebook: vscode.NotebookDocument): void {
    const key = notebook.uri.toString();
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.closed.fire(notebook);
    if (!notebook.isUntitled) {
      this.ended.fire({ notebook });
      return;
    }
    void this.savedAs(cellTexts(notebook)).then((savedAs) => this.ended.fire({ notebook, savedAs }));
  }

  /** The file notebook with these cells that opened just before, or opens just after. */
  private savedAs(cells: string[]): Promise<vscode.NotebookDocument | undefined> {
    const matches = (n: vscode.NotebookDocument) => !n.isUntitled && !n.isClosed && sameTexts(cellTexts(n), cells);
    const recent = this.recentlyOpened.find((r) => Date.now() - r.at < SAVE_AS_WINDOW_MS * 2 && matches(r.notebook));
    if (recent) return Promise.resolve(recent.notebook);
    return nextEvent(vscode.workspace.onDidOpenNotebookDocument, matches, SAVE_AS_WINDOW_MS);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function cellTexts(notebook: vscode.NotebookDocument): string[] {
  return notebook.getCells().map((c) => c.document.getText());
}

function sameTexts(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((text, i) => text === b[i]);
}

function notebookUriOf(tab: vscode.Tab): string | undefined {
  return tab.input instanceof vscode.TabInputNotebook ? tab.input.uri.toString() : undefined;
}

function isShown(uri: string): boolean {
  return vscode.window.tabGroups.all.some((group) => group.tabs.some((tab) => notebookUriOf(tab) === uri));
}
