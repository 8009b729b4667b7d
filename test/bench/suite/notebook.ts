// Notebook cells through the extension's "E2B Sandbox" controller: `1+1` and a matplotlib chart,
// from the execute command to the cell's final state, and the SDK's own runCode for comparison.
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import { Sandbox as InterpreterSandbox } from '@e2b/code-interpreter';
import type { E2BExtensionApi } from '../../../src/extension';
import { sdkOptions } from '../../suite/helpers';
import { withFloor } from '../../../runtime/bench/stats';
import { floorKernel } from './notebook-floor';
import { envNumber, progress, restore, summary, timeCalls, timed, timedFunction } from './util';

const CHART = 'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.title("bench")\nplt.show()';

/** Runs one cell and resolves when VS Code has its final state (success and end time). */
async function runCell(
  notebook: vscode.NotebookDocument,
  index: number,
  spent: Record<string, number> = {},
): Promise<{
  ms: number;
  /** From the execute command to the controller's start(), and from its end() to the final state. */
  beforeStartMs: number;
  afterEndMs: number;
  controllerMs: number;
  runCodeMs: number;
  listContextsMs: number;
  clearOutputMs: number;
  replaceOutputMs: number;
  appendOutputMs: number;
}> {
  for (const key of ['runCode', 'listCodeContexts', 'clearOutput', 'replaceOutput', 'appendOutput']) spent[key] = 0;
  const notBefore = Date.now();
  const finished = new Promise<void>((resolve) => {
    const check = () => {
      const summary = notebook.cellAt(index).executionSummary;
      if (summary?.success !== undefined && summary.timing && summary.timing.startTime >= notBefore) {
        subscription.dispose();
        resolve();
      }
    };
    const subscription = vscode.workspace.onDidChangeNotebookDocument((e) => {
      if (e.notebook === notebook) check();
    });
  });
  const started = performance.now();
  await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: index, end: index + 1 }] }, notebook.uri);
  await finished;
  const ms = performance.now() - started;
  const finishedAt = Date.now();
  const summary = notebook.cellAt(index).executionSummary!;
  if (!summary.success)
    throw new Error(
      `cell ${index} failed: ${JSON.stringify(notebook.cellAt(index).outputs.map((o) => o.items.map((i) => new TextDecoder().decode(i.data))))}`,
    );
  return {
    ms,
    beforeStartMs: summary.timing!.startTime - notBefore,
    afterEndMs: finishedAt - summary.timing!.endTime,
    controllerMs: summary.timing!.endTime - summary.timing!.startTime,
    runCodeMs: spent.runCode,
    listContextsMs: spent.listCodeContexts,
    clearOutputMs: spent.clearOutput,
    replaceOutputMs: spent.replaceOutput,
    appendOutputMs: spent.appendOutput,
  };
}

function mimes(cell: vscode.NotebookCell): string[] {
  return cell.outputs.flatMap((o) => o.items.map((i) => i.mime));
}

export async function benchNotebook(api: E2BExtensionApi) {
  const iterations = envNumber('E2B_BENCH_CELL_ITERATIONS', 20);
  const opts = await sdkOptions();
  const sandbox = await Sandbox.create('code-interpreter-v1', { ...opts, timeoutMs: 20 * 60_000, metadata: { bench: 'notebook' } });
  try {
    const cells = [
      new vscode.NotebookCellData(vscode.NotebookCellKind.Code, '1+1', 'python'),
      new vscode.NotebookCellData(vscode.NotebookCellKind.Code, CHART, 'python'),
    ];
    const notebook = await vscode.workspace.openNotebookDocument('jupyter-notebook', new vscode.NotebookData(cells));
    await vscode.window.showNotebookDocument(notebook);
    await vscode.commands.executeCommand('notebook.selectKernel', { id: 'e2b-sandbox', extension: 'e2b-local.e2b-sandboxes' });
    await vscode.commands.executeCommand('e2b.notebook.selectSandbox', notebook.uri, sandbox.sandboxId);
    progress('notebook: first cells (kernel start, matplotlib import)');
    const first = await runCell(notebook, 0);
    const firstChart = await runCell(notebook, 1);
    for (let i = 0; i < 3; i++) {
      await runCell(notebook, 0);
      await runCell(notebook, 1);
    }
    // Where the controller's time goes: the SDK calls it makes on the sandbox it got from the sessions.
    const spent: Record<string, number> = {};
    const connected = await api.sessions.sandbox(sandbox.sandboxId);
    const probes = [timeCalls(connected, 'runCode', spent), timeCalls(connected, 'listCodeContexts', spent)];
    // ...and the writes to the window it makes: clearing, replacing and appending outputs.
    const controller = api.notebooks.controller;
    const own = Object.prototype.hasOwnProperty.call(controller, 'createNotebookCellExecution');
    const createExecution = controller.createNotebookCellExecution;
    try {
      (controller as { createNotebookCellExecution: unknown }).createNotebookCellExecution = (cell: vscode.NotebookCell) => {
        // The execution is frozen: hand out an object that inherits from it, with timed methods.
        const execution = createExecution.call(controller, cell);
        return Object.create(execution, {
          clearOutput: { value: timedFunction(execution.clearOutput, spent, 'clearOutput') },
          replaceOutput: { value: timedFunction(execution.replaceOutput, spent, 'replaceOutput') },
          appendOutput: { value: timedFunction(execution.appendOutput, spent, 'appendOutput') },
        }) as vscode.NotebookCellExecution;
      };
    } catch {
      spent.createNotebookCellExecution_not_timed = 1;
    }
    probes.push({ dispose: () => restore(controller, 'createNotebookCellExecution', own, createExecution) });

    const onePlusOne: Awaited<ReturnType<typeof runCell>>[] = [];
    for (let i = 0; i < iterations; i++) {
      onePlusOne.push(await runCell(notebook, 0, spent));
      const out = notebook
        .cellAt(0)
        .outputs.flatMap((o) => o.items)
        .find((item) => item.mime === 'text/plain');
      if (!out || new TextDecoder().decode(out.data) !== '2') throw new Error(`1+1 gave ${mimes(notebook.cellAt(0))}`);
    }
    const chart: Awaited<ReturnType<typeof runCell>>[] = [];
    for (let i = 0; i < Math.ceil(iterations / 2); i++) {
      chart.push(await runCell(notebook, 1, spent));
      if (!mimes(notebook.cellAt(1)).includes('image/png')) throw new Error(`the chart cell gave ${mimes(notebook.cellAt(1))}`);
    }
    for (const probe of probes) probe.dispose();
    const notTimed = Object.keys(spent).filter((k) => k.endsWith('_not_timed'));

    // The same cell on a kernel that answers at once: what VS Code itself costs here.
    const floor = floorKernel();
    const floorOnePlusOne: Awaited<ReturnType<typeof runCell>>[] = [];
    try {
      await floor.select(notebook);
      for (let i = 0; i < 3; i++) await runCell(notebook, 0);
      for (let i = 0; i < iterations; i++) floorOnePlusOne.push(await runCell(notebook, 0));
      if (floor.executed !== iterations + 3) throw new Error(`the floor kernel ran ${floor.executed} of ${iterations + 3} cells`);
    } finally {
      floor.dispose();
    }

    // The same code straight through the SDK (no VS Code, no controller), in its own context.
    const direct = await InterpreterSandbox.connect(sandbox.sandboxId, opts);
    const context = await direct.createCodeContext({ language: 'python' });
    await direct.runCode('import matplotlib.pyplot as plt', { context });
    const sdkOnePlusOne: number[] = [];
    const sdkChart: number[] = [];
    for (let i = 0; i < 3; i++) await direct.runCode('1+1', { context });
    for (let i = 0; i < iterations; i++) sdkOnePlusOne.push((await timed(() => direct.runCode('1+1', { context }))).ms);
    for (let i = 0; i < Math.ceil(iterations / 2); i++) sdkChart.push((await timed(() => direct.runCode(CHART, { context }))).ms);
    // The notebook is untitled and changed: revert, so closing it asks nothing.
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    return {
      first_cell_ms: Number(first.ms.toFixed(2)),
      first_chart_cell_ms: Number(firstChart.ms.toFixed(2)),
      cell_1_plus_1: withFloor(
        onePlusOne.map((r) => r.ms),
        floorOnePlusOne.map((r) => r.ms),
      ),
      cell_1_plus_1_before_start: withFloor(
        onePlusOne.map((r) => r.beforeStartMs),
        floorOnePlusOne.map((r) => r.beforeStartMs),
      ),
      cell_1_plus_1_after_end: withFloor(
        onePlusOne.map((r) => r.afterEndMs),
        floorOnePlusOne.map((r) => r.afterEndMs),
      ),
      cell_1_plus_1_controller: summary(onePlusOne.map((r) => r.controllerMs)),
      cell_1_plus_1_controller_run_code: summary(onePlusOne.map((r) => r.runCodeMs)),
      cell_1_plus_1_controller_list_contexts: summary(onePlusOne.map((r) => r.listContextsMs)),
      cell_1_plus_1_controller_clear_output: summary(onePlusOne.map((r) => r.clearOutputMs)),
      cell_1_plus_1_controller_replace_output: summary(onePlusOne.map((r) => r.replaceOutputMs)),
      cell_1_plus_1_controller_append_output: summary(onePlusOne.map((r) => r.appendOutputMs)),
      cell_chart: summary(chart.map((r) => r.ms)),
      cell_chart_controller: summary(chart.map((r) => r.controllerMs)),
      cell_chart_controller_run_code: summary(chart.map((r) => r.runCodeMs)),
      cell_chart_controller_append_output: summary(chart.map((r) => r.appendOutputMs)),
      sdk_run_code_1_plus_1: summary(sdkOnePlusOne),
      sdk_run_code_chart: summary(sdkChart),
      ...(notTimed.length ? { not_timed: notTimed } : {}),
    };
  } finally {
    await sandbox.kill().catch(() => false);
  }
}
