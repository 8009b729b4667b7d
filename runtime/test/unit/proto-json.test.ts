// Reading proto3 JSON as clients send it (src/agent/connect/proto-json.ts), and what the Connect
// router (rpc.ts) answers to a body that is no JSON object or a stream cut inside a message:
// every malformed input is an invalid_argument that names the field, never a crash.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ConnectError } from '../../src/agent/connect/errors';
import { encodeEnvelope, EnvelopeDecoder, FLAG_COMPRESSED, FLAG_END_STREAM } from '../../src/agent/connect/envelope';
import {
  field,
  isObject,
  JsonObject,
  optionalBool,
  optionalBytes,
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalStringArray,
  optionalStringMap,
} from '../../src/agent/connect/proto-json';
import { RpcRouter } from '../../src/agent/connect/rpc';

const invalid = (message: string) => (err: unknown) =>
  err instanceof ConnectError && err.code === 'invalid_argument' && err.message === message;

describe('proto3 JSON fields', () => {
  it('finds a field by its lowerCamelCase or snake_case name; null is absent', () => {
    assert.equal(field({ processId: 1 }, 'processId'), 1);
    assert.equal(field({ process_id: 2 }, 'processId'), 2);
    assert.equal(field({ processId: 1, process_id: 2 }, 'processId'), 1, 'the JSON name wins');
    assert.equal(field({ processId: null, process_id: 2 }, 'processId'), undefined, 'null is not looked up again');
    assert.equal(field({}, 'cmd'), undefined);
    assert.equal(optionalString({ cmd: null }, 'cmd'), undefined);
  });

  it('tells objects from arrays and null', () => {
    assert.equal(isObject({}), true);
    assert.equal(isObject([]), false);
    assert.equal(isObject(null), false);
    assert.equal(isObject('{}'), false);
    assert.deepEqual(optionalObject({ config: { a: 1 } }, 'config'), { a: 1 });
    assert.throws(() => optionalObject({ config: [1] }, 'config'), invalid('field "config" must be an object'));
  });

  it('reads strings, booleans and string lists strictly', () => {
    assert.equal(optionalString({ path: '/x' }, 'path'), '/x');
    assert.throws(() => optionalString({ path: 1 }, 'path'), invalid('field "path" must be a string'));
    assert.equal(optionalBool({ stdin: false }, 'stdin'), false);
    assert.throws(() => optionalBool({ stdin: 'true' }, 'stdin'), invalid('field "stdin" must be a boolean'));
    assert.deepEqual(optionalStringArray({ args: ['-c', ''] }, 'args'), ['-c', '']);
    assert.throws(() => optionalStringArray({ args: ['-c', 1] }, 'args'), invalid('field "args" must be an array of strings'));
    assert.throws(() => optionalStringArray({ args: '-c' }, 'args'), invalid('field "args" must be an array of strings'));
  });

  it('reads string maps and names the entry that is not a string', () => {
    assert.deepEqual(optionalStringMap({ envs: { A: '1', B: '' } }, 'envs'), { A: '1', B: '' });
    assert.throws(() => optionalStringMap({ envs: { A: '1', B: 2 } }, 'envs'), invalid('field "envs.B" must be a string'));
    assert.throws(() => optionalStringMap({ envs: [] }, 'envs'), invalid('field "envs" must be an object of strings'));
  });

  it('reads integers as numbers or decimal strings, within bounds', () => {
    assert.equal(optionalInteger({ pid: 42 }, 'pid'), 42);
    assert.equal(optionalInteger({ pid: '42' }, 'pid'), 42);
    assert.equal(optionalInteger({ pid: ' 42 ' }, 'pid'), 42);
    assert.equal(optionalInteger({ n: '-3' }, 'n', -5, 5), -3);
    assert.equal(optionalInteger({ n: String(Number.MAX_SAFE_INTEGER) }, 'n'), Number.MAX_SAFE_INTEGER);
    const outOfRange = invalid(`field "pid" must be an integer between 0 and ${Number.MAX_SAFE_INTEGER}`);
    for (const pid of [
      1.5,
      '1.5',
      '0x10',
      '1e3',
      '',
      'abc',
      -1,
      '-1',
      true,
      [],
      {},
      Number.MAX_SAFE_INTEGER + 1,
      '9007199254740993',
      Infinity,
    ]) {
      assert.throws(() => optionalInteger({ pid }, 'pid'), outOfRange, JSON.stringify(pid));
    }
    assert.throws(() => optionalInteger({ size: 70000 }, 'size', 1, 65535), invalid('field "size" must be an integer between 1 and 65535'));
  });

  it('reads bytes as standard or URL-safe base64, padded or not', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x00, 0x41]);
    assert.deepEqual(optionalBytes({ data: bytes.toString('base64') }, 'data'), bytes);
    assert.deepEqual(optionalBytes({ data: bytes.toString('base64url') }, 'data'), bytes);
    assert.deepEqual(optionalBytes({ data: 'aGk' }, 'data'), Buffer.from('hi'));
    assert.deepEqual(optionalBytes({ data: '' }, 'data'), Buffer.alloc(0));
    for (const data of ['a b', 'aGk===', '*', 1, ['aGk=']])
      assert.throws(() => optionalBytes({ data }, 'data'), invalid('field "data" must be base64'), JSON.stringify(data));
  });

  it('reads enums by name or number', () => {
    const signals = { SIGNAL_UNSPECIFIED: 0, SIGNAL_SIGTERM: 15, SIGNAL_SIGKILL: 9 };
    assert.equal(optionalEnum({ signal: 'SIGNAL_SIGKILL' }, 'signal', signals), 9);
    assert.equal(optionalEnum({ signal: 15 }, 'signal', signals), 15);
    assert.equal(optionalEnum({ signal: 99 }, 'signal', signals), 99, 'an unknown number is kept, as proto3 does');
    const notOne = invalid('field "signal" must be one of SIGNAL_UNSPECIFIED, SIGNAL_SIGTERM, SIGNAL_SIGKILL');
    for (const signal of ['SIGKILL', 'toString', '__proto__', 1.5, true])
      assert.throws(() => optionalEnum({ signal }, 'signal', signals), notOne, String(signal));
  });
});

describe('Connect router with malformed requests', () => {
  let server: Server;
  let base: string;
  const received: JsonObject[] = [];

  before(async () => {
    const router = new RpcRouter();
    router.register('test.Echo', {
      Unary: { kind: 'unary', handle: (message) => ({ got: message }) },
      Watch: {
        kind: 'server-stream',
        handle: (message, _call, stream) => {
          stream.send({ got: message });
          stream.end();
        },
      },
      Upload: {
        kind: 'client-stream',
        handle: async (messages) => {
          received.length = 0;
          for await (const message of messages) received.push(message);
          return { count: received.length };
        },
      },
    });
    server = createServer((req, res) => void router.serve(req.url!, req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const unary = async (body: string | Buffer, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/test.Echo/Unary`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    // A Connect error body, or the echo handler's answer.
    return { status: res.status, body: (await res.json()) as { code: string; message: string; got?: unknown } };
  };
  const streamed = async (method: string, chunks: Buffer[], headers: Record<string, string> = {}) => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      },
    });
    const res = await fetch(`${base}/test.Echo/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+json', ...headers },
      body,
      duplex: 'half',
    } as RequestInit);
    const decoder = new EnvelopeDecoder(1 << 20);
    const envelopes = decoder.push(Buffer.from(await res.arrayBuffer()));
    assert.equal(decoder.hasPartial, false, 'the answer ends between envelopes');
    return {
      status: res.status,
      messages: envelopes.map((e) => ({ end: (e.flags & FLAG_END_STREAM) !== 0, json: JSON.parse(e.data.toString()) })),
    };
  };
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('answers a unary call, and takes an empty body as an empty message', async () => {
    assert.deepEqual(await unary('{"a":1}'), { status: 200, body: { got: { a: 1 } } });
    assert.deepEqual(await unary(''), { status: 200, body: { got: {} } });
    assert.deepEqual(await unary(gzipSync('{"z":true}'), { 'content-encoding': 'gzip' }), { status: 200, body: { got: { z: true } } });
  });

  it('refuses bodies that are not one JSON object, as invalid_argument', async () => {
    for (const body of ['{"a":', 'not json', '{"a":1}{"b":2}', '\uFEFF']) {
      const answer = await unary(body);
      assert.equal(answer.status, 400, body);
      assert.equal(answer.body.code, 'invalid_argument');
      assert.match(answer.body.message, /^request is not valid JSON: /);
    }
    for (const body of ['[]', '1', '"x"', 'null', 'true']) {
      assert.deepEqual(
        await unary(body),
        { status: 400, body: { code: 'invalid_argument', message: 'request message must be a JSON object' } },
        body,
      );
    }
    assert.deepEqual((await unary(Buffer.from('not gzip'), { 'content-encoding': 'gzip' })).body.code, 'invalid_argument');
    assert.deepEqual((await unary('{}', { 'content-encoding': 'br' })).body, {
      code: 'unimplemented',
      message: 'unsupported compression "br"',
    });
  });

  it('reads a client stream whose envelopes are split across chunks', async () => {
    const frames = Buffer.concat([
      encodeEnvelope(0, json({ n: 1 })),
      encodeEnvelope(FLAG_COMPRESSED, gzipSync(json({ n: 2 }))),
      encodeEnvelope(0, json({ n: 3 })),
      encodeEnvelope(FLAG_END_STREAM, json({})),
    ]);
    const chunks = [frames.subarray(0, 3), frames.subarray(3, 14), frames.subarray(14, 15), frames.subarray(15)];
    const answer = await streamed('Upload', chunks);
    assert.deepEqual(answer, {
      status: 200,
      messages: [
        { end: false, json: { count: 3 } },
        { end: true, json: {} },
      ],
    });
    assert.deepEqual(received, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('ends a client stream cut inside a message, or carrying malformed JSON, with invalid_argument', async () => {
    const cut = encodeEnvelope(0, json({ n: 1 })).subarray(0, 8);
    assert.deepEqual(await streamed('Upload', [encodeEnvelope(0, json({ n: 0 })), cut]), {
      status: 200,
      messages: [{ end: true, json: { error: { code: 'invalid_argument', message: 'request stream ended inside a message' } } }],
    });
    const answer = await streamed('Upload', [encodeEnvelope(0, Buffer.from('{"n":'))]);
    assert.equal(answer.messages.length, 1);
    assert.equal(answer.messages[0].json.error.code, 'invalid_argument');
    assert.match(answer.messages[0].json.error.message, /^request is not valid JSON/);
  });

  it('wants exactly one message to start a server stream', async () => {
    assert.deepEqual(await streamed('Watch', [encodeEnvelope(0, json({ w: 1 }))]), {
      status: 200,
      messages: [
        { end: false, json: { got: { w: 1 } } },
        { end: true, json: {} },
      ],
    });
    const refused = {
      status: 200,
      messages: [
        { end: true, json: { error: { code: 'invalid_argument', message: 'a server-streaming request must carry exactly one message' } } },
      ],
    };
    assert.deepEqual(await streamed('Watch', [encodeEnvelope(0, json({})), encodeEnvelope(0, json({}))]), refused);
    assert.deepEqual(await streamed('Watch', [encodeEnvelope(0, json({})).subarray(0, 6)]), refused);
    assert.deepEqual(await streamed('Watch', []), refused);
  });
});
