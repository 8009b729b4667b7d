// A 10 MB sandbox file through the e2b: file system: read with workspace.fs, opened as a text
// document and in an editor, edited and saved. Each sample uses fresh files (no cached document).
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { E2BExtensionApi } from '../../../src/extension';
import { VIA_SDK_ENV } from '../../../src/providers/files/envd-file-http';
import { sdkOptions } from '../../suite/helpers';
import { envNumber, progress, restore, summary, timeCalls, timed } from './util';

const SIZE = 10 * 1024 * 1024;

function tenMegabytes(): string {
  const line = `${'0123456789abcdef'.repeat(6)}bench\n`; // 102 bytes
  const text = line.repeat(Math.ceil(SIZE / line.length));
  return text.slice(0, SIZE - 1) + '\n';
}

/** Logs each call of `methods` on `object` (its path, and what it answered or threw) into `log`. */
function recordCalls<T extends object>(object: T, methods: (keyof T & string)[], log: string[]): { dispose(): void } {
  const saved = methods.map((method) => [method, Object.prototype.hasOwnProperty.call(object, method), object[method]] as const);
  for (const [method, , original] of saved) {
    const call = original as unknown as (uri: vscode.Uri, ...rest: unknown[]) => Promise<unknown>;
    (object as Record<string, unknown>)[method] = async (uri: vscode.Uri, ...rest: unknown[]) => {
      try {
        const answer = await call.call(object, uri, ...rest);
        const stat = answer as vscode.FileStat | undefined;
        log.push(`${method} ${uri.path} -> ${stat && 'mtime' in stat ? `mtime ${stat.mtime} size ${stat.size}` : 'ok'}`);
        return answer;
      } catch (err) {
        log.push(`${method} ${uri.path} threw ${(err as Error).name}: ${(err as Error).message}`);
        throw err;
      }
    };
  }
  return { dispose: () => saved.reverse().forEach(([method, own, original]) => restore(object, method, own, original)) };
}

export async function benchFiles(api: E2BExtensionApi) {
  const iterations = envNumber('E2B_BENCH_FILE_ITERATIONS', 5);
  const opts = await sdkOptions();
  const sandbox = await Sandbox.create('base', { ...opts, timeoutMs: 20 * 60_000, metadata: { bench: 'files' } });
  const uri = (path: string) => vscode.Uri.from({ scheme: 'e2b', authority: sandbox.sandboxId, path });
  const content = tenMegabytes();
  const readFile: number[] = [];
  const openDocument: number[] = [];
  const showEditor: number[] = [];
  const save: number[] = [];
  // The file system provider's share of opening and saving (its readFile / writeFile calls).
  const providerRead: number[] = [];
  const providerWrite: number[] = [];
  // The same transfers straight through the SDK, for comparison.
  const sdkWrite: number[] = [];
  const sdkRead: number[] = [];
  // workspace.fs through the provider's direct /files requests and, alternating with them, through
  // the SDK's calls (what the provider used before): the same run's A/B.
  const fsRead = { direct: [] as number[], sdk: [] as number[] };
  const fsWrite = { direct: [] as number[], sdk: [] as number[] };
  const spent: Record<string, number> = {};
  const probes = [timeCalls(api.services.files, 'readFile', spent), timeCalls(api.services.files, 'writeFile', spent)];
  // What the provider was asked and answered during a save: says why one fails (VS Code's own
  // refusal, e.g. a "file is newer" conflict after a stat, or the provider's error).
  const calls: string[] = [];
  probes.push(recordCalls(api.services.files, ['stat', 'writeFile'], calls));
  try {
    progress(`files: writing ${2 * (iterations + 1)} files of 10 MB`);
    for (let i = 0; i <= iterations; i++) {
      sdkWrite.push((await timed(() => sandbox.files.write(`/home/user/read-${i}.txt`, content))).ms);
      await sandbox.files.write(`/home/user/open-${i}.txt`, content);
      sdkRead.push((await timed(() => sandbox.files.read(`/home/user/read-${i}.txt`, { format: 'bytes' }))).ms);
    }
    // Sample 0 warms up (first connection to the sandbox, first large document).
    for (let i = 0; i <= iterations; i++) {
      const read = await timed(() => vscode.workspace.fs.readFile(uri(`/home/user/read-${i}.txt`)));
      if (read.value.byteLength !== SIZE) throw new Error(`read ${read.value.byteLength} bytes`);
      spent.readFile = 0;
      spent.writeFile = 0;
      const open = await timed(() => vscode.workspace.openTextDocument(uri(`/home/user/open-${i}.txt`)));
      const openProvider = spent.readFile;
      const doc = open.value;
      if (doc.lineCount < 100_000) throw new Error(`the document has ${doc.lineCount} lines`);
      const shown = await timed(() => vscode.window.showTextDocument(doc, { preview: false }));
      await shown.value.edit((edit) => edit.insert(new vscode.Position(0, 0), 'edited\n'));
      spent.writeFile = 0;
      calls.length = 0;
      const saved = await timed(() => doc.save());
      const saveProvider = spent.writeFile;
      if (!saved.value)
        throw new Error(`save failed (sample ${i}, dirty ${doc.isDirty}); the provider saw: ${calls.join('; ') || 'no calls'}`);
      const info = await sandbox.files.getInfo(`/home/user/open-${i}.txt`);
      if (info.size !== SIZE + 'edited\n'.length) throw new Error(`the saved file has ${info.size} bytes`);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const bytes = read.value;
      for (const via of i % 2 === 0 ? (['direct', 'sdk'] as const) : (['sdk', 'direct'] as const)) {
        if (via === 'sdk') process.env[VIA_SDK_ENV] = '1';
        try {
          const again = await timed(() => vscode.workspace.fs.readFile(uri(`/home/user/read-${i}.txt`)));
          if (again.value.byteLength !== SIZE) throw new Error(`read ${again.value.byteLength} bytes`);
          const written = await timed(() => vscode.workspace.fs.writeFile(uri(`/home/user/write-${via}-${i}.txt`), bytes));
          if (i > 0) fsRead[via].push(again.ms);
          if (i > 0) fsWrite[via].push(written.ms);
        } finally {
          delete process.env[VIA_SDK_ENV];
        }
      }
      if (i === 0) continue;
      readFile.push(read.ms);
      openDocument.push(open.ms);
      showEditor.push(shown.ms);
      save.push(saved.ms);
      providerRead.push(openProvider);
      providerWrite.push(saveProvider);
    }
    return {
      bytes: SIZE,
      fs_read_file: summary(readFile),
      open_text_document: summary(openDocument),
      open_text_document_provider_read: summary(providerRead),
      show_text_document: summary(showEditor),
      save: summary(save),
      save_provider_write: summary(providerWrite),
      fs_read_file_direct: summary(fsRead.direct),
      fs_read_file_via_sdk: summary(fsRead.sdk),
      fs_write_file_direct: summary(fsWrite.direct),
      fs_write_file_via_sdk: summary(fsWrite.sdk),
      sdk_files_read: summary(sdkRead.slice(1)),
      sdk_files_write: summary(sdkWrite.slice(1)),
    };
  } finally {
    for (const probe of probes.reverse()) probe.dispose();
    await sandbox.kill().catch(() => false);
  }
}
