// Notebooks and run-selection on a code-interpreter sandbox, inside a real extension host.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import { Sandbox as InterpreterSandbox } from '@e2b/code-interpreter';
import type { E2BExtensionApi } from '../../src/extension';
import { CellOutputWriter } from '../../src/providers/notebook/cell-outputs';
import { extensionApi, screenshot, sdkOptions, selectSuiteController, waitFor } from './helpers';
import { sleep } from '../sleep';

const decode = (item: vscode.NotebookCellOutputItem) => new TextDecoder().decode(item.data);

async function runCells(notebook: vscode.NotebookDocument, indexes: number[]): Promise<void> {
  await vscode.commands.executeCommand('notebook.cell.execute', { ranges: indexes.map((i) => ({ start: i, end: i + 1 })) }, notebook.uri);
  await waitFor('the cells to finish', () => indexes.every((i) => notebook.cellAt(i).executionSummary?.success !== undefined), 120_000);
}

function mimes(cell: vscode.NotebookCell): string[] {
  return cell.outputs.flatMap((o) => o.items.map((i) => i.mime));
}

/** All of a cell's output items as text, in order. */
function outputText(cell: vscode.NotebookCell): string {
  return cell.outputs
    .flatMap((o) => o.items)
    .map(decode)
    .join('');
}

/** The cell's output text after each change to its outputs while `run` runs. */
async function outputTextsDuring(notebook: vscode.NotebookDocument, index: number, run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const listener = vscode.workspace.onDidChangeNotebookDocument((e) => {
    for (const change of e.cellChanges)
      if (e.notebook === notebook && change.cell.index === index && change.outputs) seen.push(outputText(change.cell));
  });
  try {
    await run();
  } finally {
    listener.dispose();
  }
  return seen;
}

describe('Notebooks on sandbox kernels', () => {
  let api: E2BExtensionApi;
  let sandbox: Sandbox;
  let notebook: vscode.NotebookDocument;

  before(async () => {
    api = await extensionApi();
    sandbox = await Sandbox.create('code-interpreter-v1', { ...(await sdkOptions()), metadata: { suite: 'notebook' } });
    const cells = [
      ['python', 'x = 41\nprint("stdout line")\nx + 1'],
      ['python', 'import matplotlib.pyplot as plt\nplt.bar(["a", "b"], [1, 2])\nplt.title("bars")'],
      ['python', 'import pandas as pd\npd.DataFrame({"n": [1, 2], "s": ["x", "y"]})'],
      ['python', 'def f():\n    raise ValueError("bad value")\nf()'],
      ['javascript', 'const v = await Promise.resolve(6 * 7); console.log("js says", v); v'],
      ['typescript', 'const t: number = 2 ** 10; t'],
      ['shellscript', 'echo "bash in $(basename $PWD)"'],
      ['python', 'import time\nfor i in range(3):\n    print(f"tick {i}", flush=True)\n    time.sleep(0.4)'],
      ['python', 'import time\nwhile True:\n    time.sleep(0.1)'],
      ['python', 'x'],
      ['java', 'int n = 6;\nSystem.out.println("java says " + n * 7);\nn * 7'],
      ['python', 'import os\nif not os.path.exists("/tmp/said-once"):\n    open("/tmp/said-once", "w").close()\n    print("first run")'],
      ['python', 'import time\nslow_runs = globals().get("slow_runs", 0) + 1\ntime.sleep(1.5)\nprint(f"slow run {slow_runs}")'],
    ].map(([language, code]) => new vscode.NotebookCellData(vscode.NotebookCellKind.Code, code, language));
    notebook = await vscode.workspace.openNotebookDocument('jupyter-notebook', new vscode.NotebookData(cells));
    await vscode.window.showNotebookDocument(notebook);
    await vscode.commands.executeCommand('notebook.selectKernel', { id: 'e2b-sandbox', extension: 'e2b-local.e2b-sandboxes' });
    await vscode.commands.executeCommand('e2b.notebook.selectSandbox', notebook.uri, sandbox.sandboxId);
  });

  after(async () => {
    await sandbox?.kill().catch(() => false);
  });

  it('runs Python cells with state, streamed stdout and execution order', async () => {
    await runCells(notebook, [0]);
    const cell = notebook.cellAt(0);
    assert.equal(cell.executionSummary?.success, true);
    assert.ok((cell.executionSummary?.executionOrder ?? 0) >= 1);
    assert.deepEqual(mimes(cell), ['application/vnd.code.notebook.stdout', 'text/plain']);
    assert.equal(decode(cell.outputs[0].items[0]), 'stdout line\n');
    assert.equal(decode(cell.outputs[1].items[0]), '42');
  });

  it('shows matplotlib charts as PNG and DataFrames as HTML tables', async () => {
    await runCells(notebook, [1, 2]);
    const chart = notebook.cellAt(1);
    assert.ok(mimes(chart).includes('image/png'), `chart outputs: ${mimes(chart)}`);
    const png = chart.outputs.flatMap((o) => o.items).find((i) => i.mime === 'image/png')!;
    assert.deepEqual([...png.data.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const chartData = chart.outputs.flatMap((o) => o.items).find((i) => i.mime === 'application/vnd.e2b.chart+json');
    assert.ok(chartData, 'the structured chart travels along');
    assert.equal(JSON.parse(decode(chartData)).type, 'bar');
    const table = notebook.cellAt(2);
    const html = table.outputs.flatMap((o) => o.items).find((i) => i.mime === 'text/html');
    assert.ok(html && /<table/.test(decode(html)), `table outputs: ${mimes(table)}`);
    await screenshot('notebook');
  });

  it('shows errors with their traceback', async () => {
    await runCells(notebook, [3]);
    const cell = notebook.cellAt(3);
    assert.equal(cell.executionSummary?.success, false);
    const error = cell.outputs.flatMap((o) => o.items).find((i) => i.mime === 'application/vnd.code.notebook.error')!;
    const parsed = JSON.parse(decode(error));
    assert.equal(parsed.name, 'ValueError');
    assert.equal(parsed.message, 'bad value');
    assert.match(parsed.stack, /raise ValueError/);
  });

  it('runs JavaScript, TypeScript and Bash cells in their own kernels', async () => {
    await runCells(notebook, [4, 5, 6]);
    const js = notebook.cellAt(4);
    assert.equal(js.executionSummary?.success, true, JSON.stringify(js.outputs.map((o) => o.items.map(decode))));
    assert.match(
      js.outputs
        .flatMap((o) => o.items)
        .map(decode)
        .join(''),
      /js says 42/,
    );
    assert.match(
      decode(
        notebook
          .cellAt(5)
          .outputs.flatMap((o) => o.items)
          .find((i) => i.mime === 'text/plain')!,
      ),
      /1024/,
    );
    assert.match(outputText(notebook.cellAt(6)), /bash in user/);
  });

  it('runs Java cells in the Java kernel', async () => {
    await runCells(notebook, [10]);
    const java = notebook.cellAt(10);
    const items = java.outputs.flatMap((o) => o.items);
    assert.equal(java.executionSummary?.success, true, JSON.stringify(items.map(decode)));
    assert.match(items.map(decode).join(''), /java says 42/);
    assert.equal(decode(items.find((i) => i.mime === 'text/plain')!), '42');
  });

  it('streams output into the cell while it runs', async () => {
    const seen = await outputTextsDuring(notebook, 7, () => runCells(notebook, [7]));
    const ticks = seen.map((text) => text.split('tick').length - 1);
    assert.ok(
      ticks.some((n) => n > 0 && n < 3),
      `output arrived in steps: ${ticks}`,
    );
    assert.equal(outputText(notebook.cellAt(7)), 'tick 0\ntick 1\ntick 2\n');
  });

  it('interrupts a running cell and keeps the kernel state', async () => {
    const run = vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: 8, end: 9 }] }, notebook.uri);
    await sleep(1500);
    await vscode.commands.executeCommand('notebook.cancelExecution', notebook.uri);
    await run;
    await waitFor('the interrupted cell to end', () => notebook.cellAt(8).executionSummary?.success !== undefined, 30_000);
    assert.equal(notebook.cellAt(8).executionSummary?.success, false);
    assert.match(outputText(notebook.cellAt(8)), /KeyboardInterrupt/);
    await runCells(notebook, [9]);
    assert.equal(decode(notebook.cellAt(9).outputs[0].items[0]), '41');
  });

  it('restarts the kernels: state is gone and numbering starts again', async () => {
    // A failed command shows its error and returns nothing: the message says why.
    const shown: string[] = [];
    const listener = api.services.errors.onDidShow((m) => shown.push(m.message));
    const restarted = await vscode.commands.executeCommand<number | undefined>('e2b.notebook.restartKernel', notebook.uri);
    listener.dispose();
    assert.ok(restarted !== undefined && restarted >= 1, `restarted ${restarted}; shown: ${shown.join(' | ')}`);
    await runCells(notebook, [9]);
    const cell = notebook.cellAt(9);
    assert.equal(cell.executionSummary?.success, false);
    assert.equal(cell.executionSummary?.executionOrder, 1);
    assert.match(outputText(cell), /NameError/);
  });

  it('runs in a new kernel when its kernel was removed behind its back', async () => {
    const key = notebook.uri.toString();
    const removed = api.sessions.sessionOf(key)!.contexts.python;
    await (await InterpreterSandbox.connect(sandbox.sandboxId, await sdkOptions())).removeCodeContext(removed);
    await runCells(notebook, [9]);
    const cell = notebook.cellAt(9);
    assert.equal(cell.executionSummary?.success, false);
    assert.match(outputText(cell), /NameError/, 'a fresh kernel: x is not defined');
    assert.equal(cell.executionSummary?.executionOrder, 1);
    assert.notEqual(api.sessions.sessionOf(key)!.contexts.python, removed);
  });

  it("a re-run removes the last run's outputs: a silent cell ends with none, a slow one loses them while it runs", async () => {
    await runCells(notebook, [11]);
    assert.equal(decode(notebook.cellAt(11).outputs[0].items[0]), 'first run\n');
    await runCells(notebook, [11]);
    assert.equal(notebook.cellAt(11).outputs.length, 0, 'the second run printed nothing');

    await runCells(notebook, [12]);
    const seen = await outputTextsDuring(notebook, 12, () => runCells(notebook, [12]));
    assert.deepEqual(seen, ['', 'slow run 2\n'], 'cleared while it slept, then its own output');
  });

  it('says so in the cell when the sandbox is gone', async () => {
    await sandbox.kill();
    await runCells(notebook, [0]);
    const cell = notebook.cellAt(0);
    assert.equal(cell.executionSummary?.success, false);
    assert.match(outputText(cell), /gone \(killed or timed out\)/);
    assert.equal(api.sessions.sandboxIdOf(notebook.uri.toString()), undefined);
  });
});

describe("A cell's outputs between runs", () => {
  it("a run's first output takes the old outputs' place in one update (no empty cell between)", async () => {
    // The E2B controller's writer on a controller of our own: its output comes 30 ms after the
    // start, as a quick runCode's does, and no sandbox's timing can make the test flaky.
    let runs = 0;
    const controller = vscode.notebooks.createNotebookController('e2b-test-writer', 'jupyter-notebook', 'Output writer test');
    controller.supportedLanguages = ['python'];
    controller.executeHandler = async ([cell]) => {
      const execution = controller.createNotebookCellExecution(cell);
      execution.start(Date.now());
      const writer = new CellOutputWriter(execution);
      writer.clear();
      await sleep(30);
      writer.rich([{ mime: 'text/plain', data: new TextEncoder().encode(`run ${++runs}`) }]);
      writer.finish();
      execution.end(true, Date.now());
    };
    try {
      const notebook = await vscode.workspace.openNotebookDocument(
        'jupyter-notebook',
        new vscode.NotebookData([new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'anything', 'python')]),
      );
      await vscode.window.showNotebookDocument(notebook);
      await selectSuiteController(controller, notebook);
      await runCells(notebook, [0]);
      const seen = await outputTextsDuring(notebook, 0, async () => {
        await runCells(notebook, [0]);
        await waitFor('the second run', () => runs === 2 && outputText(notebook.cellAt(0)) === 'run 2', 10_000);
      });
      assert.deepEqual(seen, ['run 2']);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    } finally {
      controller.dispose();
    }
  });
});

describe('Run selection in a sandbox', () => {
  let api: E2BExtensionApi;

  before(async () => {
    api = await extensionApi();
  });
  after(async () => {
    const id = api.sessions.sandboxIdOf('e2b:run-selection');
    if (id) await Sandbox.kill(id, await sdkOptions()).catch(() => false);
  });

  it('runs the selection with the editor language; text to the output, charts to the results panel', async () => {
    const doc = await vscode.workspace.openTextDocument({
      language: 'python',
      content: 'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nprint("plotted")\n',
    });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 2, 16);
    const outcome = await vscode.commands.executeCommand<{ stdout: string; results: { mime: string }[][] }>('e2b.runSelection');
    assert.equal(outcome.stdout, 'plotted\n');
    assert.ok(outcome.results.some((items) => items.some((i) => i.mime === 'image/png')));
    assert.match(api.results.lastHtml, /<img alt="result" src="data:image\/png;base64,/);
    assert.match(api.results.lastHtml, /Content-Security-Policy" content="default-src 'none'/);
  });

  it("records Run Selection as its sandbox's owner, and replaces the sandbox only once it is really gone", async () => {
    const opts = await sdkOptions();
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: 'print("first")' });
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('e2b.runFile');
    const first = api.sessions.sandboxIdOf('e2b:run-selection')!;
    assert.match((await Sandbox.getInfo(first, opts)).metadata.owner, /^Run Selection/);
    await Sandbox.kill(first, opts);
    const outcome = await vscode.commands.executeCommand<{ stdout: string }>('e2b.runFile');
    assert.equal(outcome.stdout, 'first\n', 'ran in a new sandbox');
    const second = api.sessions.sandboxIdOf('e2b:run-selection')!;
    assert.notEqual(second, first);
    assert.match((await Sandbox.getInfo(second, opts)).metadata.owner, /^Run Selection/);
  });

  it('runs a whole file and keeps state in the run sandbox', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: 'total = sum(range(10))\ntotal' });
    await vscode.window.showTextDocument(doc);
    const outcome = await vscode.commands.executeCommand<{ results: { mime: string; data: Uint8Array }[][] }>('e2b.runFile');
    const text = outcome.results.flat().find((i) => i.mime === 'text/plain')!;
    assert.equal(new TextDecoder().decode(text.data), '45');
  });
});
