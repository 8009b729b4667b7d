// A small Connect-protocol server (JSON codec only, HTTP/1.1): routes POST /<package>.<Service>/<Method>
// to registered handlers and speaks the unary, server-streaming and client-streaming shapes.
import { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../../http-body';
import { zlib } from '../lazy-zlib';
import { ConnectError } from './errors';
import { EnvelopeDecoder, FLAG_COMPRESSED, FLAG_END_STREAM, encodeEnvelope } from './envelope';
import { JsonObject, isObject } from './proto-json';

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface RpcCall {
  readonly request: IncomingMessage;
  /** A request header (lower-case name), first value. */
  header(name: string): string | undefined;
  /** Connect-Timeout-Ms; undefined when absent or 0. */
  readonly timeoutMs: number | undefined;
  /** Aborted when the client goes away before the call finished. */
  readonly signal: AbortSignal;
}

export interface UnaryMethod {
  kind: 'unary';
  handle(message: JsonObject, call: RpcCall): Promise<JsonObject> | JsonObject;
}
export interface ServerStreamMethod {
  kind: 'server-stream';
  /** Must eventually call stream.end(); a throw before that ends the stream with the error. */
  handle(message: JsonObject, call: RpcCall, stream: ServerStream): void | Promise<void>;
}
export interface ClientStreamMethod {
  kind: 'client-stream';
  handle(messages: AsyncIterable<JsonObject>, call: RpcCall): Promise<JsonObject>;
}
export type RpcMethod = UnaryMethod | ServerStreamMethod | ClientStreamMethod;

/** The response side of a server-streaming call: envelopes flushed as they are sent (chunked encoding). */
export class ServerStream {
  private ended = false;
  private gone = false;
  private readonly goneListeners: (() => void)[] = [];

  constructor(private readonly res: ServerResponse) {
    res.once('close', () => {
      if (this.ended) return;
      this.gone = true;
      for (const listener of this.goneListeners.splice(0)) listener();
    });
    // Not flushed on their own: the headers go out with the first message (or the end), as
    // connect-go sends them; a separate write would cost a syscall here and a read at every hop.
    res.writeHead(200, { 'content-type': 'application/connect+json' });
  }

  /** False once ended or once the client went away: further sends are dropped. */
  get open(): boolean {
    return !this.ended && !this.gone && !this.res.destroyed;
  }

  /** Sends one message; returns false when the socket buffer is full (wait for onDrain). */
  send(message: object): boolean {
    if (!this.open) return true;
    return this.res.write(encodeEnvelope(0, Buffer.from(JSON.stringify(message))));
  }

  onDrain(listener: () => void): void {
    this.res.on('drain', listener);
  }

  /** Called once if the client disconnects before the stream ended (at once if it already did). */
  onClientGone(listener: () => void): void {
    if (this.gone) listener();
    else if (!this.ended) this.goneListeners.push(listener);
  }

  end(error?: ConnectError): void {
    if (this.ended) return;
    this.ended = true;
    this.goneListeners.length = 0;
    if (this.gone || this.res.destroyed) return;
    const trailer = error ? { error: error.toJSON() } : {};
    this.res.end(encodeEnvelope(FLAG_END_STREAM, Buffer.from(JSON.stringify(trailer))));
  }
}

export class RpcRouter {
  private readonly methods = new Map<string, RpcMethod>();
  /** "/<service>/" → what registers that service, for services loaded on their first call. */
  private readonly lazyServices = new Map<string, () => void>();

  /** `service` is the fully qualified name, e.g. "process.Process". */
  register(service: string, methods: Record<string, RpcMethod>): void {
    for (const [name, method] of Object.entries(methods)) this.methods.set(`/${service}/${name}`, method);
  }

  /** A service whose code loads on the first call to it: `load` must register() it. */
  registerLazy(service: string, load: () => void): void {
    this.lazyServices.set(`/${service}/`, load);
  }

  has(path: string): boolean {
    if (!this.methods.has(path)) this.loadServiceOf(path);
    return this.methods.has(path);
  }

  private loadServiceOf(path: string): void {
    for (const [prefix, load] of this.lazyServices) {
      if (!path.startsWith(prefix)) continue;
      this.lazyServices.delete(prefix);
      load();
    }
  }

  async serve(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = this.methods.get(path);
    if (!method) throw new Error(`no RPC method at ${path}`);
    const call = makeCall(req, res);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (method.kind === 'unary') {
      if (contentType !== 'application/json') return unsupportedMediaType(res, 'application/json');
      return serveUnary(method, req, res, call);
    }
    if (contentType !== 'application/connect+json') return unsupportedMediaType(res, 'application/connect+json');
    if (method.kind === 'server-stream') return serveServerStream(method, req, res, call);
    return serveClientStream(method, req, res, call);
  }
}

function makeCall(req: IncomingMessage, res: ServerResponse): RpcCall {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const header = (name: string): string | undefined => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const rawTimeout = header('connect-timeout-ms');
  const timeout = rawTimeout !== undefined && /^\d{1,10}$/.test(rawTimeout.trim()) ? Number(rawTimeout) : 0;
  return { request: req, header, timeoutMs: timeout > 0 ? timeout : undefined, signal: controller.signal };
}

function unsupportedMediaType(res: ServerResponse, accepted: string): void {
  res.writeHead(415, { 'content-type': 'application/json', 'accept-post': accepted });
  res.end(JSON.stringify(new ConnectError('unimplemented', `this server accepts only ${accepted}`).toJSON()));
}

function readMessageBody(req: IncomingMessage): Promise<Buffer> {
  return readBody(req, MAX_MESSAGE_BYTES, () => new ConnectError('resource_exhausted', 'request message too large'));
}

function decompress(data: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return data;
  if (enc === 'gzip') {
    try {
      return zlib().gunzipSync(data, { maxOutputLength: MAX_MESSAGE_BYTES });
    } catch (err) {
      throw new ConnectError('invalid_argument', `bad gzip message: ${(err as Error).message}`);
    }
  }
  throw new ConnectError('unimplemented', `unsupported compression "${enc}"`);
}

function parseMessage(data: Buffer): JsonObject {
  if (data.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new ConnectError('invalid_argument', `request is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new ConnectError('invalid_argument', 'request message must be a JSON object');
  return value;
}

async function serveUnary(method: UnaryMethod, req: IncomingMessage, res: ServerResponse, call: RpcCall): Promise<void> {
  let body: string;
  try {
    const message = parseMessage(decompress(await readMessageBody(req), call.header('content-encoding')));
    body = JSON.stringify(await method.handle(message, call));
  } catch (err) {
    const error = ConnectError.from(err);
    if (res.headersSent || res.destroyed) return;
    res.writeHead(error.httpStatus, { 'content-type': 'application/json' });
    res.end(JSON.stringify(error.toJSON()));
    return;
  }
  if (res.destroyed) return;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}

function decodeEnvelopeMessage(flags: number, data: Buffer, call: RpcCall): JsonObject {
  const payload = flags & FLAG_COMPRESSED ? decompress(data, call.header('connect-content-encoding') ?? 'gzip') : data;
  return parseMessage(payload);
}

async function serveServerStream(method: ServerStreamMethod, req: IncomingMessage, res: ServerResponse, call: RpcCall): Promise<void> {
  let message: JsonObject;
  let stream: ServerStream | undefined;
  try {
    const body = await readMessageBody(req);
    const decoder = new EnvelopeDecoder(MAX_MESSAGE_BYTES);
    const envelopes = decoder.push(body);
    if (envelopes.length !== 1 || decoder.hasPartial) {
      throw new ConnectError('invalid_argument', 'a server-streaming request must carry exactly one message');
    }
    message = decodeEnvelopeMessage(envelopes[0].flags, envelopes[0].data, call);
    stream = new ServerStream(res);
    await method.handle(message, call, stream);
  } catch (err) {
    // Stream errors travel in the end-stream frame with HTTP 200.
    (stream ?? new ServerStream(res)).end(ConnectError.from(err));
  }
}

async function serveClientStream(method: ClientStreamMethod, req: IncomingMessage, res: ServerResponse, call: RpcCall): Promise<void> {
  async function* messages(): AsyncGenerator<JsonObject> {
    const decoder = new EnvelopeDecoder(MAX_MESSAGE_BYTES);
    for await (const chunk of req) {
      for (const envelope of decoder.push(chunk as Buffer)) {
        if (envelope.flags & FLAG_END_STREAM) return;
        yield decodeEnvelopeMessage(envelope.flags, envelope.data, call);
      }
    }
    if (decoder.hasPartial) throw new ConnectError('invalid_argument', 'request stream ended inside a message');
  }
  let reply: JsonObject | undefined;
  let error: ConnectError | undefined;
  try {
    reply = await method.handle(messages(), call);
  } catch (err) {
    error = ConnectError.from(err);
  }
  if (res.destroyed) return;
  const stream = new ServerStream(res);
  if (reply) stream.send(reply);
  stream.end(error);
  // Anything the client still sends after the answer is not needed.
  req.resume();
}
