// The Sandbox Explorer and the lifecycle commands, inside a real extension host, against the
// local runtime (real containers). Sandboxes are set up and checked with the official SDK.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { NotFoundError, Sandbox } from 'e2b';
import type { Services } from '../../src/commands/services';
import type { Prompt } from '../../src/commands/inputs';
import type { ShownMessage } from '../../src/views/error-notifier';
import type { ExplorerNode } from '../../src/views/sandbox-tree';
import {
  answerPrompt,
  closeAllEditorsWithoutSaving,
  EXTENSION_ID,
  extensionApi,
  runtimeDataDir,
  screenshot,
  sdkOptions,
  waitFor,
} from './helpers';

describe('Sandbox Explorer', () => {
  let services: Services;
  const created: string[] = [];
  const prompts: Prompt[] = [];

  const answer = (title: RegExp, down = 0) => answerPrompt(prompts, title, down);

  /** The tree row of a listed sandbox. */
  async function rowOf(sandboxId: string): Promise<vscode.TreeItem | undefined> {
    for (const root of await services.tree.getChildren()) {
      const nodes = root.kind === 'group' ? await services.tree.getChildren(root) : [root];
      const node = nodes.find((n) => n.kind === 'sandbox' && n.sandbox.sandboxId === sandboxId);
      if (node) return services.tree.getTreeItem(node);
    }
    return undefined;
  }

  before(async () => {
    const api = await extensionApi();
    services = api.services;
    api.onDidPrompt((prompt) => prompts.push(prompt));
    await vscode.commands.executeCommand('workbench.view.extension.e2b');
  });

  after(async () => {
    const opts = await sdkOptions().catch(() => undefined);
    if (opts) await Promise.all(created.map((id) => Sandbox.kill(id, opts).catch(() => false)));
  });

  it('activates and registers its commands', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of [
      'e2b.createSandbox',
      'e2b.killSandbox',
      'e2b.refresh',
      'e2b.setSandboxTimeout',
      'e2b.copySandboxId',
      'e2b.openPortUrl',
      'e2b.showSandboxInfo',
      'e2b.filterSandboxes',
    ]) {
      assert.ok(commands.includes(id), `${id} is registered`);
    }
  });

  it('lists the sandboxes the runtime has, grouped by state', async () => {
    const opts = await sdkOptions();
    const sandboxes = await Promise.all([1, 2].map((i) => Sandbox.create({ ...opts, metadata: { suite: 'explorer', index: String(i) } })));
    created.push(...sandboxes.map((s) => s.sandboxId));
    assert.equal(await services.tree.refresh(), true);
    const listed = services.tree.items.map((s) => s.sandboxId);
    for (const s of sandboxes) assert.ok(listed.includes(s.sandboxId), `${s.sandboxId} is listed`);

    const roots = await services.tree.getChildren();
    const running = roots.find((n): n is Extract<ExplorerNode, { kind: 'group' }> => n.kind === 'group' && n.state === 'running');
    assert.ok(running, 'a Running group');
    const children = await services.tree.getChildren(running);
    const node = children.find((n) => n.kind === 'sandbox' && n.sandbox.sandboxId === sandboxes[0].sandboxId)!;
    const item = services.tree.getTreeItem(node);
    assert.equal(item.contextValue, 'sandbox.running');
    assert.equal(item.id, `sandbox:${sandboxes[0].sandboxId}`);
    // Readable at the default width: the template leads, then time left, then the metadata.
    assert.equal(item.label, 'base');
    assert.match(String(item.description), /^\d+m left · suite=explorer, index=1$/);
    assert.match((item.tooltip as vscode.MarkdownString).value, new RegExp(sandboxes[0].sandboxId));
  });

  it('labels a row with the name in its metadata, then time left and template; the id stays in the tooltip', async () => {
    const opts = await sdkOptions();
    const named = await Sandbox.create({ ...opts, metadata: { suite: 'explorer', name: 'api-demo' } });
    const owned = await Sandbox.create({ ...opts, metadata: { suite: 'explorer', owner: 'file:///work/notebooks/analysis.ipynb' } });
    created.push(named.sandboxId, owned.sandboxId);
    await services.tree.refresh();
    const item = await waitFor("the named sandbox's row", () => rowOf(named.sandboxId));
    assert.equal(item.label, 'api-demo');
    assert.match(String(item.description), /^\d+m left · base · suite=explorer$/);
    assert.match((item.tooltip as vscode.MarkdownString).value, new RegExp(`\`${named.sandboxId}\``));
    const ownedItem = (await rowOf(owned.sandboxId))!;
    assert.equal(ownedItem.label, 'analysis.ipynb', 'a sandbox made for a document is labelled with its file name');
    assert.match(String(ownedItem.description), /^\d+m left · base · suite=explorer$/);
    // Copy ID still copies the whole id.
    await vscode.commands.executeCommand('e2b.copySandboxId', named.sandboxId);
    assert.equal(await vscode.env.clipboard.readText(), named.sandboxId);
    await Promise.all([named.kill(), owned.kill()]);
  });

  it('filters by state and metadata', async () => {
    await vscode.commands.executeCommand('e2b.filterSandboxes', { states: ['running'], metadata: { suite: 'explorer', index: '2' } });
    await waitFor('the filtered list', () => services.tree.items.length === 1 && services.tree.items[0].metadata.index === '2');
    await vscode.commands.executeCommand('e2b.filterSandboxes', { states: ['paused'], metadata: {} });
    await waitFor('an empty paused list', () => services.tree.items.length === 0 || undefined);
    await vscode.commands.executeCommand('e2b.clearFilter');
    await waitFor('the whole list again', () => services.tree.items.length >= 2);
  });

  it('creates a sandbox through the command, with metadata and env vars, and makes it active', async () => {
    const id = await vscode.commands.executeCommand<string>('e2b.createSandbox', {
      template: 'base',
      timeoutMinutes: 5,
      metadata: { suite: 'explorer', made: 'by-command' },
      envs: { GREETING: 'from-vscode' },
    });
    assert.match(id, /^[a-z0-9]{20}$/);
    created.push(id);
    const opts = await sdkOptions();
    const info = await Sandbox.getInfo(id, opts);
    assert.deepEqual(info.metadata, { suite: 'explorer', made: 'by-command' });
    const lifetime = info.endAt.getTime() - info.startedAt.getTime();
    assert.ok(Math.abs(lifetime - 300_000) < 5000, `lifetime ${lifetime}`);
    const sandbox = await Sandbox.connect(id, opts);
    assert.equal((await sandbox.commands.run('echo $GREETING')).stdout, 'from-vscode\n');
    assert.equal(services.active.id, id);
    await waitFor('the new sandbox in the tree', () => services.tree.items.some((s) => s.sandboxId === id));
    await screenshot('explorer');
  });

  it('sets the timeout, copies the id and shows info', async () => {
    const id = services.active.id!;
    await vscode.commands.executeCommand('e2b.setSandboxTimeout', id, 30);
    const info = await Sandbox.getInfo(id, await sdkOptions());
    const left = info.endAt.getTime() - Date.now();
    assert.ok(left > 29 * 60_000 && left <= 30 * 60_000 + 2000, `time left ${left}`);

    await vscode.commands.executeCommand('e2b.copySandboxId', id);
    assert.equal(await vscode.env.clipboard.readText(), id);

    const text = await vscode.commands.executeCommand<string>('e2b.showSandboxInfo', id);
    assert.match(text, new RegExp(`# Sandbox ${id}`));
    assert.match(text, /made \| by-command/);
  });

  it('offers the minutes left in the Set Timeout box, so Enter keeps the time', async () => {
    const id = services.active.id!;
    const opts = await sdkOptions();
    const before = (await Sandbox.getInfo(id, opts)).endAt.getTime();
    // The info preview the last test opened takes the focus when it loads, which would close the box.
    await closeAllEditorsWithoutSaving();
    prompts.length = 0;
    const done = vscode.commands.executeCommand('e2b.setSandboxTimeout', id);
    const prompt = await answer(new RegExp(`Timeout of ${id}`));
    assert.ok(prompt.value === '30' || prompt.value === '29', `offered ${prompt.value} (30 minutes were set), not 15`);
    assert.equal(await done, id);
    const after = (await Sandbox.getInfo(id, opts)).endAt.getTime();
    assert.ok(Math.abs(after - before) < 90_000, `the end moved by ${Math.round((after - before) / 1000)} s`);
  });

  it('creates a sandbox with defaults in one step from the wizard', async () => {
    prompts.length = 0;
    const done = vscode.commands.executeCommand<string>('e2b.createSandbox');
    const first = await answer(/^Create E2B Sandbox$/);
    assert.match(first.items![0], /Create with defaults/);
    const id = await done;
    assert.match(id, /^[a-z0-9]{20}$/);
    created.push(id);
    const info = await Sandbox.getInfo(id, await sdkOptions());
    assert.equal(info.templateId, 'base');
    const lifetime = info.endAt.getTime() - info.startedAt.getTime();
    assert.ok(Math.abs(lifetime - 15 * 60_000) < 5000, `the default 15 minutes: ${lifetime}`);
  });

  it('shows a summary before creating from the wizard, and creates nothing when cancelled there', async () => {
    const steps = async (confirm: 'create' | 'cancel') => {
      prompts.length = 0;
      const done = vscode.commands.executeCommand<string | undefined>('e2b.createSandbox');
      await answer(/^Create E2B Sandbox$/, 1);
      await answer(/\(1\/7\): template/);
      assert.equal((await answer(/\(2\/7\): timeout/)).value, '15');
      await answer(/\(3\/7\): metadata/);
      await answer(/\(4\/7\): environment/);
      await answer(/\(5\/7\): on timeout/);
      await answer(/\(6\/7\): network/);
      const summary = await answer(/\(7\/7\): summary/, confirm === 'cancel' ? 1 : 0);
      assert.equal(summary.placeHolder, 'base · 15 min · killed on timeout');
      assert.deepEqual(summary.items, ['$(check) Create sandbox', '$(close) Cancel']);
      return done;
    };
    const opts = await sdkOptions();
    const countBefore = (await Sandbox.list(opts).nextItems()).length;
    assert.equal(await steps('cancel'), undefined);
    assert.equal((await Sandbox.list(opts).nextItems()).length, countBefore, 'no sandbox made');
    const id = await steps('create');
    assert.match(id!, /^[a-z0-9]{20}$/);
    created.push(id!);
    assert.equal((await Sandbox.getInfo(id!, opts)).templateId, 'base');
  });

  it('keeps the kill icon away from the terminal icon: kill is in the context menu only', () => {
    const menus = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.menus['view/item/context'] as {
      command: string;
      group: string;
    }[];
    const kill = menus.filter((m) => m.command === 'e2b.killSandbox');
    assert.ok(kill.length > 0 && kill.every((m) => !m.group.startsWith('inline')), JSON.stringify(kill));
    assert.ok(
      menus.some((m) => m.command === 'e2b.openTerminal' && m.group.startsWith('inline')),
      'the terminal icon stays inline',
    );
  });

  it('says why the warning\'s "Extend" failed instead of dropping the error', async () => {
    const opts = await sdkOptions();
    const sandbox = await Sandbox.create({ ...opts, metadata: { suite: 'explorer' } });
    const info = await sandbox.getInfo();
    await sandbox.kill();
    const shown: ShownMessage[] = [];
    const listener = services.errors.onDidShow((m) => shown.push(m));
    try {
      assert.equal(await services.active.extend(info), false);
      await waitFor('the error to be shown', () => shown.some((m) => m.message.includes(sandbox.sandboxId)));
      assert.match(shown.find((m) => m.message.includes(sandbox.sandboxId))!.message, /no longer exists/);
    } finally {
      listener.dispose();
    }
  });

  it('gives a port URL that reaches a server inside the sandbox', async () => {
    const id = services.active.id!;
    const sandbox = await Sandbox.connect(id, await sdkOptions());
    await sandbox.commands.run('mkdir -p /tmp/site && echo hello-from-port > /tmp/site/index.html');
    await sandbox.commands.run('cd /tmp/site && python3 -m http.server 8080', { background: true });
    const url = await services.sandboxes.portUrl(id, 8080);
    const apiUrl = new URL((await sdkOptions()).apiUrl);
    assert.equal(url, `http://8080-${id}.localhost:${apiUrl.port}/`);
    // Node does not resolve *.localhost names: send the host name the browser would send.
    const body = await waitFor('the server in the sandbox', async () => {
      const res = await fetch(`${apiUrl.origin}/`, { headers: { 'E2b-Sandbox-Id': id, 'E2b-Sandbox-Port': '8080' } });
      return res.ok ? res.text() : undefined;
    });
    assert.equal(body, 'hello-from-port\n');
  });

  it('kills a sandbox through the command', async () => {
    const id = created[0];
    const killed = await vscode.commands.executeCommand<boolean>('e2b.killSandbox', id, { confirm: false });
    assert.equal(killed, true);
    await assert.rejects(Sandbox.getInfo(id, await sdkOptions()), NotFoundError);
    await waitFor('the killed sandbox to leave the tree', () => !services.tree.items.some((s) => s.sandboxId === id));
  });

  it('says what to do when the API key is wrong', async () => {
    const config = vscode.workspace.getConfiguration('e2b');
    const opts = await sdkOptions();
    try {
      await config.update('selfHosted.apiUrl', opts.apiUrl, vscode.ConfigurationTarget.Global);
      await config.update('connection', 'selfHosted', vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('e2b.setApiKey', `e2b_${'0'.repeat(40)}`);
      assert.equal(await services.tree.refresh(), false);
      assert.match(services.tree.lastError!.message, /refused the API key/);
      assert.ok(services.tree.lastError!.actions.includes('Set API Key'));
    } finally {
      await config.update('connection', undefined, vscode.ConfigurationTarget.Global);
      await config.update('selfHosted.apiUrl', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('e2b.clearApiKey');
    }
    assert.equal(await services.tree.refresh(), true);
  });

  it('marks the list stale when the runtime dies, starts it again (autoStart) and recovers by itself', async () => {
    const dataDir = runtimeDataDir();
    const config = vscode.workspace.getConfiguration('e2b');
    const survivor = created[1];
    await config.update('local.autoStart', true, vscode.ConfigurationTarget.Global);
    // Polled every second, the explorer is the first to find the runtime gone (as it is when
    // nothing else runs); the back-off after that is the extension's own.
    await config.update('explorer.refreshIntervalSeconds', 1, vscode.ConfigurationTarget.Global);
    // What the view showed at each redraw: the stale marking must be among them.
    const seen: { message?: string; row?: string }[] = [];
    const listener = services.tree.onDidChangeTreeData(() => {
      void rowOf(survivor).then((row) => seen.push({ message: services.tree.viewMessage, row: row && String(row.description) }));
    });
    try {
      await waitFor('a fresh list', () => services.tree.refresh());
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
      // Nobody refreshes by hand: the explorer's polling finds the runtime gone and restarts it.
      const stale = await waitFor('the stale marking', () => seen.find((v) => v.message?.startsWith('Offline')), 60_000);
      assert.match(stale.message!, /^Offline: showing the list from \d\d:\d\d\. (Cannot reach|The local runtime)/);
      assert.match(stale.row ?? '', /^offline, as of \d\d:\d\d · /, 'the rows say they are from the old list');
      await waitFor(
        'the explorer to recover',
        () => services.tree.lastError === undefined && services.tree.items.some((s) => s.sandboxId === survivor),
        120_000,
      );
      const newPid = Number(readFileSync(join(dataDir, 'runtime.pid'), 'utf8'));
      assert.notEqual(newPid, pid, 'a new runtime process');
      assert.equal(services.tree.viewMessage, services.tree.filterDescription, 'no offline message once back');
      assert.doesNotMatch(String((await rowOf(survivor))?.description), /offline/);
    } finally {
      listener.dispose();
      // Back to how the test command configured it, so nothing restarts the runtime at teardown.
      await config.update('local.autoStart', false, vscode.ConfigurationTarget.Global);
      await config.update('explorer.refreshIntervalSeconds', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
