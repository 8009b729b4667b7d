// The command index (src/commands/command-index.ts) against the manifest: every command that
// package.json contributes has exactly one handler in the index, the index has no command the
// manifest lacks, and VS Code knows each one as registered.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, extensionApi } from './helpers';

describe('Command index', () => {
  it('maps every contributed command to one handler, and nothing else', async () => {
    const { commands } = await extensionApi();
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string }[] } };
    const contributed = manifest.contributes.commands.map((c) => c.command);
    const duplicates = (ids: readonly string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);
    assert.ok(contributed.length >= 40, `package.json contributes ${contributed.length} commands`);
    assert.deepEqual(duplicates(contributed), [], 'package.json contributes each command once');
    assert.deepEqual(duplicates(commands), [], 'the index names each command once');
    assert.deepEqual(
      contributed.filter((id) => !commands.includes(id)),
      [],
      'contributed commands without a handler in the index',
    );
    assert.deepEqual(
      commands.filter((id) => !contributed.includes(id)),
      [],
      'commands in the index that package.json does not contribute',
    );
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      commands.filter((id) => !registered.has(id)),
      [],
      'index commands VS Code does not know',
    );
  });
});
