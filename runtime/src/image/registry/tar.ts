// A streaming reader of tar archives (ustar, with PAX and GNU long-name headers), enough for image
// layers. It only parses: what an entry may do to the file system is decided by the extractor.
export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'directory' | 'char-device' | 'block-device' | 'fifo' | 'other';

export interface TarEntry {
  type: TarEntryType;
  /** The type flag as found ('0', '5', …), for messages. */
  flag: string;
  path: string;
  linkpath: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
}

const BLOCK = 512;

class ByteReader {
  private buffered: Buffer[] = [];
  private length = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Buffers at least n bytes (fewer only at the end of the stream). */
  private async fill(n: number): Promise<void> {
    while (this.length < n && !this.done) {
      const { value, done } = await this.source.next();
      if (done) this.done = true;
      else if (value.length > 0) {
        this.buffered.push(value);
        this.length += value.length;
      }
    }
  }

  /** Exactly n bytes; undefined at a clean end of stream, an error when it ends in the middle. */
  async read(n: number): Promise<Buffer | undefined> {
    await this.fill(n);
    if (this.length === 0) return undefined;
    if (this.length < n) throw new Error('the archive ends in the middle of an entry');
    return this.take(n);
  }

  /** Up to n bytes as they arrive (at least one, unless n is 0). */
  async chunk(n: number): Promise<Buffer> {
    await this.fill(1);
    if (this.length === 0) throw new Error('the archive ends in the middle of an entry');
    return this.take(Math.min(n, this.length, this.buffered[0].length));
  }

  private take(n: number): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }
}

function cString(buf: Buffer, start: number, end: number): string {
  const field = buf.subarray(start, end);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

/** Octal, or GNU base-256 (high bit of the first byte set) for large values. */
function numeric(buf: Buffer, start: number, end: number): number {
  const field = buf.subarray(start, end);
  if (field[0] & 0x80) {
    let value = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i];
    return value;
  }
  const text = cString(buf, start, end).trim();
  return text ? parseInt(text, 8) : 0;
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
  return sum === numeric(header, 148, 156);
}

function typeOf(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char-device';
    case '4':
      return 'block-device';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(body.subarray(pos, space).toString(), 10);
    if (!Number.isInteger(len) || len <= 0) throw new Error('malformed PAX header');
    const record = body.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

export class TarReader {
  private readonly bytes: ByteReader;
  /** Body bytes of the current entry not yet read, and its padding. */
  private remaining = 0;
  private padding = 0;

  constructor(source: AsyncIterable<Buffer>) {
    this.bytes = new ByteReader(source[Symbol.asyncIterator]());
  }

  /** The next entry (the previous one's unread body is skipped); undefined at the end. */
  async next(): Promise<TarEntry | undefined> {
    await this.skipRest();
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const header = await this.bytes.read(BLOCK);
      if (!header || header.every((b) => b === 0)) return undefined;
      if (!checksumOk(header)) throw new Error('the archive is corrupt (bad header checksum)');
      const flag = String.fromCharCode(header[156]).replace('\0', '0');
      const size = numeric(header, 124, 136);
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (size > 1024 * 1024) throw new Error('an archive metadata header is too large');
        const body = (await this.bytes.read(size + pad(size))) ?? Buffer.alloc(0);
        const content = body.subarray(0, size);
        // A global header ('g') is taken for the next entry only: layers do not rely on it.
        if (flag === 'x' || flag === 'g') pax = { ...pax, ...parsePax(content) };
        else if (flag === 'L') longName = cString(content, 0, content.length);
        else if (flag === 'K') longLink = cString(content, 0, content.length);
        continue;
      }
      const magic = header.subarray(257, 263).toString('latin1');
      const prefix = magic.startsWith('ustar') ? cString(header, 345, 500) : '';
      const name = cString(header, 0, 100);
      const entry: TarEntry = {
        type: typeOf(flag),
        flag,
        path: pax.path ?? longName ?? (prefix ? `${prefix}/${name}` : name),
        linkpath: pax.linkpath ?? longLink ?? cString(header, 157, 257),
        mode: numeric(header, 100, 108) & 0o7777,
        uid: pax.uid !== undefined ? Number(pax.uid) : numeric(header, 108, 116),
        gid: pax.gid !== undefined ? Number(pax.gid) : numeric(header, 116, 124),
        mtime: pax.mtime !== undefined ? Number(pax.mtime) : numeric(header, 136, 148),
        size: pax.size !== undefined ? Number(pax.size) : size,
      };
      if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw new Error(`entry '${entry.path}' has a bad size`);
      // Links, directories, devices and FIFOs have no data whatever their size field says (as
      // Go's archive/tar, which wrote most layers, reads them).
      const dataSize = entry.type === 'file' || entry.type === 'other' ? entry.size : 0;
      this.remaining = dataSize;
      this.padding = pad(dataSize);
      return entry;
    }
  }

  /** The current entry's data, chunk by chunk. */
  async *body(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      const chunk = await this.bytes.chunk(this.remaining);
      this.remaining -= chunk.length;
      yield chunk;
    }
  }

  private async skipRest(): Promise<void> {
    while (this.remaining > 0) this.remaining -= (await this.bytes.chunk(this.remaining)).length;
    if (this.padding > 0) await this.bytes.read(this.padding);
    this.padding = 0;
  }
}

function pad(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
