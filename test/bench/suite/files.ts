// A 10 MB sandbox file through the e2b: file system: read with workspace.fs, opened as a text
// document and in an editor, edited and saved. Each sample uses fresh files (no cached document).
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import { sdkOptions } from '../../suite/helpers';
import { envNumber, progress, summary, timed } from './util';

const SIZE = 10 * 1024 * 1024;

function tenMegabytes(): string {
  const line = `${'0123456789abcdef'.repeat(6)}bench\n`; // 102 bytes
  const text = line.repeat(Math.ceil(SIZE / line.length));
  return text.slice(0, SIZE - 1) + '\n';
}

export async function benchFiles() {
  const iterations = envNumber('E2B_BENCH_FILE_ITERATIONS', 5);
  const opts = await sdkOptions();
  const sandbox = await Sandbox.create('base', { ...opts, timeoutMs: 20 * 60_000, metadata: { bench: 'files' } });
  const uri = (path: string) => vscode.Uri.from({ scheme: 'e2b', authority: sandbox.sandboxId, path });
  const content = tenMegabytes();
  const readFile: number[] = [];
  const openDocument: number[] = [];
  const showEditor: number[] = [];
  const save: number[] = [];
  try {
    progress(`files: writing ${2 * (iterations + 1)} files of 10 MB`);
    for (let i = 0; i <= iterations; i++) {
      await sandbox.files.write(`/home/user/read-${i}.txt`, content);
      await sandbox.files.write(`/home/user/open-${i}.txt`, content);
    }
    // Sample 0 warms up (first connection to the sandbox, first large document).
    for (let i = 0; i <= iterations; i++) {
      const read = await timed(() => vscode.workspace.fs.readFile(uri(`/home/user/read-${i}.txt`)));
      if (read.value.byteLength !== SIZE) throw new Error(`read ${read.value.byteLength} bytes`);
      const open = await timed(() => vscode.workspace.openTextDocument(uri(`/home/user/open-${i}.txt`)));
      const doc = open.value;
      if (doc.lineCount < 100_000) throw new Error(`the document has ${doc.lineCount} lines`);
      const shown = await timed(() => vscode.window.showTextDocument(doc, { preview: false }));
      await shown.value.edit((edit) => edit.insert(new vscode.Position(0, 0), 'edited\n'));
      const saved = await timed(() => doc.save());
      if (!saved.value) throw new Error('save failed');
      const info = await sandbox.files.getInfo(`/home/user/open-${i}.txt`);
      if (info.size !== SIZE + 'edited\n'.length) throw new Error(`the saved file has ${info.size} bytes`);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      if (i === 0) continue;
      readFile.push(read.ms);
      openDocument.push(open.ms);
      showEditor.push(shown.ms);
      save.push(saved.ms);
    }
    return {
      bytes: SIZE,
      fs_read_file: summary(readFile),
      open_text_document: summary(openDocument),
      show_text_document: summary(showEditor),
      save: summary(save),
    };
  } finally {
    await sandbox.kill().catch(() => false);
  }
}
