// One notebook's queue of cell executions, run one at a time in order (they show as pending
// meanwhile). What Jupyter does around it: a failed cell ends the cells queued behind it
// unexecuted (unless e2b.notebook.stopOnError is off), and a closed notebook drops its queue.
import type * as vscode from 'vscode';

/** How a cell ended: 'skipped' ran nothing (an empty cell); 'abort' ends the rest of the queue too. */
export type CellOutcome = 'ok' | 'failed' | 'skipped' | 'abort';

export class CellQueue {
  private readonly pending: vscode.NotebookCellExecution[] = [];
  private draining?: Promise<void>;
  private closed = false;

  constructor(
    private readonly run: (execution: vscode.NotebookCellExecution) => Promise<CellOutcome>,
    private readonly stopOnError: () => boolean,
  ) {}

  /** Queues the executions; resolves when the queue has run dry. */
  add(executions: vscode.NotebookCellExecution[]): Promise<void> {
    if (this.closed) {
      for (const execution of executions) endUnexecuted(execution);
      return Promise.resolve();
    }
    this.pending.push(...executions);
    this.draining ??= this.drain();
    return this.draining;
  }

  get size(): number {
    return this.pending.length;
  }

  /** Ends every queued cell unexecuted (the running one is the caller's to stop). */
  clear(): void {
    for (const execution of this.pending.splice(0)) endUnexecuted(execution);
  }

  /** The notebook closed: nothing queued runs, and nothing queued later either. */
  close(): void {
    this.closed = true;
    this.clear();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const execution = this.pending.shift()!;
        if (execution.token.isCancellationRequested) {
          endUnexecuted(execution);
          continue;
        }
        const outcome = await this.run(execution).catch((): CellOutcome => 'failed');
        if (outcome === 'abort' || (outcome === 'failed' && this.stopOnError())) this.clear();
      }
    } finally {
      // No await between the last look at `pending` and this: a cell added now starts a new drain.
      this.draining = undefined;
    }
  }
}

/** Ends a queued cell without running it: no number, no success mark, its old outputs kept. */
export function endUnexecuted(execution: vscode.NotebookCellExecution): void {
  try {
    execution.start();
    execution.end(undefined);
  } catch {
    // Its notebook is closed already: nothing left to end.
  }
}
