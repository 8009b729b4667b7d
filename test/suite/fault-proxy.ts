// A loopback TCP proxy that sits between the extension and the runtime and plays the network:
// it can cut every open connection (a dropped network), refuse new ones (a server that is down),
// go silent (a network that drops without a reset: bytes vanish, nothing closes), come back, and answer chosen HTTP requests itself (429 with Retry-After, 401) instead of
// forwarding them. It counts the HTTP requests it sees, so tests can check back-off.
import * as net from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  at: number;
  answeredByProxy: boolean;
}

export interface Injection {
  /** Which requests to answer (method and path, e.g. "GET /v2/sandboxes?limit=50"). */
  match: (method: string, path: string) => boolean;
  status: number;
  reason: string;
  headers?: Record<string, string>;
  body?: string;
}

const REQUEST_LINE = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) HTTP\/1\.[01]\r\n/;

export class FaultProxy {
  readonly requests: SeenRequest[] = [];
  private readonly pairs = new Set<{ client: net.Socket; upstream?: net.Socket }>();
  private server: net.Server;
  private injection?: Injection;
  private listening = false;
  private silent = false;
  private constructor(
    private readonly target: { host: string; port: number },
    private port = 0,
  ) {
    this.server = this.makeServer();
  }

  /** Starts a proxy on a free loopback port in front of `targetUrl` (http://host:port). */
  static async start(targetUrl: string): Promise<FaultProxy> {
    const url = new URL(targetUrl);
    const proxy = new FaultProxy({ host: url.hostname, port: Number(url.port) || 80 });
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Drops every open connection at once (both sides see a reset), as a network drop does. */
  cut(): void {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
  }

  /** The server is "down": open connections are cut and new ones are refused (ECONNREFUSED). */
  async refuse(): Promise<void> {
    this.cut();
    if (!this.listening) return;
    this.listening = false;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Back up, on the same port. */
  async restore(): Promise<void> {
    if (this.listening) return;
    this.server = this.makeServer();
    await this.listen();
  }

  /** The network goes silent: connections stay open (new ones too) but no byte gets through either way. */
  stall(): void {
    this.silent = true;
  }

  /** Back from silence: connections that lost bytes are broken for good (as after a real outage), new ones work. */
  unstall(): void {
    this.silent = false;
    this.cut();
  }

  /** Answers matching requests with this response from now on (open connections are cut first, so keep-alive sockets do not bypass it). */
  inject(injection: Injection): void {
    this.injection = injection;
    this.cut();
  }

  stopInjecting(): void {
    this.injection = undefined;
  }

  /** The requests seen since `since` (a Date.now() value) that match. */
  seen(since: number, match: (r: SeenRequest) => boolean = () => true): SeenRequest[] {
    return this.requests.filter((r) => r.at >= since && match(r));
  }

  async close(): Promise<void> {
    await this.refuse();
  }

  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    this.listening = true;
  }

  private makeServer(): net.Server {
    return net.createServer((client) => this.accept(client));
  }

  private accept(client: net.Socket): void {
    const pair: { client: net.Socket; upstream?: net.Socket } = { client };
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('error', drop);
    client.on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (this.silent) return;
      const line = REQUEST_LINE.exec(chunk.subarray(0, 2048).toString('latin1'));
      if (line) {
        const [, method, path] = line;
        const injection = this.injection;
        const answer = injection?.match(method, path) ?? false;
        this.requests.push({ method, path, at: Date.now(), answeredByProxy: answer });
        if (answer && injection) {
          this.answer(client, injection);
          pair.upstream?.destroy();
          return;
        }
      }
      if (!pair.upstream) {
        const upstream = net.connect(this.target.port, this.target.host);
        pair.upstream = upstream;
        upstream.on('data', (data) => {
          if (!this.silent) client.write(data);
        });
        upstream.on('error', drop);
        upstream.on('close', drop);
      }
      pair.upstream.write(chunk);
    });
  }

  private answer(client: net.Socket, injection: Injection): void {
    const body = injection.body ?? JSON.stringify({ code: injection.status, message: injection.reason });
    const headers = {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
      ...injection.headers,
    };
    const head = [`HTTP/1.1 ${injection.status} ${injection.reason}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join(
      '\r\n',
    );
    client.end(`${head}\r\n\r\n${body}`);
  }
}
