// Running code: selections and files from any editor, and the notebook's sandbox and kernels.
// The command index (command-index.ts) maps their ids to these handlers.
import * as vscode from 'vscode';
import { InterpreterSessions } from '../providers/notebook/interpreter-sessions';
import { SandboxNotebookController } from '../providers/notebook/sandbox-controller';
import { CodeRunner } from '../providers/run/run-in-sandbox';
import { Services } from './services';

export async function runSelection(runner: CodeRunner) {
  const editor = vscode.window.activeTextEditor;
  if (!editor) throw new Error('Open an editor to run its selection in a sandbox.');
  const selections = editor.selections.filter((s) => !s.isEmpty);
  // Nothing selected: the current line, as the Python extension does.
  const code =
    selections.length > 0
      ? selections.map((s) => editor.document.getText(s)).join('\n')
      : editor.document.lineAt(editor.selection.active.line).text;
  return runner.run(code, editor.document.languageId, `Selection of ${editor.document.fileName.split('/').pop()}`);
}

export async function runFile(runner: CodeRunner, uri?: vscode.Uri) {
  const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
  if (!document) throw new Error('Open a file to run it in a sandbox.');
  return runner.run(document.getText(), document.languageId, document.fileName.split('/').pop() ?? 'file');
}

export async function selectNotebookSandbox(
  services: Services,
  notebooks: SandboxNotebookController,
  sessions: InterpreterSessions,
  notebookArg?: vscode.Uri,
  sandboxIdArg?: string,
) {
  const notebook = notebookArg
    ? vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === notebookArg.toString())
    : vscode.window.activeNotebookEditor?.notebook;
  if (!notebook) throw new Error('Open a notebook first.');
  if (sandboxIdArg) {
    await sessions.assign(notebook.uri.toString(), sandboxIdArg);
    return sandboxIdArg;
  }
  const sandboxId = await notebooks.chooseSandbox(notebook);
  services.refresher.refreshSoon();
  return sandboxId;
}

export async function restartNotebookKernel(notebooks: SandboxNotebookController, notebookArg?: vscode.Uri) {
  const uri = notebookArg ?? vscode.window.activeNotebookEditor?.notebook.uri;
  const notebook = vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === uri?.toString());
  if (!notebook) throw new Error('Open a notebook first.');
  const restarted = await notebooks.restart(notebook);
  vscode.window.setStatusBarMessage(`$(debug-restart) Restarted ${restarted} kernel(s)`, 4000);
  return restarted;
}
