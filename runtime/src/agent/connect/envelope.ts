// Connect streaming framing: each message is 1 flag byte + 4-byte big-endian length + payload.

export const FLAG_COMPRESSED = 0x01;
export const FLAG_END_STREAM = 0x02;

export interface Envelope {
  flags: number;
  data: Buffer;
}

export function encodeEnvelope(flags: number, data: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + data.length);
  frame[0] = flags;
  frame.writeUInt32BE(data.length, 1);
  data.copy(frame, 5);
  return frame;
}

/** Splits a byte stream into envelopes as the bytes arrive (client-streaming requests). */
export class EnvelopeDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes: number) {}

  /** Adds bytes and returns every envelope now complete. Throws on an oversized message. */
  push(chunk: Buffer): Envelope[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Envelope[] = [];
    while (this.pending.length >= 5) {
      const length = this.pending.readUInt32BE(1);
      if (length > this.maxMessageBytes) throw new RangeError(`message of ${length} bytes exceeds the limit`);
      if (this.pending.length < 5 + length) break;
      out.push({ flags: this.pending[0], data: this.pending.subarray(5, 5 + length) });
      this.pending = this.pending.subarray(5 + length);
    }
    return out;
  }

  /** True when the stream ended in the middle of an envelope. */
  get hasPartial(): boolean {
    return this.pending.length > 0;
  }
}
