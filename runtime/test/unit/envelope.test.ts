// Connect stream framing (src/agent/connect/envelope.ts): envelopes come out whole however the
// bytes are split, a length over the limit is refused from the header alone, and a stream that
// stops inside an envelope is told apart from one that ends between them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Envelope, EnvelopeDecoder, encodeEnvelope, FLAG_COMPRESSED, FLAG_END_STREAM } from '../../src/agent/connect/envelope';

const messages: Envelope[] = [
  { flags: 0, data: Buffer.from('{"a":1}') },
  { flags: 0, data: Buffer.alloc(0) },
  { flags: FLAG_COMPRESSED, data: Buffer.alloc(300, 7) },
  { flags: FLAG_END_STREAM, data: Buffer.from('{}') },
];
const stream = Buffer.concat(messages.map((m) => encodeEnvelope(m.flags, m.data)));

function decodeInChunks(bytes: Buffer, sizes: (i: number) => number, limit = 1024): { envelopes: Envelope[]; partial: boolean } {
  const decoder = new EnvelopeDecoder(limit);
  const envelopes: Envelope[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes(i));
    envelopes.push(...decoder.push(bytes.subarray(at, at + size)));
    at += size;
  }
  return { envelopes, partial: decoder.hasPartial };
}

const plain = (envelopes: Envelope[]) => envelopes.map((e) => ({ flags: e.flags, data: Buffer.from(e.data) }));

describe('Connect envelopes', () => {
  it('writes 1 flag byte, a 4-byte big-endian length and the payload', () => {
    assert.deepEqual([...encodeEnvelope(FLAG_END_STREAM, Buffer.from('hi'))], [0x02, 0, 0, 0, 2, 0x68, 0x69]);
    assert.deepEqual([...encodeEnvelope(0, Buffer.alloc(0))], [0, 0, 0, 0, 0]);
    assert.equal(encodeEnvelope(0, Buffer.alloc(0x012345)).readUInt32BE(1), 0x012345);
  });

  it('decodes the same envelopes whether they come at once, byte by byte or split anywhere', () => {
    assert.deepEqual(plain(decodeInChunks(stream, () => stream.length).envelopes), messages);
    assert.deepEqual(plain(decodeInChunks(stream, () => 1).envelopes), messages);
    for (let split = 1; split < stream.length; split++) {
      const { envelopes, partial } = decodeInChunks(stream, (i) => (i === 0 ? split : stream.length));
      assert.deepEqual(plain(envelopes), messages, `split at ${split}`);
      assert.equal(partial, false);
    }
    const sizes = [3, 1, 7, 2, 300, 5, 11];
    assert.deepEqual(plain(decodeInChunks(stream, (i) => sizes[i % sizes.length]).envelopes), messages);
  });

  it('knows when the stream stopped inside an envelope', () => {
    // The first envelope is 12 bytes long.
    for (const cut of [1, 4, 5, 6, 11, 13, 16]) {
      const decoder = new EnvelopeDecoder(1024);
      const out = decoder.push(stream.subarray(0, cut));
      assert.equal(decoder.hasPartial, true, `cut at ${cut}`);
      assert.deepEqual(plain(out), cut > 12 ? [messages[0]] : []);
    }
    const whole = new EnvelopeDecoder(1024);
    whole.push(encodeEnvelope(0, Buffer.from('x')));
    assert.equal(whole.hasPartial, false);
  });

  it('refuses a length over the limit from the header, before the payload arrives', () => {
    const decoder = new EnvelopeDecoder(16);
    assert.deepEqual(
      plain(decoder.push(encodeEnvelope(0, Buffer.alloc(16, 1)))),
      [{ flags: 0, data: Buffer.alloc(16, 1) }],
      'the limit itself is allowed',
    );
    const header = Buffer.from([0, 0, 0, 0, 17]);
    assert.throws(() => new EnvelopeDecoder(16).push(header), { name: 'RangeError', message: 'message of 17 bytes exceeds the limit' });
    // The largest length the header can carry, split inside the header.
    const huge = new EnvelopeDecoder(64 * 1024 * 1024);
    assert.deepEqual(huge.push(Buffer.from([0, 0xff, 0xff])), []);
    assert.throws(() => huge.push(Buffer.from([0xff, 0xff])), { message: 'message of 4294967295 bytes exceeds the limit' });
  });

  it('refuses an oversized envelope that follows good ones in the same chunk', () => {
    const decoder = new EnvelopeDecoder(8);
    const chunk = Buffer.concat([encodeEnvelope(0, Buffer.from('ok')), Buffer.from([0, 0, 0, 1, 0])]);
    assert.throws(() => decoder.push(chunk), RangeError);
  });
});
