// Building a template from an e2b.Dockerfile with the command, inside a real extension host.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Sandbox, Template } from 'e2b';
import type { E2BExtensionApi } from '../../src/extension';
import type { Prompt } from '../../src/commands/inputs';
import type { ShownMessage } from '../../src/views/error-notifier';
import { answerPrompt, extensionApi, sdkOptions, waitFor } from './helpers';
import { isErrorNode, isTagNode, TemplateNode, TemplateTagNode } from '../../src/views/templates-tree';

describe('Templates', () => {
  let api: E2BExtensionApi;
  let dir: string;

  before(async () => {
    api = await extensionApi();
    dir = mkdtempSync(join(tmpdir(), 'e2b-template-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('tags', () => {
    const name = `vscode-tags-${Date.now().toString(36)}`;
    const builds: Record<string, string> = {};
    const created: string[] = [];
    const prompts: Prompt[] = [];

    const answer = (title: RegExp, down = 0) => answerPrompt(prompts, title, down);

    /** The tag rows under the template's row, after a refresh. */
    async function tagRows(): Promise<TemplateTagNode[]> {
      await api.templates.refresh();
      const template = api.templates.getChildren().find((n) => !isErrorNode(n) && !isTagNode(n) && n.aliases?.includes(name));
      assert.ok(template, `${name} is listed`);
      const rows = await api.templates.getChildren(template as TemplateNode);
      return rows.filter(isTagNode);
    }

    async function versionOf(sandboxId: string): Promise<string> {
      const sandbox = await Sandbox.connect(sandboxId, await sdkOptions());
      return (await sandbox.commands.run('cat /tmp/version')).stdout.trim();
    }

    before(async () => {
      api.onDidPrompt((prompt) => prompts.push(prompt));
      const opts = await sdkOptions();
      const versioned = (v: string) => Template().fromTemplate('base').runCmd(`echo ${v} > /tmp/version`);
      builds.one = (await Template.build(versioned('one'), `${name}:v1`, opts)).buildId;
      builds.two = (await Template.build(versioned('two'), name, opts)).buildId;
    });
    after(async () => {
      const opts = await sdkOptions().catch(() => undefined);
      if (opts) await Promise.all(created.map((id) => Sandbox.kill(id, opts).catch(() => false)));
    });

    it("shows each template's tags as rows under it, default first", async () => {
      const rows = await tagRows();
      assert.deepEqual(
        rows.map((r) => [r.tag, r.buildId]),
        [
          ['default', builds.two],
          ['v1', builds.one],
        ],
      );
      const [defaultItem, v1Item] = rows.map((r) => api.templates.getTreeItem(r));
      assert.equal(defaultItem.label, 'default');
      assert.match(String(defaultItem.description), new RegExp(`^build ${builds.two.slice(0, 8)} · what the name alone starts$`));
      assert.equal(defaultItem.contextValue, 'templateTag.default', 'no Remove Tag on default');
      assert.equal(v1Item.contextValue, 'templateTag');
      assert.match(String(v1Item.tooltip), new RegExp(`^${name}:v1\nbuild ${builds.one}`));
    });

    it('assigns a tag to the build of a tag row and removes it; default cannot be removed', async () => {
      const v1 = (await tagRows()).find((r) => r.tag === 'v1')!;
      assert.equal(await vscode.commands.executeCommand('e2b.assignTemplateTag', v1, 'Prod, canary'), builds.one);
      const tags = async () => Object.fromEntries((await Template.getTags(name, await sdkOptions())).map((t) => [t.tag, t.buildId]));
      assert.deepEqual(await tags(), { canary: builds.one, default: builds.two, prod: builds.one, v1: builds.one });
      const rows = await tagRows();
      assert.deepEqual(
        rows.map((r) => r.tag),
        ['default', 'canary', 'prod', 'v1'],
        'the view shows the new tags',
      );

      assert.equal(
        await vscode.commands.executeCommand(
          'e2b.removeTemplateTag',
          rows.find((r) => r.tag === 'canary'),
        ),
        true,
      );
      assert.deepEqual(await tags(), { default: builds.two, prod: builds.one, v1: builds.one });

      const shown: ShownMessage[] = [];
      const listener = api.services.errors.onDidShow((m) => shown.push(m));
      try {
        assert.equal(
          await vscode.commands.executeCommand(
            'e2b.removeTemplateTag',
            rows.find((r) => r.tag === 'default'),
          ),
          undefined,
        );
        assert.match(
          shown.map((m) => m.message).join('\n'),
          /"default" tag cannot be removed.*Assign "default" to another build to move it/,
        );
        shown.length = 0;
        // What the server says reaches the user too: a tag it refuses.
        assert.equal(await vscode.commands.executeCommand('e2b.assignTemplateTag', v1, 'a/b'), undefined);
        assert.match(shown.map((m) => m.message).join('\n'), /"a\/b" is not a valid tag/);
      } finally {
        listener.dispose();
      }
      assert.deepEqual(await tags(), { default: builds.two, prod: builds.one, v1: builds.one }, 'nothing changed');
    });

    it('starts a sandbox from a tag row, and from name:tag picked in the create wizard', async () => {
      const prod = (await tagRows()).find((r) => r.tag === 'prod')!;
      const fromRow = await vscode.commands.executeCommand<string>('e2b.createFromTemplate', prod);
      assert.match(fromRow, /^[a-z0-9]{20}$/);
      created.push(fromRow);
      assert.equal(await versionOf(fromRow), 'one');

      prompts.length = 0;
      const done = vscode.commands.executeCommand<string | undefined>('e2b.createSandbox');
      await answer(/^Create E2B Sandbox$/, 1);
      const templatePrompt = prompts[0] ?? (await waitFor('the template prompt', () => prompts[0]));
      await answer(/\(1\/[78]\): template/, templatePrompt.items!.indexOf(name));
      const tagPrompt = await answer(new RegExp(`\\(1/[78]\\): tag of ${name}$`), 2);
      assert.deepEqual(tagPrompt.items, [name, `${name}:prod`, `${name}:v1`], 'the default tag (the name alone) first');
      await answer(/\(2\/7\): timeout/);
      await answer(/\(3\/7\): metadata/);
      await answer(/\(4\/7\): environment/);
      await answer(/\(5\/7\): on timeout/);
      await answer(/\(6\/7\): network/);
      const summary = await answer(/\(7\/7\): summary/);
      assert.match(summary.placeHolder!, new RegExp(`^${name}:v1 · 15 min`));
      const id = await done;
      assert.ok(id);
      created.push(id);
      assert.equal(await versionOf(id), 'one');
      assert.equal((await Sandbox.getInfo(id, await sdkOptions())).templateId, name);
    });
  });

  it('builds a template from an e2b.Dockerfile and starts a sandbox from it', async () => {
    const file = join(dir, 'e2b.Dockerfile');
    writeFileSync(file, 'FROM e2bdev/base\nENV GREETING=from-template\nRUN echo built > /tmp/marker\n');
    const name = `vscode-test-${Date.now().toString(36)}`;
    const templateId = await vscode.commands.executeCommand<string>('e2b.buildTemplate', vscode.Uri.file(file), name);
    assert.ok(templateId, 'the command returns the template id');
    assert.ok(
      api.templates.items.some((t) => t.templateID === templateId || t.aliases?.includes(name)),
      'the Templates view lists it',
    );
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
