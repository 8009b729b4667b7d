// The streaming multipart/form-data reader (src/agent/files/multipart.ts): the same parts come out
// however the body is split into chunks (boundaries and header ends split included), bytes that
// only look like a boundary stay body, and a body that is cut short or malformed is an error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { multipartBoundary, MultipartError, readMultipart } from '../../src/agent/files/multipart';

const BOUNDARY = 'xYzZY';

interface ReadPart {
  headers: Record<string, string>;
  name?: string;
  filename?: string;
  body: string;
}

async function* chunked(body: Buffer, sizes: (i: number) => number): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < body.length; i++) {
    const size = Math.max(1, sizes(i));
    yield body.subarray(at, at + size);
    at += size;
  }
}

async function readAll(source: AsyncIterable<Buffer | string>, boundary = BOUNDARY): Promise<ReadPart[]> {
  const out: ReadPart[] = [];
  for await (const part of readMultipart(source, boundary)) {
    const chunks: Buffer[] = [];
    for await (const chunk of part.body) chunks.push(Buffer.from(chunk));
    out.push({ headers: part.headers, name: part.name, filename: part.filename, body: Buffer.concat(chunks).toString('latin1') });
  }
  return out;
}

// Body bytes that come close to the delimiter without being one.
const tricky = `line\r\n--${BOUNDARY.slice(0, 3)}\r\n--${BOUNDARY}x not a boundary\r\n-${BOUNDARY}\r\n\r\n--`;
const body = Buffer.from(
  [
    'preamble to ignore\r\n',
    `--${BOUNDARY}\r\n`,
    'Content-Disposition: form-data; name="file"; filename="/home/user/dir/a b.txt"\r\n',
    'Content-Type: application/octet-stream\r\n',
    '\r\n',
    tricky,
    `\r\n--${BOUNDARY}  \r\n`,
    'content-disposition: form-data; name="empty"\r\n',
    '\r\n',
    `\r\n--${BOUNDARY}\r\n`,
    '\r\n',
    'no headers at all',
    `\r\n--${BOUNDARY}--\r\n`,
    'epilogue to ignore',
  ].join(''),
  'latin1',
);
const expected: ReadPart[] = [
  {
    headers: {
      'content-disposition': 'form-data; name="file"; filename="/home/user/dir/a b.txt"',
      'content-type': 'application/octet-stream',
    },
    name: 'file',
    filename: '/home/user/dir/a b.txt',
    body: tricky,
  },
  { headers: { 'content-disposition': 'form-data; name="empty"' }, name: 'empty', filename: undefined, body: '' },
  { headers: {}, name: undefined, filename: undefined, body: 'no headers at all' },
];

async function rejectsWith(source: AsyncIterable<Buffer | string>, message: string | RegExp): Promise<void> {
  await assert.rejects(
    readAll(source),
    (err: unknown) => err instanceof MultipartError && (typeof message === 'string' ? err.message === message : message.test(err.message)),
  );
}

describe('multipart/form-data', () => {
  it('takes the boundary from the Content-Type', () => {
    assert.equal(multipartBoundary(`multipart/form-data; boundary=${BOUNDARY}`), BOUNDARY);
    assert.equal(multipartBoundary('multipart/form-data; boundary="with space"'), 'with space');
    assert.equal(multipartBoundary('Multipart/Form-Data; BOUNDARY=b'), 'b');
    assert.equal(multipartBoundary('application/json; boundary=b'), undefined);
    assert.equal(multipartBoundary('multipart/form-data'), undefined);
    assert.equal(multipartBoundary(`multipart/form-data; boundary=${'b'.repeat(201)}`), undefined);
    assert.equal(multipartBoundary(undefined), undefined);
  });

  it('reads parts, their headers and bodies, skipping preamble and epilogue', async () => {
    assert.deepEqual(await readAll(chunked(body, () => body.length)), expected);
  });

  it('reads the same parts however the body is split', async () => {
    assert.deepEqual(await readAll(chunked(body, () => 1)), expected, 'byte by byte');
    for (let split = 1; split < body.length; split++) {
      assert.deepEqual(await readAll(chunked(body, (i) => (i === 0 ? split : body.length))), expected, `split at ${split}`);
    }
    const sizes = [7, 1, 2, 13, 3, 5];
    assert.deepEqual(await readAll(chunked(body, (i) => sizes[i % sizes.length])), expected);
  });

  it('accepts string chunks and bare LF after a boundary', async () => {
    const lf = `--${BOUNDARY}\nContent-Disposition: form-data; name="a"\r\n\r\nA\r\n--${BOUNDARY}--`;
    assert.deepEqual(
      await readAll(
        (async function* () {
          yield lf;
        })(),
      ),
      [{ headers: { 'content-disposition': 'form-data; name="a"' }, name: 'a', filename: undefined, body: 'A' }],
    );
  });

  it('skips what the consumer leaves unread of a part', async () => {
    const names: string[] = [];
    for await (const part of readMultipart(
      chunked(body, () => 4),
      BOUNDARY,
    ))
      names.push(part.name ?? '(none)');
    assert.deepEqual(names, ['file', 'empty', '(none)']);
  });

  it('reads no parts from a body that closes right away', async () => {
    assert.deepEqual(await readAll(chunked(Buffer.from(`--${BOUNDARY}--\r\n`), () => 3)), []);
  });

  it('refuses bodies that end early or have no boundary', async () => {
    const one = (text: string) => chunked(Buffer.from(text), () => 5);
    await rejectsWith(one('no boundary in here'), 'no multipart boundary found');
    await rejectsWith(one(`x--${BOUNDARY}\r\n`), 'no multipart boundary found');
    await rejectsWith(one(`--${BOUNDARY}\r\nContent-Type: a\r\n`), 'unexpected end of multipart body');
    await rejectsWith(one(`--${BOUNDARY}\r\n\r\nbody without its closing boundary`), 'unexpected end of multipart body');
    await rejectsWith(one(`--${BOUNDARY}\r\n\r\nbody\r\n--${BOUNDARY}`), 'unexpected end of multipart body');
    await rejectsWith(one(`--${BOUNDARY}\r\nnot a header\r\n\r\nx\r\n--${BOUNDARY}--`), 'malformed part header: "not a header"');
  });

  it('refuses a preamble or part headers that never end', async () => {
    await rejectsWith(
      chunked(Buffer.alloc(65 * 1024, 'a'), () => 4096),
      'no multipart boundary found',
    );
    const endless = Buffer.concat([Buffer.from(`--${BOUNDARY}\r\n`), Buffer.alloc(65 * 1024, 'h')]);
    await rejectsWith(
      chunked(endless, () => 4096),
      'part headers too large',
    );
  });
});
