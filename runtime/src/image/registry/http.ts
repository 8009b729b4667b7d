// HTTP for the registry client: https, or plain http for a loopback registry that does not speak
// TLS (Docker's rule for insecure registries: try TLS, then fall back); redirects followed (blob
// downloads often go to a CDN) without carrying the registry's Authorization to another host or
// scheme.
import { IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: IncomingMessage;
  url: URL;
}

const MAX_REDIRECTS = 5;
const IDLE_TIMEOUT_MS = 60_000;

/** Errors meaning "this port does not speak TLS". */
function isTlsMismatch(err: NodeJS.ErrnoException): boolean {
  return err.code === 'EPROTO' || err.code === 'ECONNRESET' || /wrong version number|ssl|tls/i.test(err.message);
}

export class RegistryHttp {
  /** Loopback hosts found to serve plain http. */
  private readonly plainHttp = new Set<string>();
  /** Requests under way, ended by close() (the runtime is stopping). */
  private readonly active = new Set<{ destroy(err: Error): void }>();
  private closed = false;

  /** Ends every request under way and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const r of this.active) r.destroy(new Error('the runtime is shutting down'));
  }

  /** The base URL of a registry's API (`https://host` or, for loopback hosts that need it, `http://host`). */
  baseUrl(host: string): string {
    return `${this.plainHttp.has(host) ? 'http' : 'https'}://${host}`;
  }

  /** GET/HEAD `url`; for a loopback registry an https that fails at TLS is retried over http. */
  async request(url: URL, method: string, headers: Record<string, string>, allowPlainHttp: boolean): Promise<HttpResponse> {
    try {
      return await this.follow(url, method, headers);
    } catch (err) {
      if (url.protocol === 'https:' && allowPlainHttp && isTlsMismatch(err as NodeJS.ErrnoException)) {
        this.plainHttp.add(url.host);
        const plain = new URL(url.href);
        plain.protocol = 'http:';
        return this.follow(plain, method, headers);
      }
      throw err;
    }
  }

  private async follow(url: URL, method: string, headers: Record<string, string>): Promise<HttpResponse> {
    let current = url;
    let currentHeaders = headers;
    for (let hop = 0; ; hop++) {
      if (this.closed) throw new Error('the runtime is shutting down');
      const res = await once(current, method, currentHeaders, this.active);
      if (![301, 302, 303, 307, 308].includes(res.status) || !res.headers.location) return res;
      res.body.resume();
      if (hop >= MAX_REDIRECTS) throw new Error(`too many redirects from ${url.host}`);
      const next = new URL(res.headers.location, current);
      if (next.host !== current.host || next.protocol !== current.protocol) {
        const { authorization: _dropped, ...rest } = currentHeaders;
        currentHeaders = rest;
      }
      current = next;
    }
  }
}

function once(
  url: URL,
  method: string,
  headers: Record<string, string>,
  active: Set<{ destroy(err: Error): void }>,
): Promise<HttpResponse> {
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers: { 'user-agent': 'e2b-local-runtime', ...headers } }, (res) => {
      res.setTimeout(IDLE_TIMEOUT_MS, () => res.destroy(new Error(`no data from ${url.host} for ${IDLE_TIMEOUT_MS / 1000} s`)));
      active.add(res);
      res.once('close', () => active.delete(res));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
    });
    active.add(req);
    req.once('close', () => active.delete(req));
    req.setTimeout(IDLE_TIMEOUT_MS, () =>
      req.destroy(Object.assign(new Error(`${url.host} did not answer within ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end();
  });
}

export async function readBody(res: HttpResponse, limit = 8 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.body.destroy();
      throw new Error(`answer from ${res.url.host} is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
