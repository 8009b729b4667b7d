// The Sandbox Explorer and the lifecycle commands, inside a real extension host, against the
// local runtime (real containers). Sandboxes are set up and checked with the official SDK.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { NotFoundError, Sandbox } from 'e2b';
import type { Services } from '../../src/commands/services';
import type { ExplorerNode } from '../../src/views/sandbox-tree';
import { extensionApi, runtimeDataDir, screenshot, sdkOptions, waitFor } from './helpers';

describe('Sandbox Explorer', () => {
  let services: Services;
  const created: string[] = [];

  before(async () => {
    services = (await extensionApi()).services;
    await vscode.commands.executeCommand('workbench.view.extension.e2b');
  });

  after(async () => {
    const opts = await sdkOptions().catch(() => undefined);
    if (opts) await Promise.all(created.map((id) => Sandbox.kill(id, opts).catch(() => false)));
  });

  it('activates and registers its commands', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['e2b.createSandbox', 'e2b.killSandbox', 'e2b.refresh', 'e2b.setSandboxTimeout', 'e2b.copySandboxId', 'e2b.openPortUrl', 'e2b.showSandboxInfo', 'e2b.filterSandboxes']) {
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
    assert.match(String(item.description), /^base · \d+m left · suite=explorer, index=1$/);
    assert.match((item.tooltip as vscode.MarkdownString).value, new RegExp(sandboxes[0].sandboxId));
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
      template: 'base', timeoutMinutes: 5, metadata: { suite: 'explorer', made: 'by-command' }, envs: { GREETING: 'from-vscode' },
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

  it('survives the runtime going away and starts it again', async () => {
    const dataDir = runtimeDataDir();
    const survivor = created[1];
    const pid = Number(readFileSync(join(dataDir, 'runtime.pid'), 'utf8'));
    process.kill(pid, 'SIGTERM');
    await waitFor('the runtime to stop', () => { try { process.kill(pid, 0); return false; } catch { return true; } });
    assert.equal(await services.tree.refresh(), false);
    assert.match(services.tree.lastError!.message, /Cannot reach|not running/);
    assert.ok(services.tree.items.some((s) => s.sandboxId === survivor), 'the last list stays visible');

    // With auto-start on, the next refresh starts the runtime the extension ships.
    await vscode.workspace.getConfiguration('e2b').update('local.autoStart', true, vscode.ConfigurationTarget.Global);
    try {
      await vscode.commands.executeCommand('e2b.refresh');
      await waitFor('the runtime to be back', () => services.tree.refresh(), 120_000);
      assert.equal(services.tree.lastError, undefined);
      assert.ok(services.tree.items.some((s) => s.sandboxId === survivor), 'sandboxes outlived the runtime restart');
    } finally {
      // Back to how the test command configured it, so nothing restarts the runtime at teardown.
      await vscode.workspace.getConfiguration('e2b').update('local.autoStart', false, vscode.ConfigurationTarget.Global);
    }
  });
});
