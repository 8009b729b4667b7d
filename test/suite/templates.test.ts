// Building a template from an e2b.Dockerfile with the command, inside a real extension host.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { E2BExtensionApi } from '../../src/extension';
import { extensionApi, sdkOptions } from './helpers';

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
});
