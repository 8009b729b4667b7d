// Network rules inside a real extension host: the create wizard's network step, the rules in a
// sandbox's tooltip and Show Info, Edit Network Rules… on a running sandbox's row (E2B's
// updateNetwork), and bad rules answered with a message saying what to do.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { E2BExtensionApi } from '../../src/extension';
import type { Prompt } from '../../src/commands/inputs';
import { answerPrompt, extensionApi, sandboxRow, sdkOptions } from './helpers';

describe('Network rules', () => {
  let api: E2BExtensionApi;
  const prompts: Prompt[] = [];
  const sandboxes: string[] = [];
  const answer = (title: RegExp, down = 0) => answerPrompt(prompts, title, down);

  before(async () => {
    api = await extensionApi();
    api.onDidPrompt((p) => prompts.push(p));
  });

  after(async () => {
    const opts = await sdkOptions();
    for (const id of sandboxes) await Sandbox.kill(id, opts).catch(() => undefined);
  });

  it("creates a sandbox with internet off from the wizard's network step", async () => {
    prompts.length = 0;
    const done = vscode.commands.executeCommand<string | undefined>('e2b.createSandbox', undefined);
    await answer(/^Create E2B Sandbox$/, 1);
    await answer(/\(1\/[78]\): template/);
    await answer(/\(2\/[78]\): timeout/);
    await answer(/\(3\/[78]\): metadata/);
    await answer(/\(4\/[78]\): environment/);
    await answer(/\(5\/[78]\): on timeout/);
    const step = await answer(/\(6\/[78]\): network/, 1);
    assert.deepEqual(step.items, ['$(globe) Internet on', '$(circle-slash) Internet off', '$(list-filter) Allow and deny lists…']);
    if (/\/8\)/.test(step.title)) await answer(/\(7\/8\): volumes/, 0);
    const summary = await answer(/\(([78])\/\1\): summary/);
    assert.match(summary.placeHolder!, /network: internet off/);
    const id = await done;
    assert.ok(id);
    sandboxes.push(id);
    assert.equal((await Sandbox.getInfo(id, await sdkOptions())).allowInternetAccess, false);
  });

  it("shows a sandbox's rules in its tooltip and Show Info, and edits them from its row", async () => {
    const id = await vscode.commands.executeCommand<string>('e2b.createSandbox', {
      template: 'base',
      timeoutMinutes: 5,
      activate: false,
      network: { allowInternetAccess: true, allowOut: ['1.1.1.1'], denyOut: ['8.8.8.0/24'] },
    });
    sandboxes.push(id);
    const row = await sandboxRow(api.services, id);
    const item = await api.services.tree.resolveTreeItem(api.services.tree.getTreeItem(row), row);
    assert.match((item.tooltip as vscode.MarkdownString).value, /\| Network \| allow 1\.1\.1\.1 · deny 8\.8\.8\.0\/24 \|/);

    const info = await vscode.commands.executeCommand<string>('e2b.showSandboxInfo', id);
    assert.match(info, /\| Network \| allow 1\.1\.1\.1 · deny 8\.8\.8\.0\/24 \|/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');

    // Lists offered as they are now: accepting both keeps them, then internet off replaces them all.
    prompts.length = 0;
    let editing = vscode.commands.executeCommand<string>('e2b.editNetworkRules', row);
    await answer(new RegExp(`Network rules of ${id}: network`), 2);
    assert.equal((await answer(/allowed destinations/)).value, '1.1.1.1');
    assert.equal((await answer(/denied destinations/)).value, '8.8.8.0/24');
    assert.equal(await editing, 'allow 1.1.1.1 · deny 8.8.8.0/24');
    editing = vscode.commands.executeCommand<string>('e2b.editNetworkRules', row);
    const pick = await answer(new RegExp(`Network rules of ${id}: network`), 1);
    assert.match(pick.placeHolder!, /now: allow 1\.1\.1\.1 · deny 8\.8\.8\.0\/24/);
    assert.equal(await editing, 'internet off');
    const after = await Sandbox.getInfo(id, await sdkOptions());
    assert.equal(after.allowInternetAccess, false);
    assert.deepEqual(after.network?.allowOut ?? [], []);
    assert.deepEqual(after.network?.denyOut ?? [], []);
  });

  it('answers rules E2B refuses with a message that says what to do, changing nothing', async () => {
    const id = await vscode.commands.executeCommand<string>('e2b.createSandbox', { template: 'base', timeoutMinutes: 5, activate: false });
    sandboxes.push(id);
    const shown: string[] = [];
    const listening = api.services.errors.onDidShow((m) => shown.push(m.message));
    try {
      await vscode.commands.executeCommand('e2b.editNetworkRules', id, { allowInternetAccess: true, allowOut: ['example.com'] });
    } finally {
      listening.dispose();
    }
    assert.ok(
      shown.some((m) => /include 'ALL_TRAFFIC' in deny out/.test(m)),
      `the message says what to add: ${shown}`,
    );
    const info = await Sandbox.getInfo(id, await sdkOptions());
    assert.deepEqual(info.network?.allowOut ?? [], []);
  });
});
