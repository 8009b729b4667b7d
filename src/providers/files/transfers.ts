// Uploads and downloads between the local disk and a sandbox, streamed both ways (large files
// never sit in memory), with progress and cancellation.
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Sandbox } from 'e2b';

export type ProgressReport = (bytesDone: number, bytesTotal: number) => void;

function counting(total: number, report: ProgressReport): Transform {
  let done = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      report(done, total);
      callback(null, chunk);
    },
  });
}

export async function uploadFile(
  sandbox: Sandbox,
  localPath: string,
  sandboxPath: string,
  report: ProgressReport,
  signal?: AbortSignal,
): Promise<void> {
  const { size } = await stat(localPath);
  const body = createReadStream(localPath).pipe(counting(size, report));
  await sandbox.files.write(sandboxPath, Readable.toWeb(body) as unknown as ReadableStream, { signal, requestTimeoutMs: 0 });
}

export async function downloadFile(
  sandbox: Sandbox,
  sandboxPath: string,
  localPath: string,
  report: ProgressReport,
  signal?: AbortSignal,
): Promise<void> {
  const { size } = await sandbox.files.getInfo(sandboxPath);
  const stream = await sandbox.files.read(sandboxPath, { format: 'stream', signal, requestTimeoutMs: 0 });
  await pipeline(
    Readable.fromWeb(stream as unknown as WebReadableStream<Uint8Array>),
    counting(size, report),
    createWriteStream(localPath),
    { signal },
  );
}
