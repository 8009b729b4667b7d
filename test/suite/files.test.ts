// The e2b: file system inside a real extension host: VS Code's own file API and editors on a
// sandbox's files, checked from the other side with the official SDK.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { Services } from '../../src/commands/services';
import { extensionApi, pokeUntil, sdkOptions, waitFor } from './helpers';

describe('Sandbox files (e2b: scheme)', () => {
  let services: Services;
  let sandbox: Sandbox;
  let root: vscode.Uri;
  const uri = (path: string) => vscode.Uri.from({ scheme: 'e2b', authority: sandbox.sandboxId, path });

  before(async () => {
    services = (await extensionApi()).services;
    sandbox = await Sandbox.create({ ...(await sdkOptions()), metadata: { suite: 'files' } });
    root = uri('/home/user');
    await sandbox.files.write('/home/user/hello.txt', 'hello from the sandbox\n');
  });

  after(async () => {
    await sandbox?.kill().catch(() => false);
  });

  it('lists and stats sandbox files with real sizes and times', async () => {
    const entries = await vscode.workspace.fs.readDirectory(root);
    assert.ok(entries.some(([name, type]) => name === 'hello.txt' && type === vscode.FileType.File));
    const stat = await vscode.workspace.fs.stat(uri('/home/user/hello.txt'));
    assert.equal(stat.size, 'hello from the sandbox\n'.length);
    const info = await sandbox.files.getInfo('/home/user/hello.txt');
    assert.equal(stat.mtime, info.modifiedTime!.getTime());
    assert.equal((await vscode.workspace.fs.stat(root)).type, vscode.FileType.Directory);
  });

  it('opens, edits and saves a file in an editor; the sandbox has the new content', async () => {
    const doc = await vscode.workspace.openTextDocument(uri('/home/user/hello.txt'));
    assert.equal(doc.getText(), 'hello from the sandbox\n');
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((edit) => edit.insert(new vscode.Position(1, 0), 'edited in VS Code\n'));
    assert.equal(await doc.save(), true);
    assert.equal(await sandbox.files.read('/home/user/hello.txt'), 'hello from the sandbox\nedited in VS Code\n');
    const owner = await sandbox.commands.run('stat -c %U /home/user/hello.txt');
    assert.equal(owner.stdout.trim(), 'user');
  });

  it('keeps binary files byte for byte', async () => {
    const bytes = new Uint8Array(256 * 4).map((_, i) => i % 256);
    await vscode.workspace.fs.writeFile(uri('/home/user/all-bytes.bin'), bytes);
    const back = await sandbox.files.read('/home/user/all-bytes.bin', { format: 'bytes' });
    assert.deepEqual(Buffer.from(back), Buffer.from(bytes));
    assert.deepEqual(Buffer.from(await vscode.workspace.fs.readFile(uri('/home/user/all-bytes.bin'))), Buffer.from(bytes));
  });

  it('creates, renames, copies and deletes through workspace.fs', async () => {
    await vscode.workspace.fs.createDirectory(uri('/home/user/project/src'));
    await vscode.workspace.fs.writeFile(uri('/home/user/project/src/a.py'), new TextEncoder().encode('print(1)\n'));
    await vscode.workspace.fs.rename(uri('/home/user/project/src/a.py'), uri('/home/user/project/src/b.py'));
    assert.equal(await sandbox.files.exists('/home/user/project/src/a.py'), false);
    assert.equal(await sandbox.files.read('/home/user/project/src/b.py'), 'print(1)\n');
    await vscode.workspace.fs.copy(uri('/home/user/project'), uri('/home/user/project-copy'));
    assert.equal(await sandbox.files.read('/home/user/project-copy/src/b.py'), 'print(1)\n');
    await vscode.workspace.fs.delete(uri('/home/user/project'), { recursive: true });
    assert.equal(await sandbox.files.exists('/home/user/project'), false);
  });

  it('reports typed errors', async () => {
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.stat(uri('/home/user/missing.txt'))),
      (err: vscode.FileSystemError) => err.code === 'FileNotFound',
    );
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.rename(uri('/home/user/all-bytes.bin'), uri('/home/user/hello.txt'), { overwrite: false })),
      (err: vscode.FileSystemError) => err.code === 'FileExists',
    );
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.readFile(uri('/home/user'))),
      (err: vscode.FileSystemError) => err.code === 'FileIsADirectory',
    );
    // workspace.fs creates missing parents itself; the provider's own contract is checked directly.
    await assert.rejects(
      services.files.writeFile(uri('/no/such/dir/x.txt'), new Uint8Array(1), { create: true, overwrite: false }),
      (err: vscode.FileSystemError) => err.code === 'FileNotFound',
    );
    await assert.rejects(
      services.files.writeFile(uri('/home/user/new.txt'), new Uint8Array(1), { create: false, overwrite: true }),
      (err: vscode.FileSystemError) => err.code === 'FileNotFound',
    );
    await assert.rejects(
      services.files.writeFile(uri('/home/user/hello.txt'), new Uint8Array(1), { create: true, overwrite: false }),
      (err: vscode.FileSystemError) => err.code === 'FileExists',
    );
    await assert.rejects(services.files.createDirectory(uri('/home/user')), (err: vscode.FileSystemError) => err.code === 'FileExists');
  });

  it('sees files created inside the sandbox through the watcher', async () => {
    const created: string[] = [];
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, '**/*'));
    watcher.onDidCreate((u) => created.push(u.path));
    try {
      // The watch starts asynchronously (VS Code, the provider, envd): live once a probe file shows up.
      let probe = 0;
      await pokeUntil(
        'the watcher to be live',
        () => sandbox.files.write(`/home/user/watch-probe-${probe++}`, ''),
        () => created.some((p) => p.startsWith('/home/user/watch-probe-')),
      );
      await sandbox.commands.run('mkdir -p /home/user/agent-output && echo result > /home/user/agent-output/report.txt');
      await waitFor('the watcher to report the new file', () => created.includes('/home/user/agent-output/report.txt'), 15_000);
    } finally {
      watcher.dispose();
    }
  });

  it('updates an open editor when the file changes inside the sandbox', async () => {
    await sandbox.files.write('/home/user/live.txt', 'version 1\n');
    const doc = await vscode.workspace.openTextDocument(uri('/home/user/live.txt'));
    await vscode.window.showTextDocument(doc);
    const changed: string[] = [];
    const listener = services.files.onDidChangeFile((batch) => changed.push(...batch.map((e) => e.uri.path)));
    const watching = services.files.watch(uri('/home/user/live.txt'), { recursive: false, excludes: [] });
    try {
      // A file is watched through its directory: live once a sibling probe file is reported.
      let probe = 0;
      await pokeUntil(
        'the watch to be live',
        () => sandbox.files.write(`/home/user/live-probe-${probe++}`, ''),
        () => changed.some((p) => p.startsWith('/home/user/live-probe-')),
      );
      await sandbox.commands.run('echo "version 2" > /home/user/live.txt');
      await waitFor('the editor to show the new content', () => doc.getText() === 'version 2\n', 15_000);
    } finally {
      watching.dispose();
      listener.dispose();
    }
  });

  it('uploads from and downloads to the local disk', async () => {
    const os = await import('node:os');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2b-transfer-'));
    const local = path.join(dir, 'data.bin');
    fs.writeFileSync(local, Buffer.alloc(3 * 1024 * 1024, 7));
    const uploaded = await vscode.commands.executeCommand<string[]>('e2b.uploadToSandbox', root, [vscode.Uri.file(local)]);
    assert.deepEqual(uploaded, ['/home/user/data.bin']);
    assert.equal((await sandbox.files.getInfo('/home/user/data.bin')).size, 3 * 1024 * 1024);
    const target = vscode.Uri.file(path.join(dir, 'back.bin'));
    await vscode.commands.executeCommand('e2b.downloadFromSandbox', uri('/home/user/data.bin'), target);
    assert.ok(fs.readFileSync(target.fsPath).equals(fs.readFileSync(local)));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says the sandbox is unavailable once it is killed, without resuming anything', async () => {
    const doomed = await Sandbox.create(await sdkOptions());
    const file = vscode.Uri.from({ scheme: 'e2b', authority: doomed.sandboxId, path: '/home/user' });
    await vscode.workspace.fs.readDirectory(file);
    await vscode.commands.executeCommand('e2b.killSandbox', doomed.sandboxId, { confirm: false });
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.readDirectory(file)),
      (err: vscode.FileSystemError) => err.code === 'Unavailable',
    );
  });
});
