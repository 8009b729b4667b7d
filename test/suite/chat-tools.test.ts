// The language-model tools, invoked as VS Code's chat invokes them (vscode.lm.invokeTool),
// against the local runtime.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { E2BExtensionApi } from '../../src/extension';
import { extensionApi, sdkOptions } from './helpers';

async function invoke(name: string, input: object): Promise<vscode.LanguageModelToolResult> {
  return vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined });
}

const texts = (result: vscode.LanguageModelToolResult) =>
  result.content
    .filter((p): p is vscode.LanguageModelTextPart => p instanceof vscode.LanguageModelTextPart)
    .map((p) => p.value)
    .join('\n');

describe('Language-model tools', () => {
  let api: E2BExtensionApi;
  let sandbox: Sandbox;

  before(async () => {
    api = await extensionApi();
    sandbox = await Sandbox.create('code-interpreter-v1', { ...(await sdkOptions()), metadata: { suite: 'chat-tools' } });
  });
  after(async () => {
    await sandbox?.kill().catch(() => false);
    const runSandbox = api.sessions.sandboxIdOf('e2b:run-selection');
    if (runSandbox) await Sandbox.kill(runSandbox, await sdkOptions()).catch(() => false);
  });

  it('registers its tools with VS Code', () => {
    const names = vscode.lm.tools.map((t) => t.name);
    for (const name of ['e2b_runCode', 'e2b_runCommand', 'e2b_readFile', 'e2b_writeFile', 'e2b_listDirectory'])
      assert.ok(names.includes(name), name);
  });

  it('asks before running, showing the code and the sandbox', async () => {
    await vscode.workspace.getConfiguration('e2b').update('chat.confirmToolRuns', true, vscode.ConfigurationTarget.Global);
    try {
      const prepared = api.tools.confirm({ sandboxId: sandbox.sandboxId }, 'Run python in a sandbox', '```python\nprint(1)\n```');
      const message = prepared.confirmationMessages!.message as vscode.MarkdownString;
      assert.match(message.value, new RegExp(`In sandbox \\*\\*${sandbox.sandboxId}\\*\\*`));
      assert.match(message.value, /print\(1\)/);
    } finally {
      await vscode.workspace.getConfiguration('e2b').update('chat.confirmToolRuns', false, vscode.ConfigurationTarget.Global);
    }
  });

  it('runs code statefully and returns a matplotlib chart as an image part', async () => {
    await invoke('e2b_runCode', { code: 'values = [3, 1, 2]', sandboxId: sandbox.sandboxId });
    const result = await invoke('e2b_runCode', {
      code: 'import matplotlib.pyplot as plt\nprint("sum", sum(values))\nplt.bar(["a", "b", "c"], values)\nplt.show()',
      sandboxId: sandbox.sandboxId,
    });
    assert.match(texts(result), /sum 6/);
    const image = result.content.find((p): p is vscode.LanguageModelDataPart => p instanceof vscode.LanguageModelDataPart);
    assert.ok(image, 'an image part');
    assert.equal(image.mimeType, 'image/png');
    assert.deepEqual([...image.data.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  });

  it('reports errors with their traceback', async () => {
    const result = await invoke('e2b_runCode', { code: '1/0', sandboxId: sandbox.sandboxId });
    assert.match(texts(result), /ZeroDivisionError/);
  });

  it('runs shell commands and works with files', async () => {
    const written = await invoke('e2b_writeFile', {
      path: '/home/user/notes/todo.txt',
      content: 'ship it\n',
      sandboxId: sandbox.sandboxId,
    });
    assert.match(texts(written), /Wrote 8 characters/);
    assert.equal(await sandbox.files.read('/home/user/notes/todo.txt'), 'ship it\n');
    assert.match(texts(await invoke('e2b_readFile', { path: '/home/user/notes/todo.txt', sandboxId: sandbox.sandboxId })), /ship it/);
    assert.match(
      texts(await invoke('e2b_listDirectory', { path: '/home/user/notes', sandboxId: sandbox.sandboxId })),
      /file \/home\/user\/notes\/todo.txt \(8 bytes\)/,
    );
    const command = await invoke('e2b_runCommand', { command: 'wc -c < notes/todo.txt; exit 3', sandboxId: sandbox.sandboxId });
    assert.match(texts(command), /Exit code 3/);
    assert.match(texts(command), /stdout:\n8/);
  });

  it('bounds long output', async () => {
    const result = await invoke('e2b_runCommand', { command: 'head -c 100000 /dev/zero | tr "\\\\0" x', sandboxId: sandbox.sandboxId });
    assert.ok(texts(result).length < 25_000);
    assert.match(texts(result), /characters cut/);
  });

  it('stops a command when the invocation is cancelled', async () => {
    const source = new vscode.CancellationTokenSource();
    const started = Date.now();
    const pending = vscode.lm.invokeTool(
      'e2b_runCommand',
      { input: { command: 'sleep 30', sandboxId: sandbox.sandboxId }, toolInvocationToken: undefined },
      source.token,
    );
    setTimeout(() => source.cancel(), 1000);
    await Promise.resolve(pending).catch(() => undefined);
    assert.ok(Date.now() - started < 10_000, 'the call ended soon after the cancellation');
    const left = await sandbox.commands.run('pgrep -x sleep || true');
    assert.equal(left.stdout, '');
  });

  it('runs commands in the active sandbox when no sandbox is named', async () => {
    await vscode.commands.executeCommand('e2b.connectSandbox', sandbox.sandboxId);
    const result = await invoke('e2b_runCommand', { command: 'echo "in $E2B_SANDBOX_ID"' });
    assert.match(texts(result), new RegExp(`in ${sandbox.sandboxId}`));
  });

  it('uses the workspace run sandbox for code when no sandbox is named', async () => {
    const result = await invoke('e2b_runCode', { code: '21 * 2' });
    assert.match(texts(result), /Result: 42/);
    assert.ok(api.sessions.sandboxIdOf('e2b:run-selection'), 'a run sandbox was created or reused');
  });
});
