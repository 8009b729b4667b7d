// When the user is done with a notebook. VS Code keeps a saved notebook's document open for a
// while after its last tab closes (onDidCloseNotebookDocument comes late, or not at all), so the
// last tab closing counts as closing it too; whichever comes first is reported, once, until the
// notebook is opened or shown again.
import * as vscode from 'vscode';

export class NotebookClosings implements vscode.Disposable {
  private readonly closed = new vscode.EventEmitter<vscode.NotebookDocument>();
  readonly onDidClose = this.closed.event;
  private readonly reported = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [this.closed];

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidCloseNotebookDocument((notebook) => this.report(notebook)),
      vscode.workspace.onDidOpenNotebookDocument((notebook) => this.reported.delete(notebook.uri.toString())),
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
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function notebookUriOf(tab: vscode.Tab): string | undefined {
  return tab.input instanceof vscode.TabInputNotebook ? tab.input.uri.toString() : undefined;
}

function isShown(uri: string): boolean {
  return vscode.window.tabGroups.all.some((group) => group.tabs.some((tab) => notebookUriOf(tab) === uri));
}
