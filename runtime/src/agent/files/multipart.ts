// A streaming multipart/form-data reader: parts come out one at a time with their bodies as
// byte streams, so a large upload is never held in memory (only a boundary's length of it).
import { parseMediaType } from './media-type';

export class MultipartError extends Error {}

const MAX_PREAMBLE = 64 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export interface FormPart {
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The form field name ("file" for uploads). */
  name?: string;
  /** The filename parameter as sent: for envd uploads a full path, directories kept. */
  filename?: string;
  /** The part's bytes; whatever the consumer leaves unread is skipped before the next part. */
  body: AsyncIterable<Buffer>;
}

/** The boundary of a multipart Content-Type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  const media = parseMediaType(contentType ?? '');
  if (!media || !media.type.startsWith('multipart/')) return undefined;
  const boundary = media.params.boundary;
  return boundary && boundary.length <= 200 ? boundary : undefined;
}

class Reader {
  buf: Buffer = Buffer.alloc(0);
  private eof = false;

  constructor(private readonly source: AsyncIterator<Buffer | string>) {}

  /** Appends the next chunk; false at the end of the input. */
  async fill(): Promise<boolean> {
    if (this.eof) return false;
    const next = await this.source.next();
    if (next.done) {
      this.eof = true;
      return false;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Ensures at least n bytes are buffered; false if the input ends first. */
  async need(n: number): Promise<boolean> {
    while (this.buf.length < n) if (!(await this.fill())) return false;
    return true;
  }

  consume(n: number): void {
    this.buf = this.buf.subarray(n);
  }

  /** Lets go of the source without consuming it further. */
  async release(): Promise<void> {
    await this.source.return?.();
  }

  async drainInput(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (await this.fill()) this.buf = Buffer.alloc(0);
  }
}

/**
 * After "--boundary" at `offset`: 'last' for "--", 'next' for optional blanks + line end (the
 * length of that tail in `tailLength`), 'not-boundary' when the bytes go on otherwise.
 */
async function boundaryTail(r: Reader, offset: number): Promise<{ kind: 'last' | 'next' | 'not-boundary'; tailLength: number }> {
  if (!(await r.need(offset + 2))) {
    if (r.buf.length === offset + 1 && r.buf[offset] === 0x0a) return { kind: 'next', tailLength: 1 };
    throw new MultipartError('unexpected end of multipart body');
  }
  if (r.buf[offset] === 0x2d && r.buf[offset + 1] === 0x2d) return { kind: 'last', tailLength: 2 };
  let i = offset;
  for (;;) {
    if (!(await r.need(i + 1))) throw new MultipartError('unexpected end of multipart body');
    const b = r.buf[i];
    if (b === 0x20 || b === 0x09) {
      i++;
      continue;
    }
    if (b === 0x0a) return { kind: 'next', tailLength: i + 1 - offset };
    if (b === 0x0d) {
      if (!(await r.need(i + 2))) throw new MultipartError('unexpected end of multipart body');
      if (r.buf[i + 1] === 0x0a) return { kind: 'next', tailLength: i + 2 - offset };
    }
    return { kind: 'not-boundary', tailLength: 0 };
  }
}

class PartBody implements AsyncIterable<Buffer> {
  finished = false;
  /** Set when the closing boundary ("--boundary--") ended this part. */
  last = false;

  constructor(
    private readonly r: Reader,
    private readonly delimiter: Buffer,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    // return() does not close the part: the reader skips what is left of it.
    return { next: () => this.next(), return: async () => ({ done: true, value: undefined }) };
  }

  async next(): Promise<IteratorResult<Buffer>> {
    const r = this.r;
    const d = this.delimiter;
    let searchFrom = 0;
    while (!this.finished) {
      const at = r.buf.indexOf(d, searchFrom);
      if (at >= 0) {
        const tail = await boundaryTail(r, at + d.length);
        if (tail.kind === 'not-boundary') {
          searchFrom = at + 1;
          continue;
        }
        const data = r.buf.subarray(0, at);
        r.consume(at + d.length + tail.tailLength);
        this.finished = true;
        this.last = tail.kind === 'last';
        if (data.length > 0) return { done: false, value: data };
        break;
      }
      // Everything but a possible start of the delimiter is body.
      const safe = r.buf.length - (d.length - 1);
      if (safe > 0) {
        const data = r.buf.subarray(0, safe);
        r.consume(safe);
        return { done: false, value: data };
      }
      searchFrom = 0;
      if (!(await r.fill())) throw new MultipartError('unexpected end of multipart body');
    }
    return { done: true, value: undefined };
  }

  async skipRest(): Promise<void> {
    while (!(await this.next()).done) {
      // discard
    }
  }
}

function parseHeaders(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.toString('utf8').split(/\r?\n/)) {
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError(`malformed part header: ${JSON.stringify(line.slice(0, 100))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in headers)) headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

export async function* readMultipart(source: AsyncIterable<Buffer | string>, boundary: string): AsyncGenerator<FormPart> {
  const r = new Reader(source[Symbol.asyncIterator]());
  try {
    yield* parts(r, boundary);
  } finally {
    await r.release();
  }
}

async function* parts(r: Reader, boundary: string): AsyncGenerator<FormPart> {
  const dashBoundary = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);

  // The preamble: anything up to the first "--boundary" that starts a line.
  let searchFrom = 0;
  for (;;) {
    const at = r.buf.indexOf(dashBoundary, searchFrom);
    if (at === 0 || (at > 0 && r.buf[at - 1] === 0x0a)) {
      const tail = await boundaryTail(r, at + dashBoundary.length);
      if (tail.kind === 'last') return void (await r.drainInput());
      if (tail.kind === 'next') {
        r.consume(at + dashBoundary.length + tail.tailLength);
        break;
      }
    }
    if (at >= 0) {
      searchFrom = at + 1;
      continue;
    }
    if (r.buf.length > MAX_PREAMBLE) throw new MultipartError('no multipart boundary found');
    searchFrom = Math.max(0, r.buf.length - dashBoundary.length);
    if (!(await r.fill())) throw new MultipartError('no multipart boundary found');
  }

  for (;;) {
    // Part headers end at an empty line (right away when the part has none).
    let headerBlock: Buffer;
    for (;;) {
      if (r.buf.length >= 2 && r.buf[0] === 0x0d && r.buf[1] === 0x0a) {
        headerBlock = Buffer.alloc(0);
        r.consume(CRLF.length);
        break;
      }
      const end = r.buf.indexOf(HEADER_END);
      if (end >= 0) {
        headerBlock = r.buf.subarray(0, end);
        r.consume(end + HEADER_END.length);
        break;
      }
      if (r.buf.length > MAX_HEADER_BYTES) throw new MultipartError('part headers too large');
      if (!(await r.fill())) throw new MultipartError('unexpected end of multipart body');
    }
    const headers = parseHeaders(headerBlock);
    const disposition = parseMediaType(headers['content-disposition'] ?? '');
    const body = new PartBody(r, delimiter);
    yield { headers, name: disposition?.params.name, filename: disposition?.params.filename, body };
    await body.skipRest();
    if (body.last) {
      await r.drainInput(); // the epilogue
      return;
    }
  }
}
