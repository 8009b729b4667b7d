// Failure handling, inside a real extension host against the real runtime: the extension talks to
// the runtime through a loopback fault proxy (the self-hosted connection pointed at it) that can
// refuse connections, cut them mid-stream, and answer with 429 or 401. Sandboxes are set up and
// checked with the official SDK directly, around the proxy.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { Services } from '../../src/commands/services';
import type { E2BExtensionApi } from '../../src/extension';
import type { ShownMessage } from '../../src/views/error-notifier';
import type { CommandPseudoterminal } from '../../src/providers/terminal/command-pty';
import { startBundledRuntime } from '../../src/connection/local-runtime';
import { FaultProxy } from './fault-proxy';
import { capture, EXTENSION_ID, extensionApi, runtimeDataDir, sdkOptions, waitFor } from './helpers';
import { sleep } from '../sleep';

const decode = (data: Uint8Array) => new TextDecoder().decode(data);
/** Everything a notebook cell shows, as text. */
const text = (cell: vscode.NotebookCell) => cell.outputs.flatMap((o) => o.items.map((i) => decode(i.data))).join('');

/** Reverts and closes the active editor (never a "save?" prompt, which nobody would answer here). */
async function closeWithoutSaving(): Promise<void> {
  const close = Promise.resolve(vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor')).catch(() => undefined);
  await Promise.race([close, sleep(10_000)]);
}

describe('Failure handling', () => {
  let api: E2BExtensionApi;
  let services: Services;
  let proxy: FaultProxy;
  let opts: { apiKey: string; apiUrl: string; sandboxUrl: string };
  const shown: ShownMessage[] = [];
  const created: string[] = [];
  const config = () => vscode.workspace.getConfiguration('e2b');
  const messagesSince = (since: number) => shown.filter((m) => m.at >= since);

  /** An untitled notebook of Python cells on the E2B kernel, in a new code-interpreter sandbox. */
  async function sandboxNotebook(code: string[]): Promise<vscode.NotebookDocument> {
    const sandbox = await newSandbox('code-interpreter-v1');
    const cells = code.map((c) => new vscode.NotebookCellData(vscode.NotebookCellKind.Code, c, 'python'));
    const notebook = await vscode.workspace.openNotebookDocument('jupyter-notebook', new vscode.NotebookData(cells));
    await vscode.window.showNotebookDocument(notebook);
    await vscode.commands.executeCommand('notebook.selectKernel', { id: 'e2b-sandbox', extension: EXTENSION_ID });
    await vscode.commands.executeCommand('e2b.notebook.selectSandbox', notebook.uri, sandbox.sandboxId);
    return notebook;
  }

  async function newSandbox(template = 'base'): Promise<Sandbox> {
    const sandbox = await Sandbox.create(template, { ...opts, metadata: { suite: 'failures' } });
    created.push(sandbox.sandboxId);
    return sandbox;
  }

  before(async () => {
    api = await extensionApi();
    services = api.services;
    opts = await sdkOptions();
    assert.equal(
      new URL(opts.sandboxUrl).origin,
      new URL(opts.apiUrl).origin,
      'the runtime serves the API and the sandboxes on one address',
    );
    proxy = await FaultProxy.start(opts.apiUrl);
    services.errors.onDidShow((m) => shown.push(m));
    // The extension reaches the runtime only through the proxy: a self-hosted connection to it.
    await config().update('explorer.refreshIntervalSeconds', 1, vscode.ConfigurationTarget.Global);
    await config().update('selfHosted.apiUrl', proxy.url, vscode.ConfigurationTarget.Global);
    await config().update('selfHosted.sandboxUrl', proxy.url, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('e2b.setApiKey', opts.apiKey);
    await config().update('connection', 'selfHosted', vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.view.extension.e2b');
    await waitFor(
      'the explorer to list through the proxy',
      () => services.tree.lastError === undefined && proxy.requests.some((r) => r.path.startsWith('/v2/sandboxes')),
    );
  });

  after(async () => {
    await proxy?.restore().catch(() => undefined);
    proxy?.stopInjecting();
    for (const key of ['connection', 'selfHosted.apiUrl', 'selfHosted.sandboxUrl', 'explorer.refreshIntervalSeconds']) {
      await config().update(key, undefined, vscode.ConfigurationTarget.Global);
    }
    await vscode.commands.executeCommand('e2b.clearApiKey');
    await Promise.all(created.map((id) => Sandbox.kill(id, opts).catch(() => false)));
    await proxy?.close();
  });

  it('shows an unreachable server as a state of the explorer, without popups, and recovers by itself', async () => {
    const sandbox = await newSandbox();
    await proxy.refuse();
    const since = Date.now();
    // As at activation: a fresh connection attempt while nothing answers.
    await vscode.commands.executeCommand('e2b.refresh');
    await waitFor('the explorer to show the outage', () => services.tree.lastError?.kind === 'unreachable');
    assert.match(services.tree.lastError!.message, /Cannot reach .*127\.0\.0\.1:\d+/);
    assert.ok(services.tree.lastError!.actions.includes('Retry'));
    // Several background polls fail meanwhile (1 s interval, backing off), however slow the machine.
    await waitFor('three failed polls in a row', () => services.refresher.errorCount >= 3, 60_000);
    assert.deepEqual(
      messagesSince(since).map((m) => m.message),
      [],
      'background failures show no popups',
    );

    await proxy.restore();
    // Nobody refreshes by hand: the explorer's own polling notices the server is back.
    await waitFor(
      'the explorer to recover',
      () => services.tree.lastError === undefined && services.tree.items.some((s) => s.sandboxId === sandbox.sandboxId),
      60_000,
    );
    assert.deepEqual(
      messagesSince(since).map((m) => m.message),
      [],
    );
  });

  it('a terminal says the connection was lost and reattaches to the same shell when it is back', async () => {
    const sandbox = await newSandbox();
    const pty = services.terminals.shellPty(sandbox.sandboxId);
    const out = capture(pty);
    const closed = new Promise<number | void>((resolve) => pty.onDidClose(resolve));
    let didClose = false;
    void closed.then(() => {
      didClose = true;
    });
    await pty.open({ columns: 100, rows: 30 });
    assert.equal(pty.connectionState, 'connected');
    const pid = pty.pid!;
    // Run before the cut: "set=…" shows only once the shell has run it (the typed line echoes "$MARK").
    pty.handleInput('export MARK=kept-across-the-drop; echo "set=$MARK"\r');
    await waitFor('the shell to run the export', () => out.text().includes('set=kept-across-the-drop'));

    await proxy.refuse();
    await waitFor(
      'the terminal to say the connection was lost',
      () => pty.connectionState === 'reconnecting' && /connection to sandbox \w+ lost/.test(out.text()),
    );
    await sleep(2000);
    assert.equal(didClose, false, 'the terminal stays open while the network is down');

    await proxy.restore();
    await waitFor(
      'the terminal to reattach',
      () => pty.connectionState === 'connected' && out.text().includes('[reconnected to the shell'),
      60_000,
    );
    assert.equal(pty.pid, pid, 'the same shell');
    pty.handleInput('echo "mark=$MARK"\r');
    await waitFor('the shell to answer after the drop', () => out.text().includes('mark=kept-across-the-drop'));
    pty.handleInput('exit 5\r');
    assert.equal(await closed, 5);
  });

  it('a terminal notices a network that goes silent (no reset), says so, and reattaches when it is back', async () => {
    const sandbox = await newSandbox();
    const pty = services.terminals.shellPty(sandbox.sandboxId);
    const out = capture(pty);
    await pty.open({ columns: 100, rows: 30 });
    const pid = pty.pid!;
    pty.handleInput('export MARK=kept-through-the-silence; echo "set=$MARK"\r');
    await waitFor('the shell to run the export', () => out.text().includes('set=kept-through-the-silence'));

    proxy.stall();
    try {
      // An idle shell sends nothing: only the health checks can tell the network is gone.
      await waitFor(
        'the terminal to say the connection was lost',
        () => pty.connectionState === 'reconnecting' && /connection to sandbox \w+ lost \(the sandbox stopped answering\)/.test(out.text()),
        60_000,
      );
    } finally {
      proxy.unstall();
    }
    await waitFor('the terminal to reattach', () => pty.connectionState === 'connected', 60_000);
    assert.equal(pty.pid, pid);
    pty.handleInput('echo "mark=$MARK"\r');
    await waitFor('the same shell to answer', () => out.text().includes('mark=kept-through-the-silence'));
    pty.close();
  });

  it('a command streaming into a terminal reattaches after a drop and still reports its exit code', async () => {
    const sandbox = await newSandbox();
    const pty = await vscode.commands.executeCommand<CommandPseudoterminal>(
      'e2b.runCommand',
      sandbox.sandboxId,
      'for i in $(seq 1 40); do echo line$i; sleep 0.3; done; exit 3',
    );
    const out = capture(pty);
    await waitFor('the command to stream', () => out.text().includes('line2'));
    await proxy.refuse();
    await waitFor('the terminal to say the connection was lost', () => out.text().includes('[connection lost'));
    await sleep(1000);
    await proxy.restore();
    assert.equal(await pty.exitCode, 3);
    assert.match(out.text(), /\[reconnected to pid \d+\]/);
    assert.ok(out.text().includes('line40'), 'output after the drop arrives');
  });

  it('the e2b: file watcher resumes delivering changes after the network comes back', async () => {
    const sandbox = await newSandbox();
    await sandbox.files.makeDir('/home/user/watched');
    const dir = vscode.Uri.from({ scheme: 'e2b', authority: sandbox.sandboxId, path: '/home/user/watched' });
    const events: vscode.FileChangeEvent[] = [];
    const listener = services.files.onDidChangeFile((batch) => events.push(...batch));
    const watch = services.files.watch(dir, { recursive: true, excludes: [] });
    try {
      const seen = (path: string) => events.some((e) => e.uri.authority === sandbox.sandboxId && e.uri.path === path);
      await waitFor('the watch stream', () => services.files.watchHealth.live >= 1);
      await sandbox.files.write('/home/user/watched/before.txt', 'one');
      await waitFor('a change before the drop', () => seen('/home/user/watched/before.txt'));

      await proxy.refuse();
      await waitFor('the watch to notice the drop', () => services.files.watchHealth.reconnecting >= 1);
      // Made while the extension cannot see it: reported as "the directory changed" on resume.
      await sandbox.files.write('/home/user/watched/during.txt', 'two');
      const resumedFrom = events.length;
      await proxy.restore();
      await waitFor(
        'the watch to resume',
        () => services.files.watchHealth.reconnecting === 0 && services.files.watchHealth.live >= 1,
        60_000,
      );
      await waitFor('a resync of the watched directory', () =>
        events.slice(resumedFrom).some((e) => e.uri.path === '/home/user/watched' && e.type === vscode.FileChangeType.Changed),
      );
      const listing = await vscode.workspace.fs.readDirectory(dir);
      assert.ok(
        listing.some(([name]) => name === 'during.txt'),
        `the listing is fresh: ${JSON.stringify(listing)}`,
      );

      await sandbox.files.write('/home/user/watched/after.txt', 'three');
      await waitFor('a change after the network came back', () => seen('/home/user/watched/after.txt'));
    } finally {
      watch.dispose();
      listener.dispose();
    }
  });

  it('a notebook cell whose stream is cut ends with a clear error, and the next cell works once the network is back', async () => {
    const notebook = await sandboxNotebook([
      'import time\nfor i in range(30):\n    print(f"tick {i}", flush=True)\n    time.sleep(0.2)',
      'print("after", 6 * 7)',
    ]);
    void vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: 0, end: 1 }] }, notebook.uri);
    await waitFor('streamed output', () => text(notebook.cellAt(0)).includes('tick 2'), 60_000);
    await proxy.refuse();
    await waitFor('the cell to end', () => notebook.cellAt(0).executionSummary?.success !== undefined);
    const cell = notebook.cellAt(0);
    assert.equal(cell.executionSummary?.success, false);
    const error = cell.outputs.flatMap((o) => o.items).find((i) => i.mime === 'application/vnd.code.notebook.error');
    assert.ok(error, `an error output: ${cell.outputs.flatMap((o) => o.items.map((i) => i.mime))}`);
    const parsed = JSON.parse(decode(error.data)) as { name: string; message: string };
    assert.equal(parsed.name, 'ConnectionLost');
    assert.match(parsed.message, /connection to the sandbox was lost/);

    await proxy.restore();
    await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: 1, end: 2 }] }, notebook.uri);
    await waitFor('the next cell to finish', () => notebook.cellAt(1).executionSummary?.success !== undefined, 60_000);
    assert.equal(notebook.cellAt(1).executionSummary?.success, true, text(notebook.cellAt(1)));
    assert.match(text(notebook.cellAt(1)), /after 42/);
    // An untitled notebook is dirty: closing it normally would ask whether to save.
    await closeWithoutSaving();
  });

  it('a notebook cell whose network goes silent (no reset) ends with a clear error instead of hanging', async () => {
    const notebook = await sandboxNotebook(['import time\nprint("started", flush=True)\ntime.sleep(600)', 'print("still", 6 * 7)']);

    void vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: 0, end: 1 }] }, notebook.uri);
    await waitFor('the cell to start', () => text(notebook.cellAt(0)).includes('started'), 60_000);
    proxy.stall();
    try {
      await waitFor('the cell to end', () => notebook.cellAt(0).executionSummary?.success !== undefined, 60_000);
    } finally {
      proxy.unstall();
    }
    const error = notebook
      .cellAt(0)
      .outputs.flatMap((o) => o.items)
      .find((i) => i.mime === 'application/vnd.code.notebook.error');
    assert.ok(error, 'an error output');
    const parsed = JSON.parse(decode(error.data)) as { name: string; message: string };
    assert.equal(parsed.name, 'ConnectionLost');
    assert.match(parsed.message, /no answer from the sandbox/);

    // The first cell's code still sleeps in the kernel: restart it (what the user would do), then the next cell runs.
    const beforeRestart = Date.now();
    assert.equal(
      await vscode.commands.executeCommand('e2b.notebook.restartKernel', notebook.uri),
      1,
      JSON.stringify(messagesSince(beforeRestart)),
    );
    await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: 1, end: 2 }] }, notebook.uri);
    await waitFor('the next cell to finish', () => notebook.cellAt(1).executionSummary?.success !== undefined, 60_000);
    assert.equal(notebook.cellAt(1).executionSummary?.success, true, text(notebook.cellAt(1)));
    assert.match(text(notebook.cellAt(1)), /still 42/);
    await closeWithoutSaving();
  });

  it('keeps unsaved edits when the sandbox expires, and offers to save them elsewhere', async () => {
    const sandbox = await newSandbox();
    await sandbox.files.write('/home/user/notes.txt', 'original\n');
    const uri = vscode.Uri.from({ scheme: 'e2b', authority: sandbox.sandboxId, path: '/home/user/notes.txt' });
    const document = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(document);
    await editor.edit((edit) => edit.insert(new vscode.Position(1, 0), 'unsaved line\n'));
    assert.equal(document.isDirty, true);
    const offers: vscode.Uri[] = [];
    const listener = services.files.rescue.onDidOffer((offer) => offers.push(offer.uri));
    try {
      await Sandbox.kill(sandbox.sandboxId, opts);
      const saved = await Promise.resolve(document.save()).catch(() => false);
      assert.equal(saved, false, 'the save fails');
      assert.equal(document.isDirty, true, 'the document stays dirty');
      assert.equal(document.getText(), 'original\nunsaved line\n');
      await waitFor('the offer to save elsewhere', () => offers.some((o) => o.toString() === uri.toString()));
      // Saving again (auto-save, impatience) does not offer again.
      await Promise.resolve(document.save()).catch(() => false);
      assert.equal(offers.length, 1);

      // What the offer's "Save As…" does, with the target the dialog would return.
      const target = vscode.Uri.file(join(mkdtempSync(join(tmpdir(), 'e2b-rescue-')), 'notes.txt'));
      const written = await services.files.rescue.saveElsewhere(uri, target);
      assert.equal(written?.toString(), target.toString());
      assert.equal(readFileSync(target.fsPath, 'utf8'), 'original\nunsaved line\n');

      // A place that cannot be written (its "folder" is a file): said so, and the edits stay.
      const failures: string[] = [];
      const failed = services.files.rescue.onDidFail((f) => failures.push(f.message));
      try {
        const unwritable = vscode.Uri.file(join(target.fsPath, 'notes.txt'));
        assert.equal(await services.files.rescue.rescue(uri, unwritable), undefined);
        assert.equal(failures.length, 1);
        assert.match(failures[0], /^Could not save the edits of notes\.txt there: .*They are still in the editor/);
        assert.equal(document.isDirty, true);
        assert.equal(document.getText(), 'original\nunsaved line\n');
      } finally {
        failed.dispose();
      }
    } finally {
      listener.dispose();
      await closeWithoutSaving();
    }
  });

  it('says once that the API key was refused, and recovers when a valid key is set', async () => {
    const since = Date.now();
    await vscode.commands.executeCommand('e2b.setApiKey', `e2b_${'0'.repeat(40)}`);
    await waitFor('the explorer to report the refused key', () => services.tree.lastError?.kind === 'auth');
    assert.match(services.tree.lastError!.message, /refused the API key\. Set a valid key/);
    await waitFor('three refused polls in a row', () => services.refresher.errorCount >= 3, 60_000);
    const messages = messagesSince(since);
    assert.equal(messages.length, 1, `one message, not one per poll: ${JSON.stringify(messages)}`);
    assert.match(messages[0].message, /Set a valid key/);
    assert.ok(messages[0].actions.includes('Set API Key'));

    await vscode.commands.executeCommand('e2b.setApiKey', opts.apiKey);
    await waitFor('the explorer to recover with the right key', () => services.tree.lastError === undefined, 60_000);
  });

  it('says once that a key was revoked (401 mid-session), and recovers without a hand refresh', async () => {
    await waitFor('a working explorer', () => services.tree.lastError === undefined, 60_000);
    const since = Date.now();
    proxy.inject({
      match: (_method, path) => /^\/(v2\/)?sandboxes/.test(path),
      status: 401,
      reason: 'Unauthorized',
      body: JSON.stringify({ code: 401, message: 'Invalid API key' }),
    });
    try {
      await waitFor('the explorer to report the refused key', () => services.tree.lastError?.kind === 'auth');
      await waitFor('three refused polls in a row', () => services.refresher.errorCount >= 3, 60_000);
      assert.equal(messagesSince(since).length, 1, JSON.stringify(messagesSince(since)));
    } finally {
      proxy.stopInjecting();
    }
    await waitFor('the explorer to recover', () => services.tree.lastError === undefined, 60_000);
  });

  it('backs off when rate limited (429, Retry-After) and recovers by itself', async () => {
    await waitFor('a working explorer', () => services.tree.lastError === undefined, 60_000);
    const since = Date.now();
    const isList = (method: string, path: string) => method === 'GET' && path.startsWith('/v2/sandboxes');
    proxy.inject({ match: isList, status: 429, reason: 'Too Many Requests', headers: { 'Retry-After': '1' } });
    let hits: number[];
    try {
      await waitFor('the explorer to report the rate limit', () => services.tree.lastError?.kind === 'rateLimited', 60_000);
      // The SDK's retries and the explorer's backed-off polls: four requests, however long they take.
      hits = await waitFor(
        'four rate-limited requests',
        () => {
          const at = proxy.seen(since, (r) => r.answeredByProxy).map((r) => r.at);
          return at.length >= 4 && at;
        },
        60_000,
      );
    } finally {
      proxy.stopInjecting();
    }
    const window = hits[hits.length - 1] - hits[0];
    const gaps = hits.slice(1).map((at, i) => at - hits[i]);
    // Retry-After: 1 is honoured between attempts, and the explorer's polls back off on top.
    assert.ok(
      gaps.every((gap) => gap >= 900),
      `every request waited for Retry-After: gaps ${gaps}`,
    );
    assert.ok(hits.length <= window / 900 + 1, `${hits.length} requests in ${window} ms`);
    assert.deepEqual(messagesSince(since), [], 'rate limiting is a state of the view, not a popup');
    await waitFor('the explorer to recover', () => services.tree.lastError === undefined, 60_000);
  });

  it('retries its own API calls (templates) after Retry-After when rate limited', async () => {
    const since = Date.now();
    let refused = 0;
    // The first two GET /templates are answered 429 by the proxy, the rest reach the runtime.
    proxy.inject({
      match: (method, path) => method === 'GET' && path === '/templates' && refused++ < 2,
      status: 429,
      reason: 'Too Many Requests',
      headers: { 'Retry-After': '1' },
    });
    let templates: { templateID: string }[];
    try {
      templates = await services.sandboxes.templates();
    } finally {
      proxy.stopInjecting();
    }
    assert.ok(
      templates.some((t) => t.templateID === 'base'),
      JSON.stringify(templates),
    );
    const hits = proxy.seen(since, (r) => r.path === '/templates').map((r) => r.at);
    assert.equal(hits.length, 3, `two refused, then one answered: ${hits.length} requests`);
    const gaps = hits.slice(1).map((at, i) => at - hits[i]);
    assert.ok(
      gaps.every((gap) => gap >= 900),
      `waited for Retry-After each time: gaps ${gaps}`,
    );
  });

  it('a terminal reattaches to its shell after the runtime itself restarts', async () => {
    const sandbox = await newSandbox();
    const pty = services.terminals.shellPty(sandbox.sandboxId);
    const out = capture(pty);
    await pty.open({ columns: 100, rows: 30 });
    pty.handleInput('export MARK=outlived-the-runtime; echo "set=$MARK"\r');
    await waitFor('the shell to run the export', () => out.text().includes('set=outlived-the-runtime'));

    const dataDir = runtimeDataDir();
    const pid = Number(readFileSync(join(dataDir, 'runtime.pid'), 'utf8'));
    process.kill(pid, 'SIGTERM');
    await waitFor(
      'the runtime to stop',
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      60_000,
    );
    await waitFor('the terminal to notice', () => pty.connectionState === 'reconnecting');
    await waitFor('the explorer to notice', () => services.tree.lastError?.kind === 'unreachable', 60_000);

    // Started again the way the extension starts it (same data dir, same address: runtime.json).
    startBundledRuntime(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, dataDir);
    await waitFor('the terminal to reattach', () => pty.connectionState === 'connected', 120_000);
    pty.handleInput('echo "mark=$MARK"\r');
    await waitFor('the same shell to answer', () => out.text().includes('mark=outlived-the-runtime'));
    await waitFor(
      'the explorer to recover',
      () => services.tree.lastError === undefined && services.tree.items.some((s) => s.sandboxId === sandbox.sandboxId),
      60_000,
    );
    pty.close();
  });
});
