// First run, the way a user gets it: the production .vsix in a clean VS Code, default settings
// (only e2b.local.dataDir points at an empty temporary directory) and no runtime running. Opening
// the Sandbox Explorer must start the runtime bundled in the extension, list sandboxes, and a
// sandbox created through the extension's command must run a command.
import * as assert from 'node:assert/strict';
import { Dirent, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { Services } from '../../src/commands/services';
import type { CommandPseudoterminal } from '../../src/providers/terminal/command-pty';
import { runtimeFiles } from '../../runtime/src/contract/local-runtime-contract';
import { EXTENSION_ID, extensionApi, runtimeDataDir, sdkOptions, waitFor } from '../suite/helpers';

describe('First run of the packaged extension', () => {
  let services: Services;
  const created: string[] = [];

  after(async () => {
    const opts = await sdkOptions().catch(() => undefined);
    if (opts) await Promise.all(created.map((id) => Sandbox.kill(id, opts).catch(() => false)));
  });

  it('has nothing running before the explorer opens', () => {
    assert.equal(existsSync(runtimeFiles(runtimeDataDir()).env), false, 'no runtime has written its env file yet');
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.ok(extension, 'the extension is installed');
    assert.ok(existsSync(join(extension.extensionPath, 'runtime', 'dist', 'cli.js')), 'the runtime is bundled');
  });

  it("ships only what runs (the bundle, media, the runtime's dist files and native sources)", () => {
    const root = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
    const files = (readdirSync(root, { recursive: true, withFileTypes: true }) as Dirent[])
      .filter((d) => d.isFile())
      .map((d) => relative(root, join(d.parentPath, d.name)))
      .sort();
    const shipped =
      /^(package\.json|readme\.md|changelog\.md|LICENSE\.txt|\.vsixmanifest|dist\/extension\.js|media\/.+|runtime\/dist\/(cli|agent|interpreter)\.js|runtime\/native\/[\w-]+\.[ch])$/;
    assert.deepEqual(
      files.filter((f) => !shipped.test(f)),
      [],
      'nothing else is installed',
    );
    for (const f of [
      'dist/extension.js',
      'runtime/dist/cli.js',
      'runtime/dist/agent.js',
      'runtime/dist/interpreter.js',
      'runtime/native/relay.h',
    ])
      assert.ok(files.includes(f), `${f} is there`);
    const bytes = files.reduce((sum, f) => sum + statSync(join(root, f)).size, 0);
    assert.ok(bytes < 3_000_000, `installed size ${bytes} bytes`);
  });

  it('opening the Sandbox Explorer starts the bundled runtime and lists sandboxes', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.e2b');
    services = (await extensionApi()).services;
    // The explorer's first refresh resolves the connection, which starts the runtime (the images
    // come from the machine's cache, so this takes seconds, not minutes).
    // It writes its env file before it listens, and its pid file once it does.
    const pidFile = join(runtimeDataDir(), 'runtime.pid');
    await waitFor(
      'the bundled runtime to answer',
      async () => {
        const endpoint = await sdkOptions();
        return existsSync(pidFile) && (await fetch(`${endpoint.apiUrl}/health`)).ok && endpoint;
      },
      150_000,
    );
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const extensionPath = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
    assert.ok(
      cmdline.includes(join(extensionPath, 'runtime', 'dist', 'cli.js')),
      `the runtime runs from the extension: ${cmdline.join(' ')}`,
    );
    await waitFor('the explorer to list (no sandboxes yet)', async () => (await services.tree.refresh()) === true, 60_000);
    assert.deepEqual(services.tree.items, []);
  });

  it('creates a sandbox through the command and runs a command in it', async () => {
    const id = await vscode.commands.executeCommand<string>('e2b.createSandbox', {
      template: 'base',
      timeoutMinutes: 5,
      metadata: { suite: 'first-run' },
    });
    assert.match(id, /^[a-z0-9]{20}$/);
    created.push(id);
    assert.equal(services.active.id, id);
    await waitFor(
      'the new sandbox in the explorer',
      async () => (await services.tree.refresh()) && services.tree.items.some((s) => s.sandboxId === id),
    );

    const pty = await vscode.commands.executeCommand<CommandPseudoterminal>(
      'e2b.runCommand',
      id,
      'echo "hello from $(whoami) in $(cat /etc/debian_version | cut -d. -f1)"',
    );
    let output = '';
    pty.onDidWrite((chunk) => {
      output += chunk;
    });
    assert.equal(await pty.exitCode, 0);
    await waitFor('the output in the terminal', () => /hello from user in \d+/.test(output), 10_000);
  });
});
