// The "E2B Sandbox" notebook controller: Jupyter notebooks whose cells run in a code-interpreter
// sandbox, one sandbox per notebook and one context per language. Cells queue and run one at a
// time; output streams in as it arrives; interrupt sends the kernel SIGINT (as Jupyter does) and
// restart gives the notebook fresh kernels.
import * as vscode from 'vscode';
import type { Sandbox as InterpreterSandbox, Context } from '@e2b/code-interpreter';
import { isNetworkFailure, UserFacingError } from '../../connection/user-errors';
import { CellOutputWriter } from './cell-outputs';
import { InterpreterSessions, INTERPRETER_TEMPLATE } from './interpreter-sessions';
import { interruptContext } from './interrupt';
import { LivenessLoss, watchLiveness } from '../../connection/liveness';
import { interpreterLanguage, NOTEBOOK_LANGUAGES, resultMimeItems } from './result-mime';

export const CONTROLLER_ID = 'e2b-sandbox';
const INTERRUPT_GRACE_MS = 5000;
/** A health check every 3 s while a cell runs; two failures in a row end the cell. */
const LIVENESS = { intervalMs: 3000, probeTimeoutMs: 4000, failuresAllowed: 1 };

interface Running {
  execution: vscode.NotebookCellExecution;
  sandbox: InterpreterSandbox;
  context: Context;
  stop: () => void;
}

export class SandboxNotebookController implements vscode.Disposable {
  readonly controller: vscode.NotebookController;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly counters = new Map<string, number>();
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly sessions: InterpreterSessions,
    /** Asks which sandbox a notebook should use, or creates one; undefined when cancelled. */
    private readonly chooseSandbox: (notebook: vscode.NotebookDocument) => Promise<string | undefined>,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.controller = vscode.notebooks.createNotebookController(CONTROLLER_ID, 'jupyter-notebook', 'E2B Sandbox');
    this.controller.description = `code interpreter (${INTERPRETER_TEMPLATE})`;
    this.controller.supportedLanguages = NOTEBOOK_LANGUAGES;
    this.controller.supportsExecutionOrder = true;
    this.controller.executeHandler = (cells, notebook) => this.enqueue(cells, notebook);
    this.controller.interruptHandler = (notebook) => this.interrupt(notebook);
  }

  /** Cells are queued per notebook: they show as pending and run one after another. */
  private enqueue(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument): Promise<void> {
    const key = notebook.uri.toString();
    const executions = cells.map((cell) => this.controller.createNotebookCellExecution(cell));
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      for (const execution of executions) {
        if (execution.token.isCancellationRequested) {
          execution.start(Date.now());
          execution.end(undefined);
          continue;
        }
        await this.runCell(execution, notebook);
      }
    });
    this.queues.set(key, next.catch(() => undefined));
    return next;
  }

  private async runCell(execution: vscode.NotebookCellExecution, notebook: vscode.NotebookDocument): Promise<void> {
    const key = notebook.uri.toString();
    const order = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, order);
    execution.executionOrder = order;
    execution.start(Date.now());
    const writer = new CellOutputWriter(execution);
    writer.clear();
    const cell = execution.cell;
    const language = interpreterLanguage(cell.document.languageId);
    if (!language) {
      writer.error('UnsupportedLanguage', `${cell.document.languageId} cells cannot run in an E2B sandbox: use Python, JavaScript, TypeScript, Bash or R.`);
      await writer.flushed();
      execution.end(false, Date.now());
      return;
    }
    let ok = false;
    let finished = false;
    let used: InterpreterSandbox | undefined;
    // Output that arrives after the cell was given up on (interrupt, lost connection) is dropped:
    // the execution has ended and cannot take it.
    let live = true;
    let stopWatching = () => undefined as void;
    try {
      if (!this.sessions.sandboxIdOf(key)) {
        const chosen = await this.chooseSandbox(notebook);
        if (!chosen) throw new UserFacingError('No sandbox chosen for this notebook.');
      }
      const { sandbox, context } = await this.sessions.context(key, language, notebookCwd(notebook));
      used = sandbox;
      const envs = vscode.workspace.getConfiguration('e2b', notebook.uri).get<Record<string, string>>('notebook.envVars', {});
      const done = new Promise<void>((resolve) => {
        this.running.set(key, { execution, sandbox, context, stop: resolve });
      });
      const run = sandbox.runCode(cell.document.getText(), {
        context,
        envs,
        timeoutMs: 0,
        onStdout: (m) => { if (live) writer.stream('stdout', m.line); },
        onStderr: (m) => { if (live) writer.stream('stderr', m.line); },
        onResult: (r) => { if (live) writer.rich(resultMimeItems(r as never)); },
        onError: (e) => { if (live) writer.error(e.name, e.value, e.traceback); },
      });
      void run.catch(() => undefined);
      // A network that drops silently would leave the stream hanging: ask the sandbox meanwhile.
      const lost = new Promise<LivenessLoss>((resolve) => {
        stopWatching = watchLiveness((timeoutMs) => sandbox.isRunning({ requestTimeoutMs: timeoutMs }), resolve, LIVENESS);
      });
      // The cell finishes, or an interrupt that did not take gives up on it, or the sandbox stops answering.
      const result = await Promise.race([run, done.then(() => undefined), lost]);
      // Either way the sandbox is not forgotten here: if it is really gone, the next cell finds out.
      if (result === 'unreachable') throw Object.assign(new Error(`no answer from the sandbox for ${LIVENESS.intervalMs * (LIVENESS.failuresAllowed + 1) / 1000} s or more`), { name: 'ConnectionLost' });
      if (result === 'gone') throw Object.assign(new Error('the sandbox stopped answering its health checks; it may have been killed or timed out'), { name: 'ConnectionLost' });
      ok = !!result && !result.error;
      finished = true;
    } catch (err) {
      await this.reportFailure(writer, key, err, used);
    } finally {
      live = false;
      stopWatching();
      this.running.delete(key);
      await writer.flushed();
      execution.end(finished ? ok : false, Date.now());
    }
  }

  private async reportFailure(writer: CellOutputWriter, key: string, err: unknown, sandbox: InterpreterSandbox | undefined): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const name = (err as { name?: string }).name ?? 'Error';
    this.log.warn(`cell failed in ${key}: ${name}: ${message}`);
    // The network dropped (the SDK reports a dropped stream as a network error, or as a timeout
    // when it cannot tell): the sandbox and its kernel are most likely still there, so keep them.
    if (name === 'ConnectionLost' || isNetworkFailure(err) || (name === 'TimeoutError' && sandbox && (await sandbox.isRunning().catch(() => true)))) {
      writer.error('ConnectionLost', `The connection to the sandbox was lost while this cell ran (${message}), so its output may be incomplete; the code may have gone on running in the kernel. Run the next cell once the connection is back: the sandbox and its variables are kept.`);
      return;
    }
    // A sandbox that timed out or was killed is a state, not a bug: say what happens next.
    if (/sandbox.*(not found|timeout|gone|was killed)|no longer exists|502/i.test(message) || name === 'TimeoutError' || name === 'SandboxNotFoundError') {
      const sandboxId = this.sessions.sandboxIdOf(key);
      if (sandboxId) this.sessions.forgetSandbox(sandboxId);
      void this.sessions.unassign(key);
      writer.error('SandboxGone', `The sandbox ${sandboxId ?? ''} of this notebook is gone (killed or timed out). Run the cell again to start a new sandbox; earlier variables are lost.`);
      return;
    }
    writer.error(name, message);
  }

  /** Sends SIGINT to the cell's kernel; if the cell still runs after a grace period, gives up on it. */
  private async interrupt(notebook: vscode.NotebookDocument): Promise<void> {
    const key = notebook.uri.toString();
    const running = this.running.get(key);
    if (!running) return;
    try {
      await interruptContext(running.sandbox, running.context.id);
    } catch (err) {
      this.log.warn(`interrupt: ${(err as Error).message}`);
    }
    setTimeout(() => {
      if (this.running.get(key) !== running) return;
      running.stop();
      void vscode.window.showWarningMessage('The cell did not stop after the interrupt. Restart the kernel to get a responsive notebook again.', 'Restart Kernel')
        .then((choice) => choice && vscode.commands.executeCommand('e2b.notebook.restartKernel', notebook.uri));
    }, INTERRUPT_GRACE_MS);
  }

  /** New kernels for the notebook; numbering starts again at 1. */
  async restart(notebook: vscode.NotebookDocument): Promise<number> {
    const key = notebook.uri.toString();
    this.running.get(key)?.stop();
    this.counters.delete(key);
    try {
      return await this.sessions.restart(key);
    } catch (err) {
      // Right after the network comes back, a pooled connection that died with it fails once;
      // the retry gets a fresh one.
      if (!isNetworkFailure(err)) throw err;
      return this.sessions.restart(key);
    }
  }

  dispose(): void {
    this.controller.dispose();
  }
}

function notebookCwd(notebook: vscode.NotebookDocument): string | undefined {
  // A notebook stored in a sandbox (e2b:) works in its own folder there.
  if (notebook.uri.scheme === 'e2b') return notebook.uri.path.replace(/\/[^/]*$/, '') || '/';
  return undefined;
}
