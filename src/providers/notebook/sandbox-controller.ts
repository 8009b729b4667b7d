// The "E2B Sandbox" notebook controller: Jupyter notebooks whose cells run in a code-interpreter
// sandbox, one sandbox per notebook and one context per language. Selecting the kernel is where
// the notebook's sandbox is chosen (or made), as the Jupyter extension picks a kernel. Cells
// queue per notebook and run one at a time; output streams in as it arrives; the cell's number is
// the kernel's own execution count (so tracebacks and labels agree, per notebook, from 1 after a
// restart); interrupt sends the kernel SIGINT (as Jupyter does) and restart gives fresh kernels.
import * as vscode from 'vscode';
import type { Sandbox as InterpreterSandbox, Context } from '@e2b/code-interpreter';
import { SandboxConnections } from '../../connection/sandbox-connections';
import { isNetworkFailure } from '../../connection/user-errors';
import { CellOutputWriter } from './cell-outputs';
import { CellOutcome, CellQueue, endUnexecuted } from './cell-queue';
import { InterpreterSessions, INTERPRETER_TEMPLATE } from './interpreter-sessions';
import { interruptContext } from './interrupt';
import { LivenessLoss, watchLiveness } from '../../connection/liveness';
import { interpreterLanguage, NOTEBOOK_LANGUAGES, resultMimeItems } from './result-mime';
import { NotebookClosings } from './notebook-closings';
import { PickerTarget, SandboxPicker } from './sandbox-picker';
import { E2B_SCHEME } from '../files/sandbox-uri';

export const CONTROLLER_ID = 'e2b-sandbox';
const INTERRUPT_GRACE_MS = 5000;
/** A health check every 3 s while a cell runs; two failures in a row end the cell. */
const LIVENESS = { intervalMs: 3000, probeTimeoutMs: 4000, failuresAllowed: 1 };
export const NO_SANDBOX_MESSAGE =
  'No sandbox was chosen for this notebook, so its cells did not run. Run a cell again and pick a sandbox (or "New code-interpreter sandbox"), or use "Sandbox…" in the notebook toolbar.';

interface Running {
  execution: vscode.NotebookCellExecution;
  sandbox: InterpreterSandbox;
  context: Context;
  stop: () => void;
}

export class SandboxNotebookController implements vscode.Disposable {
  readonly controller: vscode.NotebookController;
  private readonly queues = new Map<string, CellQueue>();
  private readonly running = new Map<string, Running>();
  private readonly choosing = new Map<string, Promise<string | undefined>>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly sessions: InterpreterSessions,
    private readonly connections: SandboxConnections,
    private readonly picker: SandboxPicker,
    closings: NotebookClosings,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.controller = vscode.notebooks.createNotebookController(CONTROLLER_ID, 'jupyter-notebook', 'E2B Sandbox');
    this.controller.description = `code interpreter (${INTERPRETER_TEMPLATE})`;
    this.controller.detail = 'Choose a sandbox for the notebook (or make one) when you select this kernel';
    this.controller.supportedLanguages = NOTEBOOK_LANGUAGES;
    this.controller.supportsExecutionOrder = true;
    this.controller.executeHandler = (cells, notebook) => this.enqueue(cells, notebook);
    this.controller.interruptHandler = (notebook) => this.interrupt(notebook);
    this.disposables.push(
      this.controller,
      this.controller.onDidChangeSelectedNotebooks(({ notebook, selected }) => {
        if (selected) void this.kernelSelected(notebook);
      }),
      closings.onDidClose((notebook) => this.stopQueue(notebook)),
    );
  }

  /**
   * The notebook's sandbox: asks (one picker per notebook at a time: a cell run while it is open
   * waits for the same answer). Undefined when the user dismissed it.
   */
  chooseSandbox(notebook: vscode.NotebookDocument): Promise<string | undefined> {
    const key = notebook.uri.toString();
    let choosing = this.choosing.get(key);
    if (!choosing) {
      choosing = this.picker.pick(pickerTarget(notebook)).finally(() => this.choosing.delete(key));
      this.choosing.set(key, choosing);
    }
    return choosing;
  }

  /** True while the sandbox picker is open for the notebook. */
  isChoosing(notebook: vscode.NotebookDocument): boolean {
    return this.choosing.has(notebook.uri.toString());
  }

  /** How many cells wait in the notebook's queue (not counting the running one). */
  queued(notebook: vscode.NotebookDocument): number {
    return this.queues.get(notebook.uri.toString())?.size ?? 0;
  }

  /** Selecting the kernel chooses the sandbox: the notebook's own one while it lives, else the picker. */
  private async kernelSelected(notebook: vscode.NotebookDocument): Promise<void> {
    const key = notebook.uri.toString();
    try {
      const assigned = this.sessions.sandboxIdOf(key);
      if (assigned) {
        if ((await this.connections.status(assigned)) !== 'gone') return;
        await this.sessions.unassign(key);
      }
      await this.chooseSandbox(notebook);
    } catch (err) {
      this.log.warn(`choosing a sandbox for ${key}: ${(err as Error).message}`);
      void vscode.window.showErrorMessage(`No sandbox for the notebook: ${(err as Error).message}`);
    }
  }

  /** Cells are queued per notebook: they show as pending and run one after another. */
  private enqueue(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument): Promise<void> {
    const key = notebook.uri.toString();
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new CellQueue(
        (execution) => this.runCell(execution, notebook),
        () => vscode.workspace.getConfiguration('e2b', notebook.uri).get<boolean>('notebook.stopOnError', true),
      );
      this.queues.set(key, queue);
    }
    return queue.add(cells.map((cell) => this.controller.createNotebookCellExecution(cell)));
  }

  private async runCell(execution: vscode.NotebookCellExecution, notebook: vscode.NotebookDocument): Promise<CellOutcome> {
    const key = notebook.uri.toString();
    const cell = execution.cell;
    const code = cell.document.getText();
    // An empty cell runs nothing and gets no number, as in Jupyter.
    if (!code.trim()) {
      endUnexecuted(execution);
      return 'skipped';
    }
    execution.start(Date.now());
    const writer = new CellOutputWriter(execution);
    writer.clear();
    const language = interpreterLanguage(cell.document.languageId);
    if (!language) {
      writer.error(
        'UnsupportedLanguage',
        `${cell.document.languageId} cells cannot run in an E2B sandbox: use Python, JavaScript, TypeScript, Bash, R or Java.`,
      );
      writer.finish();
      // end() sends the outputs still batched before it: no wait for the window here.
      execution.end(false, Date.now());
      return 'failed';
    }
    let ok = false;
    let finished = false;
    let outcome: CellOutcome = 'failed';
    let sandboxId = this.sessions.sandboxIdOf(key);
    // Output that arrives after the cell was given up on (interrupt, lost connection) is dropped:
    // the execution has ended and cannot take it.
    let live = true;
    let stopWatching = () => undefined as void;
    try {
      if (!sandboxId) {
        sandboxId = await this.chooseSandbox(notebook);
        if (!sandboxId) {
          // Nobody chose: the cells queued behind this one end now, instead of each asking again.
          writer.error('NoSandbox', NO_SANDBOX_MESSAGE);
          return (outcome = 'abort');
        }
      }
      const cwd = notebookCwd(notebook);
      // The kernel seen alive before is taken as it is (no round trip to check it per cell).
      const first = await this.sessions.context(key, language, cwd, true);
      const sandbox = first.sandbox;
      const envs = vscode.workspace.getConfiguration('e2b', notebook.uri).get<Record<string, string>>('notebook.envVars', {});
      let stop = () => undefined as void;
      const done = new Promise<void>((resolve) => {
        stop = resolve;
      });
      const runIn = (target: InterpreterSandbox, context: Context) => {
        this.running.set(key, { execution, sandbox: target, context, stop });
        return target.runCode(code, {
          context,
          envs,
          timeoutMs: 0,
          onStdout: (m) => {
            if (live) writer.stream('stdout', m.line);
          },
          onStderr: (m) => {
            if (live) writer.stream('stderr', m.line);
          },
          onResult: (r) => {
            if (live) writer.rich(resultMimeItems(r as never));
          },
          onError: (e) => {
            if (live) writer.error(e.name, e.value, e.traceback);
          },
        });
      };
      // ...and if it is gone after all, the answer says so before anything ran: check again (a
      // new kernel if need be, as when it is found gone up front) and run there.
      const run = runIn(sandbox, first.context).catch(async (err) => {
        if (first.checked || !isContextGone(err, first.context.id)) throw err;
        this.sessions.contextGone(sandbox, first.context.id);
        const again = await this.sessions.context(key, language, cwd);
        return runIn(again.sandbox, again.context);
      });
      void run.catch(() => undefined);
      // A network that drops silently would leave the stream hanging: ask the sandbox meanwhile.
      const lost = new Promise<LivenessLoss>((resolve) => {
        stopWatching = watchLiveness((timeoutMs) => sandbox.isRunning({ requestTimeoutMs: timeoutMs }), resolve, LIVENESS);
      });
      // The cell finishes, or an interrupt that did not take gives up on it, or the sandbox stops answering.
      const result = await Promise.race([run, done.then(() => undefined), lost]);
      // Either way the sandbox is not forgotten here: if it is really gone, the next cell finds out.
      if (result === 'unreachable')
        throw Object.assign(
          new Error(`no answer from the sandbox for ${(LIVENESS.intervalMs * (LIVENESS.failuresAllowed + 1)) / 1000} s or more`),
          { name: 'ConnectionLost' },
        );
      if (result === 'gone')
        throw Object.assign(new Error('the sandbox stopped answering its health checks; it may have been killed or timed out'), {
          name: 'ConnectionLost',
        });
      // The kernel's own count: what its tracebacks say ("Cell In[3]"), per context, 1 after a restart.
      if (result?.executionCount !== undefined) execution.executionOrder = result.executionCount;
      ok = !!result && !result.error;
      outcome = ok ? 'ok' : 'failed';
      finished = true;
    } catch (err) {
      await this.reportFailure(writer, key, err, sandboxId);
    } finally {
      live = false;
      stopWatching();
      this.running.delete(key);
      writer.finish();
      try {
        // Outputs still batched go out before the end: no wait for the window first.
        execution.end(finished ? ok : false, Date.now());
      } catch {
        // The notebook was closed while the cell ran.
      }
    }
    return outcome;
  }

  private async reportFailure(writer: CellOutputWriter, key: string, err: unknown, sandboxId: string | undefined): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const name = (err as { name?: string }).name ?? 'Error';
    this.log.warn(`cell failed in ${key}: ${name}: ${message}`);
    const verdict = name === 'ConnectionLost' ? 'connection' : sandboxId ? await this.connections.judge(sandboxId, err) : 'other';
    switch (verdict) {
      case 'connection':
        // The network dropped or was slow, and the sandbox is still there: keep it and its kernels.
        writer.error(
          'ConnectionLost',
          `The connection to the sandbox was lost while this cell ran (${message}), so its output may be incomplete; the code may have gone on running in the kernel. Run the next cell once the connection is back: the sandbox and its variables are kept.`,
        );
        return;
      case 'gone':
        // A sandbox that timed out or was killed is a state, not a bug: say what happens next.
        await this.sessions.forgetSandbox(sandboxId!);
        writer.error(
          'SandboxGone',
          `The sandbox ${sandboxId} of this notebook is gone (killed or timed out). Run the cell again to choose or start a new sandbox; earlier variables are lost.`,
        );
        return;
      case 'paused':
        writer.error(
          'SandboxPaused',
          `The sandbox ${sandboxId} of this notebook is paused: resume it from the Sandbox Explorer, then run the cell again (its variables are kept).`,
        );
        return;
      default:
        writer.error(name, message);
    }
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
      void vscode.window
        .showWarningMessage(
          'The cell did not stop after the interrupt. Restart the kernel to get a responsive notebook again.',
          'Restart Kernel',
        )
        .then((choice) => choice && vscode.commands.executeCommand('e2b.notebook.restartKernel', notebook.uri));
    }, INTERRUPT_GRACE_MS);
  }

  /** A closed notebook: its queued cells never run, and the running one is interrupted. */
  private stopQueue(notebook: vscode.NotebookDocument): void {
    const key = notebook.uri.toString();
    this.queues.get(key)?.close();
    this.queues.delete(key);
    const running = this.running.get(key);
    if (!running) return;
    void interruptContext(running.sandbox, running.context.id).catch((err) =>
      this.log.warn(`interrupt on close: ${(err as Error).message}`),
    );
    running.stop();
  }

  /** New kernels for the notebook; their execution counts start again at 1. */
  async restart(notebook: vscode.NotebookDocument): Promise<number> {
    const key = notebook.uri.toString();
    this.running.get(key)?.stop();
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
    for (const d of this.disposables) d.dispose();
  }
}

/** What the picker needs to know about a notebook: its key, and the name the explorer shows. */
export function pickerTarget(notebook: vscode.NotebookDocument): PickerTarget {
  const uri = notebook.uri.toString();
  return { key: uri, owner: { name: notebook.uri.path.split('/').pop() || uri, uri }, matchOwnerUri: !notebook.isUntitled };
}

/** The interpreter's answer to a run in a context it does not have (E2B's and the runtime's: 404 "Context <id> not found"). */
function isContextGone(err: unknown, contextId: string): boolean {
  return (err as Error)?.name === 'NotFoundError' && String((err as Error).message).includes(contextId);
}

function notebookCwd(notebook: vscode.NotebookDocument): string | undefined {
  // A notebook stored in a sandbox (e2b:) works in its own folder there.
  if (notebook.uri.scheme === E2B_SCHEME) return notebook.uri.path.replace(/\/[^/]*$/, '') || '/';
  return undefined;
}
