// VS Code's own floor for a notebook cell: a controller that answers at once, with the writes the
// E2B controller makes for `1+1` (one text/plain result in place of the old outputs, then the
// end), and no sandbox behind it. Run → output through it is what the workbench and the
// extension host cost on this machine for any kernel; the E2B cell's share is the difference (as
// the SDK floor is for the runtime's rows).
import * as vscode from 'vscode';
import { selectSuiteController } from '../../suite/helpers';

export interface FloorKernel extends vscode.Disposable {
  /** Makes `notebook` run its cells on the floor controller. */
  select(notebook: vscode.NotebookDocument): Promise<void>;
  /** Cells this controller ran (so a benchmark knows the floor was what it measured). */
  readonly executed: number;
}

export function floorKernel(): FloorKernel {
  let executed = 0;
  const controller = vscode.notebooks.createNotebookController('e2b-bench-floor', 'jupyter-notebook', 'Benchmark floor (answers at once)');
  controller.supportedLanguages = ['python'];
  controller.supportsExecutionOrder = true;
  controller.executeHandler = (cells) => {
    for (const cell of cells) {
      const execution = controller.createNotebookCellExecution(cell);
      execution.executionOrder = ++executed;
      execution.start(Date.now());
      void execution.replaceOutput(new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text('2', 'text/plain')]));
      execution.end(true, Date.now());
    }
  };
  return {
    select: (notebook) => selectSuiteController(controller, notebook),
    get executed() {
      return executed;
    },
    dispose: () => controller.dispose(),
  };
}
