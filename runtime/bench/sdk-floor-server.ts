// Benchmark-only: the SDK's floor. A loopback HTTP server that answers, at once and with fixed
// replies, just the calls the benchmarks make through the official SDKs: `Sandbox.create` and
// `kill` (E2B's REST API), `commands.run('true')` (envd's Connect `process.Process/Start` stream)
// and code-interpreter `runCode('1+1')` (`/execute` NDJSON). Measuring the same SDK calls against
// it tells the SDK's own client cost, so a benchmark can report the runtime's share on top.
// Run as its own process (`node --import tsx sdk-floor-server.ts`) so that, like the runtime, it
// does not share the client's event loop; it prints `listening <url>` once it answers.
import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';

const ENVD_VERSION = '0.6.13';

/** One Connect envelope: flags byte, 4-byte big-endian length, JSON. */
function envelope(flags: number, message: object): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

/** The whole stream of a process that started and exited 0, then the end-stream frame. */
const PROCESS_STREAM = Buffer.concat([
  envelope(0, { event: { start: { pid: 1 } } }),
  envelope(0, { event: { end: { exited: true, status: 'exit status 0' } } }),
  envelope(2, {}),
]);

/** `1+1` run in a kernel: its execution count, the main result `2`, the end of the stream. */
const EXECUTION_STREAM = [
  { type: 'number_of_executions', execution_count: 1 },
  { type: 'result', is_main_result: true, text: '2' },
  { type: 'end_of_execution' },
]
  .map((line) => `${JSON.stringify(line)}\n`)
  .join('');

async function drain(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sandboxId(): string {
  return randomBytes(10).toString('hex');
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await drain(req);
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && (path === '/sandboxes' || path === '/v2/sandboxes')) {
    const { templateID } = JSON.parse(body || '{}') as { templateID?: string };
    res.writeHead(201, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        templateID: templateID ?? 'base',
        sandboxID: sandboxId(),
        clientID: '6532622b',
        envdVersion: ENVD_VERSION,
        envdAccessToken: randomBytes(16).toString('hex'),
      }),
    );
  } else if (req.method === 'DELETE' && /^(\/v2)?\/sandboxes\/[^/]+$/.test(path)) {
    res.writeHead(204).end();
  } else if (req.method === 'POST' && path === '/process.Process/Start') {
    res.writeHead(200, { 'Content-Type': 'application/connect+json' });
    res.end(PROCESS_STREAM);
  } else if (req.method === 'POST' && path === '/execute') {
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    res.end(EXECUTION_STREAM);
  } else if (req.method === 'GET' && path === '/health') {
    res.writeHead(204).end();
  } else {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ code: 404, message: `the SDK floor does not answer ${req.method} ${path}` }));
  }
}

const server = createServer((req, res) => {
  answer(req, res).catch((err: unknown) => {
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ code: 500, message: String(err) }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(`listening http://127.0.0.1:${address.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
