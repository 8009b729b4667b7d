// GET /files: a file's bytes (protocol §2.4). Identity responses follow http.ServeContent
// (ranges, conditional requests); `Accept-Encoding: gzip` streams it gzip-encoded instead,
// except for range and conditional requests, which stay identity as upstream.
import { Stats } from 'node:fs';
import { FileHandle, open, stat } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { zlib } from '../lazy-zlib';
import { sendError } from '../http-handler';
import { InvalidPathError, resolveUserPath } from '../filesystem/paths';
import { typeByExtension } from './content-type';
import { identityAcceptable, negotiateEncoding } from './encoding';
import { formatMediaType } from './media-type';
import { FilesContext, authorize, headerValue, isClientGone, queryOf } from './request';
import { serveContent } from './serve-content';

// Large gzip output chunks: Node's fetch (undici) decodes a long gzip response of many small
// chunks ever more slowly (measured: 16 KiB chunks stall a 200 MB download; 256 KiB do not).
const GZIP_CHUNK = 256 * 1024;

function etagOf(st: Stats): string {
  return `"${st.ino.toString(16)}-${st.size.toString(16)}-${Math.round(st.mtimeMs * 1000).toString(16)}"`;
}

export async function handleDownload(req: IncomingMessage, res: ServerResponse, ctx: FilesContext): Promise<void> {
  const query = queryOf(req);
  const user = authorize(req, res, query, 'read', ctx);
  if (!user) return;
  const requested = query.get('path') ?? '';
  let path: string;
  try {
    path = resolveUserPath(requested, user, ctx.settings.defaultWorkdir);
  } catch (err) {
    if (err instanceof InvalidPathError) return sendError(res, 400, `error expanding and resolving path '${requested}': ${err.message}`);
    throw err;
  }

  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return sendError(res, 404, `path '${path}' does not exist`);
    return sendError(res, 500, `error checking if path exists '${path}': ${(err as Error).message}`);
  }
  if (info.isDirectory()) return sendError(res, 400, `path '${path}' is a directory`);

  const acceptEncoding = headerValue(req, 'accept-encoding');
  let coding = negotiateEncoding(acceptEncoding);
  if (!coding) return sendError(res, 406, 'no acceptable encoding found, supported: [gzip]');
  res.setHeader('vary', 'Accept-Encoding');
  const rangeOrConditional = ['range', 'if-modified-since', 'if-none-match', 'if-range'].some((h) => headerValue(req, h));
  if (rangeOrConditional) {
    if (!identityAcceptable(acceptEncoding))
      return sendError(res, 406, 'identity encoding not acceptable for Range or conditional request');
    coding = 'identity';
  }

  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    return sendError(res, 500, `error opening file '${path}': ${(err as Error).message}`);
  }
  try {
    const st = await handle.stat();
    res.setHeader('content-disposition', formatMediaType('inline', { filename: basename(path) }));
    if (coding === 'gzip') {
      res.setHeader('content-encoding', 'gzip');
      res.setHeader('content-type', typeByExtension(requested) ?? 'application/octet-stream');
      res.writeHead(200);
      if (req.method === 'HEAD') return void res.end();
      await pipeline(
        handle.createReadStream({ autoClose: false, highWaterMark: GZIP_CHUNK }),
        zlib().createGzip({ chunkSize: GZIP_CHUNK }),
        res,
      );
      return;
    }
    await serveContent(req, res, { handle, name: requested, size: st.size, mtimeMs: st.mtimeMs, etag: etagOf(st) });
  } catch (err) {
    if (isClientGone(err, res)) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, 500, `error reading file '${path}': ${(err as Error).message}`);
  } finally {
    await handle.close().catch(() => {});
  }
}
