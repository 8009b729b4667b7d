// Running code: selections and files from any editor, and the notebook's sandbox and kernels.
import * as vscode from 'vscode';
import { InterpreterSessions, INTERPRETER_TEMPLATE } from '../providers/notebook/interpreter-sessions';
import { SandboxNotebookController } from '../providers/notebook/sandbox-controller';
import { CodeRunner } from '../providers/run/run-in-sandbox';
import { registerCommand, Services } from './services';

export function registerCodeCommands(services: Services, runner: CodeRunner, notebooks: SandboxNotebookController, sessions: InterpreterSessions): void {
  registerCommand(services, 'e2b.runSelection', async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) throw new Error('Open an editor to run its selection in a sandbox.');
    const selections = editor.selections.filter((s) => !s.isEmpty);
    // Nothing selected: the current line, as the Python extension does.
    const code = selections.length > 0
      ? selections.map((s) => editor.document.getText(s)).join('\n')
      : editor.document.lineAt(editor.selection.active.line).text;
    return runner.run(code, editor.document.languageId, `Selection of ${editor.document.fileName.split('/').pop()}`);
  });

  registerCommand(services, 'e2b.runFile', async (uri?: vscode.Uri) => {
    const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!document) throw new Error('Open a file to run it in a sandbox.');
    return runner.run(document.getText(), document.languageId, document.fileName.split('/').pop() ?? 'file');
  });

  registerCommand(services, 'e2b.notebook.selectSandbox', async (notebookArg?: vscode.Uri, sandboxIdArg?: string) => {
    const notebook = notebookArg ? vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === notebookArg.toString()) : vscode.window.activeNotebookEditor?.notebook;
    if (!notebook) throw new Error('Open a notebook first.');
    const sandboxId = sandboxIdArg ?? await pickInterpreterSandbox(services, sessions, notebook.uri.toString());
    if (sandboxId && sandboxIdArg) await sessions.assign(notebook.uri.toString(), sandboxId);
    return sandboxId;
  });

  registerCommand(services, 'e2b.notebook.restartKernel', async (notebookArg?: vscode.Uri) => {
    const uri = notebookArg ?? vscode.window.activeNotebookEditor?.notebook.uri;
    const notebook = vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === uri?.toString());
    if (!notebook) throw new Error('Open a notebook first.');
    const restarted = await notebooks.restart(notebook);
    vscode.window.setStatusBarMessage(`$(debug-restart) Restarted ${restarted} kernel(s)`, 4000);
    return restarted;
  });
}

/** Quick pick: a new code-interpreter sandbox, or one that runs already. Assigns the choice. */
export async function pickInterpreterSandbox(services: Services, sessions: InterpreterSessions, key: string): Promise<string | undefined> {
  if (services.tree.items.length === 0) await services.tree.refresh();
  const existing = services.tree.items.filter((s) => s.state === 'running' && s.templateId === INTERPRETER_TEMPLATE);
  const picked = await vscode.window.showQuickPick(
    [
      { label: '$(add) New code-interpreter sandbox', description: INTERPRETER_TEMPLATE, sandboxId: undefined as string | undefined },
      ...existing.map((s) => ({ label: `$(vm-running) ${s.sandboxId}`, description: Object.entries(s.metadata).map(([k, v]) => `${k}=${v}`).join(', '), sandboxId: s.sandboxId as string | undefined })),
    ],
    { title: 'Sandbox for this notebook', placeHolder: 'Cells run in this sandbox; its kernels keep state between cells' },
  );
  if (!picked) return undefined;
  if (picked.sandboxId) {
    await sessions.assign(key, picked.sandboxId);
    return picked.sandboxId;
  }
  const envs = vscode.workspace.getConfiguration('e2b').get<Record<string, string>>('create.envVars', {});
  const id = await sessions.createFor(key, envs);
  services.refresher.refreshSoon();
  return id;
}
