// Building a template from an e2b.Dockerfile with the command, inside a real extension host.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { E2BExtensionApi } from '../../src/extension';
import { extensionApi, sdkOptions, waitFor } from './helpers';
import { isErrorNode } from '../../src/views/templates-tree';

describe('Templates', () => {
  let api: E2BExtensionApi;
  let dir: string;

  before(async () => {
    api = await extensionApi();
    dir = mkdtempSync(join(tmpdir(), 'e2b-template-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds a template from an e2b.Dockerfile and starts a sandbox from it', async () => {
    const file = join(dir, 'e2b.Dockerfile');
    writeFileSync(file, 'FROM e2bdev/base\nENV GREETING=from-template\nRUN echo built > /tmp/marker\n');
    const name = `vscode-test-${Date.now().toString(36)}`;
    const templateId = await vscode.commands.executeCommand<string>('e2b.buildTemplate', vscode.Uri.file(file), name);
    assert.ok(templateId, 'the command returns the template id');
    assert.ok(api.templates.items.some((t) => t.templateID === templateId || t.aliases?.includes(name)), 'the Templates view lists it');
    const sandbox = await Sandbox.create(name, await sdkOptions());
    try {
      assert.equal((await sandbox.commands.run('cat /tmp/marker; echo $GREETING')).stdout, 'built\nfrom-template\n');
    } finally {
      await sandbox.kill();
    }
  });

  it('shows why the templates cannot be listed, in a row that retries', async () => {
    const config = vscode.workspace.getConfiguration('e2b');
    const opts = await sdkOptions();
    await api.templates.refresh();
    assert.ok(api.templates.items.length > 0);
    try {
      // Nothing listens on port 9 of loopback.
      await config.update('selfHosted.apiUrl', 'http://127.0.0.1:9', vscode.ConfigurationTarget.Global);
      await config.update('connection', 'selfHosted', vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('e2b.setApiKey', opts.apiKey);
      await vscode.commands.executeCommand('e2b.refreshTemplates');
      const [first] = api.templates.getChildren();
      assert.ok(first && isErrorNode(first), 'an error row first');
      const item = api.templates.getTreeItem(first);
      assert.match(String(item.label), /^Cannot list templates: Cannot reach .*127\.0\.0\.1:9/);
      assert.equal(item.command?.command, 'e2b.refreshTemplates', 'clicking the row retries');
      assert.ok(api.templates.getChildren().length > 1, 'the last list stays below it');
    } finally {
      await config.update('connection', undefined, vscode.ConfigurationTarget.Global);
      await config.update('selfHosted.apiUrl', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('e2b.clearApiKey');
    }
    // What the row's click runs, now that the connection works again.
    await waitFor('the templates without the error row', async () => {
      await vscode.commands.executeCommand('e2b.refreshTemplates');
      return !api.templates.getChildren().some(isErrorNode);
    });
  });
});
