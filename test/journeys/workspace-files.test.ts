// "Open Sandbox Files in Workspace…" from every window a user starts in, driven through the
// workbench. From an empty window or a folder VS Code reloads into a new workspace: the sandbox
// folder must be there afterwards, beside the local one, with the open editors, their unsaved
// text and the sandbox terminal. From a saved workspace the folder is added in place. A window
// that VS Code brings back without the folders gets them back.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox } from 'e2b';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StartingPoint, Workbench } from './workbench';

async function openSandboxFiles(workbench: Workbench, sandboxId: string): Promise<void> {
  await workbench.command('E2B: Open Sandbox Files in Workspace');
  await workbench.pick(sandboxId);
  await workbench.answer(undefined, `Open files of ${sandboxId}`);
}

/** Types into a new untitled editor and into the workspace's local file, saving neither. */
async function leaveUnsavedEdits(workbench: Workbench, local: boolean): Promise<void> {
  const page = workbench.page;
  const typeInto = async (tab: string, text: string) => {
    await page.locator('.tabs-container .tab.active', { hasText: tab }).waitFor();
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(text);
    await workbench.waitFor(
      `${tab} to have unsaved changes`,
      async () => (await page.locator('.tabs-container .tab.dirty', { hasText: tab }).count()) > 0,
      30_000,
    );
  };
  await workbench.command('File: New Untitled Text File');
  await typeInto('Untitled', 'draft never saved');
  if (!local) return;
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'local-notes.txt' }).dblclick();
  await typeInto('local-notes.txt', 'unsaved line');
}

describe('Open Sandbox Files in Workspace', () => {
  let workbench: Workbench | undefined;
  after(async () => {
    await workbench?.close();
  });

  for (const start of ['folder', 'empty window', 'saved workspace'] as StartingPoint[]) {
    it(
      `from ${start === 'folder' ? 'a folder' : start === 'empty window' ? 'an empty window' : 'a saved workspace'}: the sandbox folder, the local one, the editors with their unsaved text and the sandbox terminal`,
      { timeout: 300_000 },
      async () => {
        await workbench?.close();
        workbench = await Workbench.open(start);
        const wb = workbench;
        const sandbox = await Sandbox.create({ ...wb.runtime.sdk, timeoutMs: 300_000 });
        await sandbox.files.write('/home/user/from-the-sandbox.txt', 'hello');
        const hasLocalFolder = start !== 'empty window';
        await leaveUnsavedEdits(wb, hasLocalFolder);
        await wb.command('E2B: Open Terminal in Sandbox');
        await wb.pick(sandbox.sandboxId);
        await wb.waitFor('the sandbox terminal', async () => /user@e2b/.test(await wb.terminalText()));

        await openSandboxFiles(wb, sandbox.sandboxId);
        const sandboxFolder = `E2B ${sandbox.sandboxId.slice(0, 8)}: /home/user`;
        const expected = hasLocalFolder ? ['workspace', sandboxFolder] : [sandboxFolder];
        await wb.waitFor(
          'both folders in the Explorer',
          async () => JSON.stringify(await wb.explorerRoots()) === JSON.stringify(expected),
          120_000,
        );
        await wb.waitForListed(sandboxFolder, 'from-the-sandbox.txt', 'the sandbox folder listed');
        await wb.waitFor('the editors back', async () => (await wb.tabs()).length === (hasLocalFolder ? 2 : 1), 60_000);
        const tabs = await wb.tabs();
        assert.ok(
          tabs.some((t) => t.dirty && /Untitled/.test(t.label)),
          `the untitled draft, unsaved: ${JSON.stringify(tabs)}`,
        );
        assert.equal(await wb.editorText('Untitled'), 'draft never saved');
        if (hasLocalFolder) {
          assert.ok(
            tabs.some((t) => t.dirty && t.label.includes('local-notes.txt')),
            `the local file, unsaved: ${JSON.stringify(tabs)}`,
          );
          assert.match(await wb.editorText('local-notes.txt'), /a local file\nunsaved line/);
        }
        await wb.waitFor('the sandbox terminal back', async () => (await wb.terminalNames()).some((n) => n.startsWith('E2B')));
      },
    );
  }

  it('a window that VS Code brings back without its folders gets them back, with the editors', { timeout: 300_000 }, async () => {
    await workbench?.close();
    workbench = await Workbench.open('folder');
    const wb = workbench;
    const sandbox = await Sandbox.create({ ...wb.runtime.sdk, timeoutMs: 300_000 });
    await sandbox.files.write('/home/user/from-the-sandbox.txt', 'hello');
    const sandboxFolder = `E2B ${sandbox.sandboxId.slice(0, 8)}: /home/user`;
    // What the extension writes down before adding the sandbox folder reloads the window...
    const storage = join(wb.dirs.userDataDir, 'User', 'globalStorage', 'e2b-local.e2b-sandboxes');
    mkdirSync(storage, { recursive: true });
    writeFileSync(
      join(storage, 'workspace-entry.json'),
      JSON.stringify({
        folder: `e2b://${sandbox.sandboxId}/home/user`,
        folderName: sandboxFolder,
        folders: [{ uri: pathToFileURL(wb.dirs.workspace).toString(), name: 'workspace' }],
        writtenAt: Date.now(),
        editors: [{ uri: 'untitled:Untitled-1', viewColumn: 1, active: true, unsavedText: 'draft never saved', languageId: 'plaintext' }],
        shells: [],
      }),
    );
    // ...and the new workspace as VS Code sometimes brings it back: "No Folder Opened".
    const workspaceFile = join(wb.dirs.userDataDir, 'User', 'Workspaces', 'Untitled-1.code-workspace');
    mkdirSync(dirname(workspaceFile), { recursive: true });
    writeFileSync(workspaceFile, JSON.stringify({ folders: [] }));
    await wb.enterWorkspaceFile(workspaceFile);

    await wb.waitFor(
      'both folders back in the Explorer',
      async () => JSON.stringify(await wb.explorerRoots()) === JSON.stringify(['workspace', sandboxFolder]),
    );
    // Putting the first folder back restarted the window once more: the editor comes back in the
    // window after that, where the sandbox folder shows collapsed.
    await wb.waitFor('the editor back', async () => (await wb.tabs()).length === 1);
    await wb.waitForListed(sandboxFolder, 'from-the-sandbox.txt', 'the sandbox folder listed');
    assert.equal(await wb.editorText('Untitled'), 'draft never saved');
    const saved = JSON.parse(readFileSync(workspaceFile, 'utf8')) as { folders: unknown[] };
    assert.equal(saved.folders.length, 2, `the workspace file lists both folders: ${JSON.stringify(saved)}`);
  });
});
