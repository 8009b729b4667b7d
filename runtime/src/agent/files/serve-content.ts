// Serving one open file the way Go's http.ServeContent does (what envd's GET /files uses):
// Last-Modified/ETag with If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since and
// If-Range; single and multiple byte ranges (206, multipart/byteranges) and 416; Content-Type
// by extension or sniffing. A file up to WHOLE_READ_MAX goes out as one read and one write (far
// less CPU than 64 KiB stream chunks); larger ones and byte ranges are streamed.
import { randomBytes } from 'node:crypto';
import { FileHandle } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { sendError } from '../http-handler';
import { SNIFF_LENGTH, sniffContentType, typeByExtension } from './content-type';

export interface ServedFile {
  handle: FileHandle;
  /** Used for the extension-based Content-Type (envd passes the requested path). */
  name: string;
  size: number;
  mtimeMs: number;
  etag: string;
}

interface ByteRange {
  start: number;
  length: number;
}

type Condition = 'none' | 'true' | 'false';

const WHOLE_READ_MAX = 16 * 1024 * 1024;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `"…"` or `W/"…"` entries of an If-Match / If-None-Match list; "*" stays "*". */
function etagList(value: string): { tag: string; weak: boolean }[] {
  const out: { tag: string; weak: boolean }[] = [];
  const re = /\s*(\*|(W\/)?"[^"]*")\s*(,|$)/y;
  for (let m = re.exec(value); m && m[0] !== ''; m = re.exec(value)) {
    if (m[1] === '*') out.push({ tag: '*', weak: false });
    else out.push({ tag: m[1].replace(/^W\//, ''), weak: m[2] !== undefined });
  }
  return out;
}

function secondsOf(ms: number): number {
  return Math.floor(ms / 1000);
}

function parseHttpDate(value: string): number | undefined {
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : secondsOf(t);
}

function checkIfMatch(req: IncomingMessage, etag: string): Condition {
  const im = header(req, 'if-match');
  if (im === undefined) return 'none';
  return etagList(im).some((e) => e.tag === '*' || (!e.weak && e.tag === etag)) ? 'true' : 'false';
}

function checkIfUnmodifiedSince(req: IncomingMessage, mtimeMs: number): Condition {
  const ius = header(req, 'if-unmodified-since');
  const t = ius ? parseHttpDate(ius) : undefined;
  if (t === undefined) return 'none';
  return secondsOf(mtimeMs) <= t ? 'true' : 'false';
}

function checkIfNoneMatch(req: IncomingMessage, etag: string): Condition {
  const inm = header(req, 'if-none-match');
  if (inm === undefined) return 'none';
  return etagList(inm).some((e) => e.tag === '*' || e.tag === etag) ? 'false' : 'true';
}

function checkIfModifiedSince(req: IncomingMessage, mtimeMs: number): Condition {
  if (req.method !== 'GET' && req.method !== 'HEAD') return 'none';
  const ims = header(req, 'if-modified-since');
  const t = ims ? parseHttpDate(ims) : undefined;
  if (t === undefined) return 'none';
  return secondsOf(mtimeMs) <= t ? 'false' : 'true';
}

function checkIfRange(req: IncomingMessage, etag: string, mtimeMs: number): Condition {
  if (req.method !== 'GET' && req.method !== 'HEAD') return 'none';
  const ir = header(req, 'if-range');
  if (ir === undefined) return 'none';
  const trimmed = ir.trim();
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) return trimmed === etag ? 'true' : 'false';
  const t = parseHttpDate(trimmed);
  return t !== undefined && t === secondsOf(mtimeMs) ? 'true' : 'false';
}

class RangeError416 extends Error {
  constructor(
    message: string,
    readonly noOverlap: boolean,
  ) {
    super(message);
  }
}

/** Go's parseRange: undefined for no Range header. */
export function parseRange(value: string | undefined, size: number): ByteRange[] | undefined {
  if (!value) return undefined;
  if (!value.startsWith('bytes=')) throw new RangeError416('invalid range', false);
  const ranges: ByteRange[] = [];
  let noOverlap = false;
  for (const raw of value.slice('bytes='.length).split(',')) {
    const spec = raw.trim();
    if (!spec) continue;
    const dash = spec.indexOf('-');
    if (dash < 0) throw new RangeError416('invalid range', false);
    const first = spec.slice(0, dash).trim();
    const last = spec.slice(dash + 1).trim();
    if (first === '') {
      if (!/^\d+$/.test(last)) throw new RangeError416('invalid range', false);
      const suffix = Math.min(Number(last), size);
      if (suffix === 0) {
        noOverlap = true;
        continue;
      }
      ranges.push({ start: size - suffix, length: suffix });
      continue;
    }
    if (!/^\d+$/.test(first)) throw new RangeError416('invalid range', false);
    const start = Number(first);
    if (start >= size) {
      noOverlap = true;
      continue;
    }
    if (last === '') {
      ranges.push({ start, length: size - start });
      continue;
    }
    if (!/^\d+$/.test(last) || Number(last) < start) throw new RangeError416('invalid range', false);
    const end = Math.min(Number(last), size - 1);
    ranges.push({ start, length: end - start + 1 });
  }
  if (noOverlap && ranges.length === 0) throw new RangeError416('invalid range: failed to overlap', true);
  return ranges;
}

async function contentTypeOf(file: ServedFile): Promise<string> {
  const byName = typeByExtension(file.name);
  if (byName) return byName;
  const head = Buffer.alloc(Math.min(SNIFF_LENGTH, file.size));
  const { bytesRead } = head.length > 0 ? await file.handle.read(head, 0, head.length, 0) : { bytesRead: 0 };
  return sniffContentType(head.subarray(0, bytesRead));
}

async function sendRange(res: ServerResponse, file: ServedFile, range: ByteRange): Promise<void> {
  if (range.length === 0) return;
  const stream = file.handle.createReadStream({ start: range.start, end: range.start + range.length - 1, autoClose: false });
  await pipeline(stream, res, { end: false });
}

/** The file's `size` bytes (fewer if it shrank meanwhile: the response then ends short, as a stream's would). */
async function readWhole(file: ServedFile): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(file.size);
  let filled = 0;
  while (filled < file.size) {
    const { bytesRead } = await file.handle.read(bytes, filled, file.size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return bytes.subarray(0, filled);
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      res.off('drain', onDrain);
      reject(new Error('the client went away'));
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

function notModified(res: ServerResponse): void {
  res.removeHeader('content-type');
  res.removeHeader('content-length');
  res.removeHeader('content-encoding');
  if (res.hasHeader('etag')) res.removeHeader('last-modified');
  res.writeHead(304);
  res.end();
}

/** Answers the request from `file`; the caller closes the handle afterwards. */
export async function serveContent(req: IncomingMessage, res: ServerResponse, file: ServedFile): Promise<void> {
  if (file.mtimeMs > 0) res.setHeader('last-modified', new Date(file.mtimeMs).toUTCString());
  res.setHeader('etag', file.etag);

  let ifMatch = checkIfMatch(req, file.etag);
  if (ifMatch === 'none') ifMatch = checkIfUnmodifiedSince(req, file.mtimeMs);
  if (ifMatch === 'false') return sendError(res, 412, 'precondition failed');
  const ifNoneMatch = checkIfNoneMatch(req, file.etag);
  if (ifNoneMatch === 'false') {
    if (req.method === 'GET' || req.method === 'HEAD') return notModified(res);
    return sendError(res, 412, 'precondition failed');
  }
  if (ifNoneMatch === 'none' && checkIfModifiedSince(req, file.mtimeMs) === 'false') return notModified(res);
  let rangeHeader = header(req, 'range');
  if (rangeHeader && checkIfRange(req, file.etag, file.mtimeMs) === 'false') rangeHeader = undefined;

  const contentType = await contentTypeOf(file);
  let ranges: ByteRange[] | undefined;
  try {
    ranges = parseRange(rangeHeader, file.size);
  } catch (err) {
    if (!(err instanceof RangeError416)) throw err;
    if (err.noOverlap) res.setHeader('content-range', `bytes */${file.size}`);
    return sendError(res, 416, err.message);
  }
  // Go ignores range sets that ask for more than the whole file (an amplification guard).
  if (ranges && ranges.reduce((sum, r) => sum + r.length, 0) > file.size) ranges = undefined;
  res.setHeader('accept-ranges', 'bytes');

  if (!ranges || ranges.length === 0) {
    res.setHeader('content-type', contentType);
    res.setHeader('content-length', file.size);
    res.writeHead(200);
    if (req.method === 'HEAD') return void res.end();
    if (file.size <= WHOLE_READ_MAX) return void res.end(await readWhole(file));
    await sendRange(res, file, { start: 0, length: file.size });
    res.end();
    return;
  }

  if (ranges.length === 1) {
    const [r] = ranges;
    res.setHeader('content-type', contentType);
    res.setHeader('content-range', `bytes ${r.start}-${r.start + r.length - 1}/${file.size}`);
    res.setHeader('content-length', r.length);
    res.writeHead(206);
    if (req.method === 'HEAD') return void res.end();
    await sendRange(res, file, r);
    res.end();
    return;
  }

  // Several ranges: multipart/byteranges, laid out as Go's mime/multipart writer does.
  const boundary = randomBytes(30).toString('hex');
  const partHead = (r: ByteRange, first: boolean) =>
    `${first ? '' : '\r\n'}--${boundary}\r\nContent-Range: bytes ${r.start}-${r.start + r.length - 1}/${file.size}\r\nContent-Type: ${contentType}\r\n\r\n`;
  const closing = `\r\n--${boundary}--\r\n`;
  const total = ranges.reduce((sum, r, i) => sum + Buffer.byteLength(partHead(r, i === 0)) + r.length, 0) + closing.length;
  res.setHeader('content-type', `multipart/byteranges; boundary=${boundary}`);
  res.setHeader('content-length', total);
  res.writeHead(206);
  if (req.method === 'HEAD') return void res.end();
  for (const [i, r] of ranges.entries()) {
    if (!res.write(partHead(r, i === 0))) await drained(res);
    await sendRange(res, file, r);
  }
  res.end(closing);
}
