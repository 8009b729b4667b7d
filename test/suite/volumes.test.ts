// Volumes inside a real extension host: the Volumes view and its commands, editing a volume's
// files through the e2b-volume: file system, and mounting volumes from the create wizard.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Sandbox, Volume } from 'e2b';
import type { E2BExtensionApi } from '../../src/extension';
import type { Prompt } from '../../src/commands/inputs';
import { volumeUri } from '../../src/providers/volumes/volume-file-system';
import { answerPrompt, closeAllEditorsWithoutSaving, extensionApi, runtimeDataDir, screenshot, sdkOptions, waitFor } from './helpers';
import { readLocalRuntimeEnv } from '../../src/connection/local-runtime';

describe('Volumes', () => {
  let api: E2BExtensionApi;
  const prompts: Prompt[] = [];
  const sandboxes: string[] = [];
  const volumeIds: string[] = [];
  const name = `vscode-vol-${Date.now().toString(36)}`;
  let volumeId: string;
  /** The content API's URL, as the extension reads it from the runtime's env file. */
  let contentOpts: { apiUrl: string };

  const answer = (title: RegExp, down = 0) => answerPrompt(prompts, title, down);

  async function volumeHandle(): Promise<Volume> {
    return Volume.connect(volumeId, await sdkOptions());
  }

  before(async () => {
    api = await extensionApi();
    api.onDidPrompt((p) => prompts.push(p));
    const env = await readLocalRuntimeEnv(runtimeDataDir());
    contentOpts = { apiUrl: env!.volumeApiUrl };
  });

  after(async () => {
    const opts = await sdkOptions();
    for (const id of sandboxes) await Sandbox.kill(id, opts).catch(() => undefined);
    for (const id of volumeIds) await Volume.destroy(id, opts).catch(() => undefined);
  });

  it('creates a volume from the command and lists it in the Volumes view; a bad name creates nothing', async () => {
    volumeId = await vscode.commands.executeCommand<string>('e2b.createVolume', name);
    assert.match(volumeId, /^[0-9a-f-]{36}$/);
    volumeIds.push(volumeId);
    const roots = await api.volumes.getChildren();
    const row = roots.find((n) => n.kind === 'volume' && n.volume.volumeId === volumeId);
    assert.ok(row, 'the view lists the new volume');
    const item = api.volumes.getTreeItem(row);
    assert.equal(item.label, name);
    assert.equal(item.contextValue, 'volume');

    const before = (await Volume.list(await sdkOptions())).length;
    assert.equal(await vscode.commands.executeCommand('e2b.createVolume', 'not a valid name!'), undefined);
    assert.equal((await Volume.list(await sdkOptions())).length, before);
  });

  it("edits a volume's files through the e2b-volume: file system: bytes, folders, mtimes, typed errors", async () => {
    const fs = vscode.workspace.fs;
    const file = volumeUri(volumeId, '/docs/readme.md');
    await fs.createDirectory(volumeUri(volumeId, '/docs'));
    const bytes = new Uint8Array([0x23, 0x20, 0x68, 0x69, 0x0a, 0x00, 0xff]);
    await fs.writeFile(file, bytes);
    assert.deepEqual(
      await (await volumeHandle()).readFile('/docs/readme.md', { ...contentOpts, format: 'bytes' }),
      bytes,
      'the bytes arrive exactly',
    );
    assert.deepEqual(await fs.readFile(file), bytes);
    const stat = await fs.stat(file);
    assert.equal(stat.type, vscode.FileType.File);
    assert.equal(stat.size, bytes.length);
    assert.ok(Math.abs(stat.mtime - Date.now()) < 60_000, 'a real modification time');
    assert.deepEqual(await fs.readDirectory(volumeUri(volumeId, '/')), [['docs', vscode.FileType.Directory]]);
    await assert.rejects(
      Promise.resolve(fs.stat(volumeUri(volumeId, '/nope.txt'))),
      (err: unknown) => err instanceof vscode.FileSystemError && err.code === 'FileNotFound',
    );
    // (workspace.fs.createDirectory is mkdir -p; the provider itself says what exists.)
    await assert.rejects(
      api.volumeFiles.createDirectory(volumeUri(volumeId, '/docs')),
      (err: unknown) => err instanceof vscode.FileSystemError && err.code === 'FileExists',
    );
    await assert.rejects(
      api.volumeFiles.writeFile(volumeUri(volumeId, '/docs/readme.md'), bytes, { create: true, overwrite: false }),
      (err: unknown) => err instanceof vscode.FileSystemError && err.code === 'FileExists',
    );

    // Rename (copy and remove: E2B's volume API has no move) and delete.
    await fs.rename(file, volumeUri(volumeId, '/docs/README.md'));
    assert.deepEqual(
      (await fs.readDirectory(volumeUri(volumeId, '/docs'))).map(([n]) => n),
      ['README.md'],
    );
    await fs.delete(volumeUri(volumeId, '/docs'), { recursive: true });
    assert.deepEqual(await fs.readDirectory(volumeUri(volumeId, '/')), []);
  });

  it('opens, edits and saves a volume file in an editor; a sandbox that mounts the volume sees it', async () => {
    const root = (await api.volumes.getChildren()).find((n) => n.kind === 'volume' && n.volume.volumeId === volumeId)!;
    const uri = await vscode.commands.executeCommand<vscode.Uri>('e2b.newVolumeFile', root, 'notes.txt');
    assert.equal(uri.toString(), volumeUri(volumeId, '/notes.txt').toString());
    const editor = await waitFor(
      'the new file in an editor',
      () => vscode.window.activeTextEditor?.document.uri.toString() === uri.toString() && vscode.window.activeTextEditor,
    );
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), 'written in VS Code\n'));
    assert.ok(await editor.document.save(), 'saved');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

    const entries = await api.volumes.getChildren(root);
    const row = entries.find((n) => n.kind === 'entry' && n.entry.name === 'notes.txt');
    assert.ok(row, 'the view shows the file under its volume');
    assert.equal(api.volumes.getTreeItem(row).command?.command, 'vscode.open');

    const sandboxId = await vscode.commands.executeCommand<string>('e2b.createSandbox', {
      volumeMounts: { '/mnt/notes': name },
      activate: false,
    });
    sandboxes.push(sandboxId);
    const sandbox = await Sandbox.connect(sandboxId, await sdkOptions());
    assert.equal((await sandbox.commands.run('cat /mnt/notes/notes.txt')).stdout, 'written in VS Code\n');
    // And the other way: what the sandbox writes, VS Code reads.
    await sandbox.commands.run('echo from the sandbox > /mnt/notes/back.txt');
    assert.equal(new TextDecoder().decode(await vscode.workspace.fs.readFile(volumeUri(volumeId, '/back.txt'))), 'from the sandbox\n');

    // Earlier suites' editors (unsaved ones among them) stay out of the picture and of the way.
    await closeAllEditorsWithoutSaving();
    await vscode.commands.executeCommand('e2b.volumes.focus');
    await api.volumes.refresh();
    await api.volumesView.reveal(root, { expand: true });
    await vscode.commands.executeCommand('vscode.open', uri);
    await screenshot('volumes');
    await closeAllEditorsWithoutSaving();
  });

  it("mounts a volume from the create wizard's volumes step", async () => {
    prompts.length = 0;
    const done = vscode.commands.executeCommand<string | undefined>('e2b.createSandbox');
    await answer(/^Create E2B Sandbox$/, 1);
    await answer(/\(1\/8\): template/);
    await answer(/\(2\/8\): timeout/);
    await answer(/\(3\/8\): metadata/);
    await answer(/\(4\/8\): environment/);
    await answer(/\(5\/8\): on timeout/);
    await answer(/\(6\/8\): network/);
    const volumesStep = await waitFor('the volumes step', () => prompts[0]);
    const index = volumesStep.items!.indexOf(name);
    assert.ok(index > 0, `the step offers the volume: ${volumesStep.items}`);
    await answer(/\(7\/8\): volumes/, index);
    assert.equal((await answer(new RegExp(`\\(7/8\\): where to mount ${name}`))).value, `/mnt/${name}`);
    assert.equal((await answer(/\(7\/8\): volumes/, 0)).items![0], '$(check) Done');
    const summary = await answer(/\(8\/8\): summary/);
    assert.match(summary.placeHolder!, new RegExp(`volumes ${name} at /mnt/${name}`));
    const id = await done;
    assert.ok(id);
    sandboxes.push(id);
    const info = await Sandbox.getInfo(id, await sdkOptions());
    assert.deepEqual(info.volumeMounts, [{ name, path: `/mnt/${name}` }]);
  });

  it('refuses to delete a mounted volume, saying why; deletes it once no sandbox mounts it', async () => {
    const shown: string[] = [];
    const listening = api.services.errors.onDidShow((m) => shown.push(m.message));
    try {
      assert.equal(await vscode.commands.executeCommand('e2b.deleteVolume', volumeId, { confirm: false }), undefined, 'refused');
    } finally {
      listening.dispose();
    }
    assert.ok(
      shown.some((m) => /is in use/.test(m) && /Kill those sandboxes first/.test(m)),
      `the message says why and what to do: ${shown}`,
    );
    assert.ok(
      (await Volume.list(await sdkOptions())).some((v) => v.volumeId === volumeId),
      'still there',
    );
    const opts = await sdkOptions();
    for (const id of sandboxes.splice(0)) await Sandbox.kill(id, opts);
    assert.equal(await vscode.commands.executeCommand('e2b.deleteVolume', volumeId, { confirm: false }), true);
    assert.ok(!(await api.volumes.getChildren()).some((n) => n.kind === 'volume' && n.volume.volumeId === volumeId), 'gone from the view');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(volumeUri(volumeId, '/notes.txt'))), vscode.FileSystemError);
  });
});
