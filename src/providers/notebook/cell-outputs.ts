// Writes what a running cell produces into its outputs, in order: stream text appended to the
// last output of the same stream (as Jupyter does), rich results by MIME type, errors with
// their traceback. Each write goes to the execution at once, never waiting for the window's
// answer to the one before: VS Code batches a cell's output updates in order (about 10 ms) and
// sends what is left when the execution ends, so nothing here waits a round trip per output.
import * as vscode from 'vscode';
import { MimeItem } from './result-mime';

type Stream = 'stdout' | 'stderr';

export class CellOutputWriter {
  private last?: { stream?: Stream; output: vscode.NotebookCellOutput };

  constructor(private readonly execution: vscode.NotebookCellExecution) {}

  /** Clears the previous run's outputs first. */
  clear(): void {
    this.last = undefined;
    this.send(() => this.execution.clearOutput());
  }

  stream(stream: Stream, text: string): void {
    const item = stream === 'stdout' ? vscode.NotebookCellOutputItem.stdout(text) : vscode.NotebookCellOutputItem.stderr(text);
    if (this.last?.stream === stream) {
      const output = this.last.output;
      this.send(() => this.execution.appendOutputItems(item, output));
      return;
    }
    const output = new vscode.NotebookCellOutput([item]);
    this.last = { stream, output };
    this.send(() => this.execution.appendOutput(output));
  }

  rich(items: MimeItem[], metadata?: Record<string, unknown>): void {
    if (items.length === 0) return;
    const output = new vscode.NotebookCellOutput(
      items.map((i) => new vscode.NotebookCellOutputItem(i.data, i.mime)),
      metadata,
    );
    this.last = { output };
    this.send(() => this.execution.appendOutput(output));
  }

  error(name: string, message: string, traceback?: string): void {
    const output = new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error({ name, message, stack: traceback })]);
    this.last = { output };
    this.send(() => this.execution.appendOutput(output));
  }

  private send(write: () => Thenable<void>): void {
    try {
      Promise.resolve(write()).catch(() => undefined);
    } catch {
      // The execution has ended (its notebook was closed): nothing can be written.
    }
  }
}
