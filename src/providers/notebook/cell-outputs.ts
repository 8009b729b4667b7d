// Writes what a running cell produces into its outputs, in order: stream text appended to the
// last output of the same stream (as Jupyter does), rich results by MIME type, errors with
// their traceback.
import * as vscode from 'vscode';
import { MimeItem } from './result-mime';

type Stream = 'stdout' | 'stderr';

export class CellOutputWriter {
  private last?: { stream?: Stream; output: vscode.NotebookCellOutput };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly execution: vscode.NotebookCellExecution) {}

  /** Clears the previous run's outputs first; queued, so the cell need not wait for the window. */
  clear(): void {
    this.enqueue(async () => {
      this.last = undefined;
      await this.execution.clearOutput();
    });
  }

  stream(stream: Stream, text: string): void {
    const item = stream === 'stdout' ? vscode.NotebookCellOutputItem.stdout(text) : vscode.NotebookCellOutputItem.stderr(text);
    this.enqueue(async () => {
      if (this.last?.stream === stream) {
        await this.execution.appendOutputItems(item, this.last.output);
      } else {
        const output = new vscode.NotebookCellOutput([item]);
        this.last = { stream, output };
        await this.execution.appendOutput(output);
      }
    });
  }

  rich(items: MimeItem[], metadata?: Record<string, unknown>): void {
    if (items.length === 0) return;
    const output = new vscode.NotebookCellOutput(items.map((i) => new vscode.NotebookCellOutputItem(i.data, i.mime)), metadata);
    this.enqueue(async () => {
      this.last = { output };
      await this.execution.appendOutput(output);
    });
  }

  error(name: string, message: string, traceback?: string): void {
    const output = new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error({ name, message, stack: traceback })]);
    this.enqueue(async () => {
      this.last = { output };
      await this.execution.appendOutput(output);
    });
  }

  /** Resolves once everything written so far is in the cell. */
  flushed(): Promise<unknown> {
    return this.queue;
  }

  private enqueue(step: () => Promise<void>): void {
    this.queue = this.queue.then(step).catch(() => undefined);
  }
}
