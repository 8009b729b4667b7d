// POST /files (protocol §2.4): multipart/form-data (parts named "file", filename = destination
// path) or application/octet-stream with ?path=, optionally gzip-encoded. Bodies are streamed
// to disk in bounded batches; parents are created and everything chowned to the user;
// X-Metadata-* headers replace the file's metadata.
import { constants } from 'node:fs';
import { FileHandle, open, stat } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import { Readable } from 'node:stream';
import { zlib } from '../lazy-zlib';
import { sendError, sendJson } from '../http-handler';
import { Metadata, validateMetadata } from '../filesystem/metadata';
import { InvalidPathError, NotADirectoryError, ensureDirs, resolveUserPath } from '../filesystem/paths';
import { UserAccount } from '../users';
import { requestCoding } from './encoding';
import { parseMediaType } from './media-type';
import { MultipartError, multipartBoundary, readMultipart } from './multipart';
import { FilesContext, authorize, headerValue, isClientGone, queryOf } from './request';

const WRITE_BATCH_BYTES = 1024 * 1024;

interface UploadedEntry {
  path: string;
  name: string;
  type: 'file';
  metadata?: Metadata;
}

/**
 * What a failed open or mkdir says to the client: a symlink to nowhere (404), to a place the user
 * may not write (403), or a path that cannot be resolved (400) is the caller's doing, not a 500.
 */
function errnoStatus(err: unknown): number {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 404;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 403;
    case 'ELOOP':
    case 'ENAMETOOLONG':
    case 'ENOTDIR':
    case 'EINVAL':
      return 400;
    default:
      return 500;
  }
}

/** A failure answered with `status` (after the rest of the request body is read). */
class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

class ClientGoneError extends Error {}

/** X-Metadata-<key>: <value> headers, keys lower-cased, first value of each. */
function metadataHeaders(req: IncomingMessage): Metadata {
  const metadata: Metadata = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!name.startsWith('x-metadata-') || !values || values.length === 0) continue;
    const key = name.slice('x-metadata-'.length);
    if (key) metadata[key] = values[0];
  }
  return metadata;
}

function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Errors of the request body itself: bad gzip, bad multipart framing. */
function isBadBody(err: unknown): boolean {
  if (err instanceof MultipartError) return true;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED';
}

function isAborted(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return e?.code === 'ECONNRESET' || e?.message === 'aborted';
}

async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    let { bytesWritten } = await handle.writev(pending);
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        rest.push(b.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}

/** Streams `body` into `path` (created or truncated), owned by the user. */
async function writeFile(
  path: string,
  body: AsyncIterable<Buffer>,
  user: UserAccount,
  metadata: Metadata,
  ctx: FilesContext,
): Promise<UploadedEntry> {
  try {
    await ensureDirs(dirname(path), user.uid, user.gid);
  } catch (err) {
    if (err instanceof NotADirectoryError) throw new UploadError(400, `error ensuring directories: ${err.message}`);
    throw new UploadError(isNoSpace(err) ? 507 : errnoStatus(err), `error ensuring directories: ${(err as Error).message}`);
  }
  let existed = false;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new UploadError(400, `path is a directory: ${path}`);
    existed = true;
  } catch (err) {
    if (err instanceof UploadError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UploadError(500, `error getting file info: ${(err as Error).message}`);
  }

  let handle: FileHandle;
  try {
    // Not O_TRUNC: ext4 flushes a file truncated to zero when it is closed (auto_da_alloc, its
    // guard for programs that rewrite files without fsync), tens of ms of the request for a
    // 10 MB save. The new content is written over the old, and the file cut to its length after.
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT, 0o666);
  } catch (err) {
    if (isNoSpace(err)) throw new UploadError(507, `not enough inodes available: ${(err as Error).message}`);
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw new UploadError(400, `path is a directory: ${path}`);
    throw new UploadError(errnoStatus(err), `error opening file: ${(err as Error).message}`);
  }
  try {
    await handle.chown(user.uid, user.gid);
    // A FIFO or a device cannot be cut to length (O_TRUNC left them alone too).
    const regular = (await handle.stat()).isFile();
    let written = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    try {
      for await (const chunk of body) {
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= WRITE_BATCH_BYTES) {
          await writeAll(handle, batch);
          written += batchBytes;
          batch = [];
          batchBytes = 0;
        }
      }
      await writeAll(handle, batch);
      written += batchBytes;
      if (regular) await handle.truncate(written);
    } catch (err) {
      // As O_TRUNC would have left it: what was written, and none of the old content after it.
      if (regular) await handle.truncate(written).catch(() => {});
      if (isNoSpace(err)) throw new UploadError(507, `not enough disk space available: ${(err as Error).message}`);
      if (isBadBody(err)) throw new UploadError(400, `error reading the request body: ${(err as Error).message}`);
      if (isAborted(err)) throw new ClientGoneError('the client went away');
      throw new UploadError(500, `error writing file: ${(err as Error).message}`);
    }
  } finally {
    await handle.close().catch(() => {});
  }

  const entry: UploadedEntry = { path, name: basename(path), type: 'file' };
  const wanted = Object.keys(metadata).length > 0;
  // Each upload replaces the whole set: an overwritten file must not keep old metadata.
  if (wanted || existed) {
    let result;
    try {
      result = await ctx.metadata.write(path, metadata);
    } catch (err) {
      throw new UploadError(500, `error writing file metadata: ${(err as Error).message}`);
    }
    if (result === 'no-space') throw new UploadError(507, 'not enough space for file metadata');
    if (result === 'ok' && wanted) entry.metadata = { ...metadata };
  }
  return entry;
}

/** Reads and drops whatever the client still sends, so it gets to see our answer. */
function drainRequest(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  req.unpipe();
  return new Promise((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
    req.resume();
  });
}

export async function handleUpload(req: IncomingMessage, res: ServerResponse, ctx: FilesContext): Promise<void> {
  const query = queryOf(req);
  const user = authorize(req, res, query, 'write', ctx);
  if (!user) return;
  const fail = async (status: number, message: string) => {
    await drainRequest(req);
    if (!res.destroyed) sendError(res, status, message);
  };

  const coding = requestCoding(headerValue(req, 'content-encoding'));
  if (!coding)
    return fail(
      400,
      `error decompressing request body: unsupported Content-Encoding: ${headerValue(req, 'content-encoding')}, supported: [gzip]`,
    );
  const metadata = metadataHeaders(req);
  const invalidMetadata = validateMetadata(metadata);
  if (invalidMetadata) return fail(400, `invalid metadata: ${invalidMetadata}`);

  const contentType = headerValue(req, 'content-type') ?? '';
  const mediaType = parseMediaType(contentType)?.type ?? '';
  const queryPath = query.get('path');
  const resolve = (requested: string): string => {
    try {
      return resolveUserPath(requested, user, ctx.settings.defaultWorkdir);
    } catch (err) {
      if (err instanceof InvalidPathError) throw new UploadError(400, `error resolving path: ${err.message}`);
      throw err;
    }
  };
  const stream: Readable = coding === 'gzip' ? req.pipe(zlib().createGunzip()) : req;
  // Node's default iterator destroys the stream (and so the socket) when a loop exits early; we
  // still have an answer to give then.
  const chunks = (): AsyncIterable<Buffer> => ({ [Symbol.asyncIterator]: () => stream.iterator({ destroyOnReturn: false }) });

  const uploaded: UploadedEntry[] = [];
  try {
    if (mediaType === 'application/octet-stream') {
      if (queryPath === null) throw new UploadError(400, 'path query parameter is required for raw body upload');
      uploaded.push(await writeFile(resolve(queryPath), chunks(), user, metadata, ctx));
    } else if (mediaType.startsWith('multipart/')) {
      const boundary = multipartBoundary(contentType);
      if (!boundary) throw new UploadError(400, 'error parsing multipart form: no boundary in Content-Type');
      for await (const part of readMultipart(chunks(), boundary)) {
        if (part.name !== 'file') continue; // other fields are ignored
        const requested = queryPath ?? part.filename;
        if (requested === undefined) throw new UploadError(400, 'error resolving path: filename not found in Content-Disposition header');
        const path = resolve(requested);
        if (uploaded.some((u) => u.path === path)) {
          const others = uploaded.filter((u) => u.path !== path).map((u) => u.path);
          throw new UploadError(
            400,
            `you cannot upload multiple files to the same path '${path}' in one upload request, only the first specified file was uploaded${others.length > 0 ? `, also the following files were uploaded: ${others.join(', ')}` : ''}`,
          );
        }
        uploaded.push(await writeFile(path, part.body, user, metadata, ctx));
      }
    } else {
      throw new UploadError(400, `unsupported content type: ${contentType}, expected multipart/form-data or application/octet-stream`);
    }
  } catch (err) {
    if (err instanceof ClientGoneError || isClientGone(err, res) || isAborted(err)) return;
    if (err instanceof UploadError) return fail(err.status, err.message);
    if (isBadBody(err)) return fail(400, `error reading form: ${(err as Error).message}`);
    throw err;
  }
  sendJson(res, 200, uploaded);
}
