// Writes what a running cell produces into its outputs, in order: stream text appended to the
// last output of the same stream (as Jupyter does), rich results by MIME type, errors with
// their traceback. Each write goes to the execution at once, never waiting for the window's
// answer to the one before: VS Code batches a cell's output updates in order (about 10 ms) and
// sends what is left when the execution ends, so nothing here waits a round trip per output.
import * as vscode from 'vscode';
import { MimeItem } from './result-mime';

type Stream = 'stdout' | 'stderr';

/**
 * How long the previous run's outputs stay while the new run has written nothing. A quick cell's
 * first output replaces them in one update (one render in the window, no blank frame between);
 * a cell still silent after this has them cleared, as Jupyter clears them when a cell starts.
 */
const CLEAR_AFTER_MS = 100;

export class CellOutputWriter {
  private last?: { stream?: Stream; output: vscode.NotebookCellOutput };
  private clearTimer?: NodeJS.Timeout;

  constructor(private readonly execution: vscode.NotebookCellExecution) {}

  /** The previous run's outputs go: replaced by the first output, or cleared after CLEAR_AFTER_MS. */
  clear(): void {
    this.last = undefined;
    clearTimeout(this.clearTimer);
    this.clearTimer = setTimeout(() => this.clearNow(), CLEAR_AFTER_MS);
  }

  /** Call before the execution ends: a cell that wrote nothing still loses the old outputs. */
  finish(): void {
    this.clearNow();
  }

  stream(stream: Stream, text: string): void {
    const item = stream === 'stdout' ? vscode.NotebookCellOutputItem.stdout(text) : vscode.NotebookCellOutputItem.stderr(text);
    if (this.last?.stream === stream) {
      const output = this.last.output;
      this.send(() => this.execution.appendOutputItems(item, output));
      return;
    }
    this.add(new vscode.NotebookCellOutput([item]), stream);
  }

  rich(items: MimeItem[], metadata?: Record<string, unknown>): void {
    if (items.length === 0) return;
    this.add(
      new vscode.NotebookCellOutput(
        items.map((i) => new vscode.NotebookCellOutputItem(i.data, i.mime)),
        metadata,
      ),
    );
  }

  error(name: string, message: string, traceback?: string): void {
    this.add(new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error({ name, message, stack: traceback })]));
  }

  /** A new output after the others; the first one of a run takes the old outputs' place. */
  private add(output: vscode.NotebookCellOutput, stream?: Stream): void {
    this.last = { stream, output };
    if (this.clearTimer === undefined) {
      this.send(() => this.execution.appendOutput(output));
      return;
    }
    this.cancelClear();
    this.send(() => this.execution.replaceOutput(output));
  }

  private clearNow(): void {
    if (this.clearTimer === undefined) return;
    this.cancelClear();
    this.send(() => this.execution.clearOutput());
  }

  private cancelClear(): void {
    clearTimeout(this.clearTimer);
    this.clearTimer = undefined;
  }

  private send(write: () => Thenable<void>): void {
    try {
      Promise.resolve(write()).catch(() => undefined);
    } catch {
      // The execution has ended (its notebook was closed): nothing can be written.
    }
  }
}
