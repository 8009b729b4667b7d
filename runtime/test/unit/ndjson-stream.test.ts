// The /execute response stream (src/interpreter/ndjson-stream.ts) over a real loopback HTTP
// server and client: batching must never hold back what a streaming client waits for (headers of
// a cell without output, a line of a cell still running), and a short cell's lines, headers and
// end leave the server in one write.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AddressInfo } from 'node:net';
import { createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { NdjsonStream } from '../../src/interpreter/ndjson-stream';

type Handler = (res: ServerResponse, stream: NdjsonStream) => void;

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** A server whose one route hands `handler` an NdjsonStream; resolves with its port. */
async function serve(handler: Handler, onSocketWrite?: () => void): Promise<number> {
  const server = createServer((_req, res) => {
    if (onSocketWrite) {
      // What reaches the socket's handle: one _write or _writev is one write to the kernel.
      const socket = res.socket as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
      for (const name of ['_write', '_writev'] as const) {
        const original = socket[name].bind(socket);
        socket[name] = (...args: unknown[]) => (onSocketWrite(), original(...args));
      }
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    handler(res, new NdjsonStream(res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function get(port: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk;
  return text;
}

describe('NdjsonStream', () => {
  it('sends the lines in order, then the last one, and ends the response', async () => {
    const port = await serve((_res, stream) => {
      stream.write('{"a":1}');
      stream.write('{"b":2}');
      stream.end('{"type":"end_of_execution"}');
    });
    const res = await get(port);
    assert.equal(res.headers['content-type'], 'application/x-ndjson');
    assert.equal(await readAll(res), '{"a":1}\n{"b":2}\n{"type":"end_of_execution"}\n');
  });

  it('sends the headers of a response that has no line yet, without waiting for one', async () => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const port = await serve((_res, stream) => {
      void finished.then(() => stream.end('{"type":"end_of_execution"}'));
    });
    const res = await get(port);
    assert.equal(res.statusCode, 200);
    finish();
    assert.equal(await readAll(res), '{"type":"end_of_execution"}\n');
  });

  it('sends a line of a response that is still going, without waiting for its end', async () => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const port = await serve((_res, stream) => {
      stream.write('{"type":"stdout","text":"x"}');
      void finished.then(() => stream.end('{"type":"end_of_execution"}'));
    });
    const res = await get(port);
    res.setEncoding('utf8');
    const first = await new Promise<string>((resolve) => res.once('data', resolve));
    assert.equal(first, '{"type":"stdout","text":"x"}\n');
    finish();
    let rest = '';
    for await (const chunk of res) rest += chunk;
    assert.equal(rest, '{"type":"end_of_execution"}\n');
  });

  it('writes the headers, lines and end of a response that ends at once in one socket write', async () => {
    let writes = 0;
    const port = await serve(
      (_res, stream) => {
        stream.write('{"type":"number_of_executions","execution_count":1}');
        stream.write('{"type":"result","text":"2"}');
        stream.end('{"type":"end_of_execution"}');
      },
      () => writes++,
    );
    const res = await get(port);
    await readAll(res);
    assert.equal(writes, 1);
  });

  it('drops what is queued once cancelled (the client went away)', async () => {
    let cancelled!: () => void;
    const done = new Promise<void>((resolve) => (cancelled = resolve));
    const port = await serve((res, stream) => {
      stream.write('{"type":"stdout","text":"never sent"}');
      stream.cancel();
      res.on('finish', cancelled);
      setTimeout(() => res.end(), 50);
    });
    const res = await get(port);
    assert.equal(await readAll(res), '');
    await done;
  });
});
