// The "E2B Results" panel: rich results of "Run selection/file in sandbox" (charts, tables,
// markdown, JSON). A webview with a strict content security policy: no scripts at all, images
// only from data: URIs, inline styles only — results are shown, never executed.
import * as vscode from 'vscode';
import { renderReport, RunReport } from './results-html';

export class ResultsPanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  /** The last HTML shown (for tests and for re-rendering). */
  lastHtml = '';

  show(report: RunReport): void {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(
        'e2b.results',
        'E2B Results',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        {
          enableScripts: false,
          localResourceRoots: [],
        },
      );
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      });
    }
    this.lastHtml = renderReport(report, this.panel.webview.cspSource);
    this.panel.webview.html = this.lastHtml;
    this.panel.reveal(undefined, true);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
