// Notebook kernels as a user meets them, inside a real extension host against the local runtime:
// selecting the E2B kernel is where the sandbox is chosen (the real quick pick, answered with the
// workbench's own quick-open commands), one execution order per notebook that agrees with the
// kernel, the queue Jupyter-style (stops after a failure, skips empty cells, stops when the
// notebook closes), sandboxes that say which notebook owns them and are offered for killing when
// it closes, and handles that follow a connection switch.
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import { Sandbox as InterpreterSandbox } from '@e2b/code-interpreter';
import type { E2BExtensionApi } from '../../src/extension';
import { FaultProxy } from './fault-proxy';
import { EXTENSION_ID, extensionApi, pokeUntil, screenshot, sdkOptions, waitFor } from './helpers';
import { sleep } from '../sleep';

const KERNEL = { id: 'e2b-sandbox', extension: EXTENSION_ID };
const decode = (item: vscode.NotebookCellOutputItem) => new TextDecoder().decode(item.data);
const text = (cell: vscode.NotebookCell) => cell.outputs.flatMap((o) => o.items.map(decode)).join('');
const config = () => vscode.workspace.getConfiguration('e2b');

/**
 * Runs cells through the notebook command; resolves when the controller is done with all of them.
 * A sandbox picker that opens meanwhile fails the test at once, unless `picker` says one may.
 */
async function execute(notebook: vscode.NotebookDocument, indexes: number[], timeoutMs = 120_000, picker = false): Promise<void> {
  // As a user does: in the notebook on screen.
  await vscode.window.showNotebookDocument(notebook);
  const api = await extensionApi();
  const run = Promise.resolve(
    vscode.commands.executeCommand('notebook.cell.execute', { ranges: indexes.map((i) => ({ start: i, end: i + 1 })) }, notebook.uri),
  );
  let finished = false;
  void run.finally(() => {
    finished = true;
  });
  const asked = picker
    ? new Promise<never>(() => undefined)
    : waitFor('a sandbox picker', () => finished || api.notebooks.isChoosing(notebook), timeoutMs).then(
        () => 'asked',
        () => 'timeout',
      );
  const outcome = await Promise.race([run.then(() => 'done'), asked, sleep(timeoutMs).then(() => 'timeout')]);
  if (outcome === 'asked' && !finished) await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  assert.equal(finished ? 'done' : outcome, 'done', `cells ${indexes} ended within ${timeoutMs / 1000} s without asking for a sandbox`);
}

async function openNotebook(cells: [string, string][], uri?: vscode.Uri): Promise<vscode.NotebookDocument> {
  const notebook = uri
    ? await vscode.workspace.openNotebookDocument(uri)
    : await vscode.workspace.openNotebookDocument(
        'jupyter-notebook',
        new vscode.NotebookData(cells.map(([language, code]) => new vscode.NotebookCellData(vscode.NotebookCellKind.Code, code, language))),
      );
  await vscode.window.showNotebookDocument(notebook);
  return notebook;
}

const tabsOf = (notebook: vscode.NotebookDocument) =>
  vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputNotebook && t.input.uri.toString() === notebook.uri.toString());

/**
 * Closes the notebook's tab as a user does, without a "save?" prompt (nobody would answer it
 * here). VS Code may keep a saved notebook's document open for a while after that. Asked again
 * while the tab stays: a close sent as the editor was still taking focus can miss it.
 */
async function closeNotebook(notebook: vscode.NotebookDocument): Promise<void> {
  await pokeUntil(
    'the notebook tab to close',
    async () => {
      if (tabsOf(notebook).length === 0) return;
      await vscode.window.showNotebookDocument(notebook);
      void Promise.resolve(vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor')).catch(() => undefined);
    },
    () => tabsOf(notebook).length === 0,
    15_000,
    3000,
  );
}

describe('Notebook kernels choose their sandbox', () => {
  let api: E2BExtensionApi;
  let opts: { apiKey: string; apiUrl: string; sandboxUrl: string };
  /** A code-interpreter sandbox the tests that are not about choosing share. */
  let shared: Sandbox;
  const created: string[] = [];

  /** A notebook on the E2B kernel in the shared sandbox (assigned first, so selecting the kernel asks nothing). */
  async function sharedNotebook(cells: [string, string][]): Promise<vscode.NotebookDocument> {
    const notebook = await openNotebook(cells);
    await vscode.commands.executeCommand('e2b.notebook.selectSandbox', notebook.uri, shared.sandboxId);
    await vscode.commands.executeCommand('notebook.selectKernel', KERNEL);
    return notebook;
  }

  /** Selects the E2B kernel and waits for its sandbox picker to be on screen. */
  async function selectKernelAndWaitForPicker(notebook: vscode.NotebookDocument): Promise<void> {
    await vscode.commands.executeCommand('notebook.selectKernel', KERNEL);
    await waitFor('the sandbox picker', () => api.notebooks.isChoosing(notebook));
  }

  /** Presses Enter on the picker's first item ("New code-interpreter sandbox"), as often as needed until it took. */
  async function acceptFirstItem(notebook: vscode.NotebookDocument): Promise<string> {
    const key = notebook.uri.toString();
    const id = await pokeUntil(
      'the picked sandbox to be assigned',
      () => vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem'),
      () => api.sessions.sandboxIdOf(key),
      120_000,
    );
    created.push(id);
    return id;
  }

  before(async () => {
    api = await extensionApi();
    opts = await sdkOptions();
    shared = await Sandbox.create('code-interpreter-v1', { ...opts, metadata: { suite: 'notebook-kernels' } });
    created.push(shared.sandboxId);
  });

  after(async () => {
    await Promise.all(created.map((id) => Sandbox.kill(id, opts).catch(() => false)));
  });

  it('selecting the kernel asks for the sandbox; a new one is made for the notebook and the explorer shows its owner', async () => {
    const notebook = await openNotebook([['python', 'x = 6 * 7\nx']]);
    const key = notebook.uri.toString();
    const name = notebook.uri.path.split('/').pop()!;
    await selectKernelAndWaitForPicker(notebook);
    await screenshot('notebook-sandbox-picker');
    const id = await acceptFirstItem(notebook);
    assert.equal(api.sessions.owns(key), true, 'made for this notebook');
    const info = await Sandbox.getInfo(id, opts);
    assert.equal(info.metadata.owner, name);
    assert.equal(info.metadata.ownerUri, key);

    const tree = api.services.tree;
    await tree.refresh();
    const row = tree.items.find((s) => s.sandboxId === id);
    assert.ok(row, 'the sandbox is listed');
    const item = tree.getTreeItem({ kind: 'sandbox', sandbox: row });
    const shown = [item.label, item.description, (item.tooltip as vscode.MarkdownString).value].join(' ');
    assert.ok(shown.includes(name), `the explorer names the owner: ${shown}`);

    await execute(notebook, [0]);
    assert.equal(notebook.cellAt(0).executionSummary?.success, true, text(notebook.cellAt(0)));
    assert.equal(text(notebook.cellAt(0)), '42');
    assert.equal(notebook.cellAt(0).executionSummary?.executionOrder, 1);

    // Closing it offers to kill the sandbox made for it; the test presses the primary button, Kill.
    const offersBefore = api.closeOffer.offers.length;
    await closeNotebook(notebook);
    await waitFor('the kill offer', () => api.closeOffer.offers.length > offersBefore);
    assert.equal(api.closeOffer.offers.at(-1)!.sandboxId, id);
    assert.equal(api.closeOffer.offers.at(-1)!.notebook, name);
    await pokeUntil(
      'the offered kill',
      () => vscode.commands.executeCommand('notification.acceptPrimaryAction'),
      () => api.closeOffer.offers.at(-1)!.answer === 'Kill',
      30_000,
    );
    await waitFor('the sandbox to be killed', async () => {
      try {
        await Sandbox.getInfo(id, opts);
        return false;
      } catch (err) {
        return (err as Error).name === 'SandboxNotFoundError';
      }
    });
    assert.equal(api.sessions.sandboxIdOf(key), undefined);
  });

  it('a dismissed picker ends every queued cell at once, saying what to do', async () => {
    const notebook = await openNotebook([
      ['python', 'print(1)'],
      ['python', 'print(2)'],
      ['python', 'print(3)'],
    ]);
    await selectKernelAndWaitForPicker(notebook);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await waitFor('the picker to close', () => !api.notebooks.isChoosing(notebook));
    assert.equal(api.sessions.sandboxIdOf(notebook.uri.toString()), undefined);

    const run = execute(notebook, [0, 1, 2], 30_000, true);
    await waitFor('the picker, asked by the first cell', () => api.notebooks.isChoosing(notebook));
    const dismissedAt = Date.now();
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await run;
    assert.ok(Date.now() - dismissedAt < 10_000, 'no cell waits after the dismissal');
    assert.equal(notebook.cellAt(0).executionSummary?.success, false);
    assert.match(text(notebook.cellAt(0)), /No sandbox was chosen for this notebook.*Run a cell again and pick a sandbox/);
    for (const i of [1, 2]) {
      assert.equal(notebook.cellAt(i).executionSummary?.success, undefined, `cell ${i} did not run`);
      assert.equal(notebook.cellAt(i).executionSummary?.executionOrder, undefined);
      assert.equal(notebook.cellAt(i).outputs.length, 0);
    }
    assert.equal(api.notebooks.queued(notebook), 0);
    await closeNotebook(notebook);
  });

  it('numbers cells per notebook, as the kernel counts them (tracebacks agree)', async () => {
    const a = await sharedNotebook([
      ['python', 'a = 1'],
      ['python', 'a + 1'],
      ['python', '1 / 0'],
    ]);
    const b = await sharedNotebook([
      ['python', 'b = 2'],
      ['python', 'raise ValueError("in b")'],
    ]);
    await execute(a, [0]);
    await execute(b, [0]);
    await execute(a, [1]);
    assert.equal(a.cellAt(0).executionSummary?.executionOrder, 1, JSON.stringify([a.cellAt(0).executionSummary, text(a.cellAt(0))]));
    assert.equal(b.cellAt(0).executionSummary?.executionOrder, 1, 'the second notebook starts at [1] too');
    assert.equal(a.cellAt(1).executionSummary?.executionOrder, 2);
    await execute(a, [2]);
    await execute(b, [1]);
    assert.equal(a.cellAt(2).executionSummary?.executionOrder, 3);
    assert.match(text(a.cellAt(2)), /Cell In ?\[3\]/, 'the traceback names the cell by its label');
    assert.equal(b.cellAt(1).executionSummary?.executionOrder, 2);
    assert.match(text(b.cellAt(1)), /Cell In ?\[2\]/);
    // A restart starts the count again.
    await vscode.commands.executeCommand('e2b.notebook.restartKernel', a.uri);
    await execute(a, [0]);
    assert.equal(a.cellAt(0).executionSummary?.executionOrder, 1);
    await closeNotebook(a);
    await closeNotebook(b);
  });

  it('a failing cell ends the rest of the queue unexecuted, unless e2b.notebook.stopOnError is off', async () => {
    const notebook = await sharedNotebook([
      ['python', 'n = 1'],
      ['python', 'raise RuntimeError("stop here")'],
      ['python', 'n = 2'],
      ['python', 'print("ran", n)'],
    ]);
    await execute(notebook, [0, 1, 2, 3]);
    assert.equal(notebook.cellAt(0).executionSummary?.success, true);
    assert.equal(notebook.cellAt(1).executionSummary?.success, false);
    for (const i of [2, 3]) assert.equal(notebook.cellAt(i).executionSummary?.success, undefined, `cell ${i} did not run`);
    assert.equal(notebook.cellAt(3).outputs.length, 0);

    await config().update('notebook.stopOnError', false, vscode.ConfigurationTarget.Global);
    try {
      await execute(notebook, [1, 2, 3]);
    } finally {
      await config().update('notebook.stopOnError', undefined, vscode.ConfigurationTarget.Global);
    }
    assert.equal(notebook.cellAt(1).executionSummary?.success, false);
    assert.equal(notebook.cellAt(3).executionSummary?.success, true);
    assert.equal(text(notebook.cellAt(3)), 'ran 2\n');
    await closeNotebook(notebook);
  });

  it('skips empty cells without a number (and asks for no sandbox for them)', async () => {
    const notebook = await openNotebook([
      ['python', ''],
      ['python', '  \n\n'],
      ['python', 'print("after")'],
    ]);
    await selectKernelAndWaitForPicker(notebook);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await waitFor('the picker to close', () => !api.notebooks.isChoosing(notebook));
    await execute(notebook, [0, 1], 30_000);
    assert.equal(api.notebooks.isChoosing(notebook), false, 'empty cells need no sandbox');
    await vscode.commands.executeCommand('e2b.notebook.selectSandbox', notebook.uri, shared.sandboxId);
    await execute(notebook, [0, 1, 2]);
    for (const i of [0, 1]) {
      assert.equal(notebook.cellAt(i).executionSummary?.executionOrder, undefined, `empty cell ${i} has no number`);
      assert.equal(notebook.cellAt(i).executionSummary?.success, undefined);
    }
    assert.equal(notebook.cellAt(2).executionSummary?.executionOrder, 1, 'the empty cells used no number');
    assert.equal(text(notebook.cellAt(2)), 'after\n');
    await closeNotebook(notebook);
  });

  it('closing a notebook interrupts its running cell and drops its queue', async () => {
    // A sandbox of its own, so its kernels are this notebook's only.
    const own = await Sandbox.create('code-interpreter-v1', { ...opts, metadata: { suite: 'notebook-kernels' } });
    created.push(own.sandboxId);
    const notebook = await openNotebook([
      ['python', 'import time\nprint("started", flush=True)\ntime.sleep(60)\nopen("/tmp/late", "w").write("1")'],
      ['python', 'open("/tmp/queued", "w").write("1")'],
    ]);
    await vscode.commands.executeCommand('e2b.notebook.selectSandbox', notebook.uri, own.sandboxId);
    await vscode.commands.executeCommand('notebook.selectKernel', KERNEL);
    void vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: 0, end: 2 }] }, notebook.uri);
    await waitFor('the first cell to start', () => text(notebook.cellAt(0)).includes('started'), 60_000);
    await closeNotebook(notebook);
    assert.equal(api.notebooks.queued(notebook), 0, 'nothing is queued for a closed notebook');
    // The kernel is free again (the sleep was interrupted): code in it answers well before 60 s.
    const interpreter = await InterpreterSandbox.connect(own.sandboxId, opts);
    const contexts = (await interpreter.listCodeContexts()).filter((c) => c.language === 'python');
    const started = Date.now();
    for (const context of contexts) await interpreter.runCode('1', { context, timeoutMs: 50_000 });
    assert.ok(Date.now() - started < 30_000, 'the running cell was interrupted');
    assert.equal(await interpreter.files.exists('/tmp/late'), false, 'the running cell did not finish');
    assert.equal(await interpreter.files.exists('/tmp/queued'), false, 'the queued cell never ran');
  });

  it('reopening a saved notebook reuses its sandbox and kernel without asking', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2b-nb-'));
    const file = join(dir, 'reuse.ipynb');
    writeFileSync(
      file,
      JSON.stringify({
        cells: [
          { cell_type: 'code', source: ['kept = "still here"'], metadata: {}, outputs: [], execution_count: null },
          { cell_type: 'code', source: ['kept'], metadata: {}, outputs: [], execution_count: null },
        ],
        metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    await config().update('notebook.killSandboxOnClose', 'never', vscode.ConfigurationTarget.Global);
    try {
      const first = await openNotebook([], vscode.Uri.file(file));
      await selectKernelAndWaitForPicker(first);
      const id = await acceptFirstItem(first);
      await execute(first, [0]);
      assert.equal(first.cellAt(0).executionSummary?.success, true, text(first.cellAt(0)));
      await closeNotebook(first);

      const again = await openNotebook([], vscode.Uri.file(file));
      await vscode.commands.executeCommand('notebook.selectKernel', KERNEL);
      assert.equal(api.sessions.sandboxIdOf(again.uri.toString()), id, 'the same sandbox');
      await execute(again, [1]);
      assert.equal(api.notebooks.isChoosing(again), false, 'nothing was asked');
      assert.equal(text(again.cellAt(1)), 'still here', 'the same kernel, with its variables');
      await closeNotebook(again);
    } finally {
      await config().update('notebook.killSandboxOnClose', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('an untitled notebook saved as a file keeps its sandbox and kernel (no kill offer)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2b-nb-'));
    const target = vscode.Uri.file(join(dir, 'saved.ipynb'));
    // An untitled notebook that knows its file: saving it asks for no name.
    const notebook = await openNotebook([], target.with({ scheme: 'untitled' }));
    const edit = new vscode.WorkspaceEdit();
    edit.set(notebook.uri, [
      vscode.NotebookEdit.insertCells(0, [
        new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'saved_var = 5', 'python'),
        new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'saved_var', 'python'),
      ]),
    ]);
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.ok(notebook.isUntitled);
    await selectKernelAndWaitForPicker(notebook);
    const id = await acceptFirstItem(notebook);
    await execute(notebook, [0]);
    assert.equal(notebook.cellAt(0).executionSummary?.success, true, text(notebook.cellAt(0)));
    const offers = api.closeOffer.offers.length;

    // Save as a user does: the save dialog offers the notebook's own path; Enter takes it.
    void Promise.resolve(vscode.workspace.save(notebook.uri)).catch(() => undefined);
    const file = await pokeUntil(
      'the saved notebook',
      () => vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem'),
      () => vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === target.toString()),
      30_000,
    );
    await waitFor(
      'the sandbox to follow the notebook',
      () => api.sessions.sandboxIdOf(target.toString()) === id && api.sessions.sandboxIdOf(notebook.uri.toString()) === undefined,
    );
    assert.equal(api.closeOffer.offers.length, offers, 'saving is not closing: nothing offered');
    await vscode.commands.executeCommand('notebook.selectKernel', KERNEL);
    await execute(file, [1]);
    assert.equal(text(file.cellAt(1)), '5', 'the same kernel');
    await config().update('notebook.killSandboxOnClose', 'never', vscode.ConfigurationTarget.Global);
    try {
      await closeNotebook(file);
    } finally {
      await config().update('notebook.killSandboxOnClose', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('a connection switch resets every cached handle (notebooks, files, Run Selection); a gateway timeout keeps the run sandbox', async () => {
    const notebook = await sharedNotebook([
      ['python', 'import os\nos.getpid() > 0'],
      ['python', 'print("via the new connection")'],
    ]);
    await execute(notebook, [0]);
    assert.equal(notebook.cellAt(0).executionSummary?.success, true, text(notebook.cellAt(0)));
    const proxy = await FaultProxy.start(opts.apiUrl);
    const resets = api.services.sandboxHandles.resets;
    try {
      // From the local runtime to a "self-hosted" E2B: the same runtime, seen through the proxy.
      await config().update('selfHosted.apiUrl', proxy.url, vscode.ConfigurationTarget.Global);
      await config().update('selfHosted.sandboxUrl', proxy.url, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('e2b.setApiKey', opts.apiKey);
      const switchedAt = Date.now();
      await config().update('connection', 'selfHosted', vscode.ConfigurationTarget.Global);
      await waitFor('the handles to be reset', () => api.services.sandboxHandles.resets > resets);

      await execute(notebook, [1]);
      assert.equal(notebook.cellAt(1).executionSummary?.success, true, text(notebook.cellAt(1)));
      assert.equal(text(notebook.cellAt(1)), 'via the new connection\n');
      assert.ok(
        proxy.seen(switchedAt, (r) => r.method === 'POST' && r.path.startsWith('/execute')).length >= 1,
        'the cell ran through the new connection',
      );

      // The base SDK's handles (files, terminals, commands) follow too.
      const base = await api.services.sandboxHandles.get(shared.sandboxId);
      const before = Date.now();
      await base.files.exists('/tmp');
      assert.ok(proxy.seen(before, () => true).length >= 1, 'a file call went through the new connection');

      // Run Selection too. A gateway timeout (a 502, which the SDK reports as a TimeoutError, as
      // for a dead sandbox) on a sandbox that lives keeps the sandbox and its variables.
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'python', content: 'kept_var = 7' }));
      const set = await vscode.commands.executeCommand<{ stdout: string } | undefined>('e2b.runFile');
      assert.ok(set, 'the run worked through the new connection');
      const runSandbox = api.sessions.sandboxIdOf('e2b:run-selection')!;
      created.push(runSandbox);
      const shown: string[] = [];
      const listening = api.services.errors.onDidShow((m) => shown.push(m.message));
      proxy.inject({
        match: (method, path) => method === 'POST' && path.startsWith('/execute'),
        status: 502,
        reason: 'Bad Gateway',
        body: 'upstream timed out',
      });
      try {
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'python', content: 'kept_var' }));
        assert.equal(await vscode.commands.executeCommand('e2b.runFile'), undefined);
        await waitFor('the error message', () => shown.length > 0);
        assert.match(shown[0], /lost or too slow.*the sandbox and its variables are kept/);
        assert.equal(api.sessions.sandboxIdOf('e2b:run-selection'), runSandbox, 'the run sandbox is kept');
      } finally {
        proxy.stopInjecting();
        listening.dispose();
      }
      const again = await vscode.commands.executeCommand<{ results: { mime: string; data: Uint8Array }[][] }>('e2b.runFile');
      assert.equal(
        new TextDecoder().decode(again.results.flat().find((i) => i.mime === 'text/plain')!.data),
        '7',
        'its variables are still there',
      );
    } finally {
      for (const key of ['connection', 'selfHosted.apiUrl', 'selfHosted.sandboxUrl'])
        await config().update(key, undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('e2b.clearApiKey');
      await proxy.close();
    }
    // And back: the old handles through the proxy are gone with it.
    await execute(notebook, [1]);
    assert.equal(notebook.cellAt(1).executionSummary?.success, true, text(notebook.cellAt(1)));
    await closeNotebook(notebook);
  });
});
