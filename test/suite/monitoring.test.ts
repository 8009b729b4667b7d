// Pause/resume from the explorer and the metrics view, inside a real extension host.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { Services } from '../../src/commands/services';
import type { MetricsPanel } from '../../src/views/metrics-panel';
import { extensionApi, screenshot, sdkOptions, waitFor } from './helpers';

describe('Pause, resume and metrics', () => {
  let services: Services;
  let sandbox: Sandbox;

  before(async () => {
    services = (await extensionApi()).services;
    sandbox = await Sandbox.create({ ...(await sdkOptions()), metadata: { suite: 'monitoring' } });
  });

  after(async () => {
    await sandbox?.kill().catch(() => false);
  });

  it('pauses and resumes a sandbox from the explorer', async () => {
    await sandbox.files.write('/home/user/state.txt', 'kept');
    assert.equal(await vscode.commands.executeCommand('e2b.pauseSandbox', sandbox.sandboxId), true);
    assert.equal((await sandbox.getInfo()).state, 'paused');
    await waitFor('the sandbox under Paused', async () => {
      await services.tree.refresh();
      const paused = (await services.tree.getChildren()).find((n) => n.kind === 'group' && n.state === 'paused');
      if (!paused) return false;
      const node = (await services.tree.getChildren(paused)).find((n) => n.kind === 'sandbox' && n.sandbox.sandboxId === sandbox.sandboxId);
      return node && services.tree.getTreeItem(node).contextValue === 'sandbox.paused';
    });
    // Files of a paused sandbox say so, and opening them does not resume it.
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.readFile(vscode.Uri.parse(`e2b://${sandbox.sandboxId}/home/user/state.txt`))),
      (err: vscode.FileSystemError) => err.code === 'Unavailable' && /paused/.test(err.message),
    );
    assert.equal((await sandbox.getInfo()).state, 'paused');

    await vscode.commands.executeCommand('e2b.resumeSandbox', sandbox.sandboxId);
    assert.equal((await sandbox.getInfo()).state, 'running');
    assert.equal(await sandbox.files.read('/home/user/state.txt'), 'kept');
  });

  it('shows live metrics and the lifecycle events in the metrics view', async () => {
    const panel = await vscode.commands.executeCommand<MetricsPanel>('e2b.showMetrics', sandbox.sandboxId);
    const rendered = await waitFor(
      'the webview to draw samples and events',
      () => (panel.rendered.samples > 0 && panel.rendered.events >= 3 ? panel.rendered : undefined),
      30_000,
    );
    assert.ok(rendered.samples >= 1);
    assert.ok(rendered.events >= 3, 'created, paused, resumed at least');
    await screenshot('metrics', () => panel.rendered.samples >= 4);
    panel.dispose();
  });

  it('lists the killed event after a kill', async () => {
    const doomed = await Sandbox.create({ ...(await sdkOptions()), metadata: { suite: 'monitoring' } });
    const panel = await vscode.commands.executeCommand<MetricsPanel>('e2b.showMetrics', doomed.sandboxId);
    try {
      await waitFor('the created event', () => panel.rendered.types.includes('created'), 30_000);
      assert.equal(await vscode.commands.executeCommand('e2b.killSandbox', doomed.sandboxId, { confirm: false }), true);
      // The panel polls every 5 s: the metrics are gone by then, the events are not.
      const rendered = await waitFor(
        'the killed event in the list',
        () => (panel.rendered.types[0] === 'killed' ? panel.rendered : undefined),
        30_000,
      );
      assert.deepEqual([...rendered.types].reverse(), ['created', 'killed']);
    } finally {
      panel.dispose();
    }
  });
});
