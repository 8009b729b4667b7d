// A whole sandbox file read or written over envd's GET/POST /files with node:http(s): the body
// lands in (or leaves from) one Buffer. The SDK's files.read goes through fetch, which asks for
// gzip (envd then compresses and the client inflates) and collects the body chunk by chunk;
// for 10 MB that cost the extension host ~5x the CPU of this. The request is the SDK's own
// (the same URL, query with `path` and `username` as the SDK sets it, headers and access
// token) but asks for identity coding; failures become the same SDK errors. Where it cannot be the same request (an SDK without
// these fields, a proxy, an envd without raw uploads) `directFiles` answers undefined and the
// caller uses the SDK.
import * as http from 'node:http';
import * as https from 'node:https';
import { gunzipSync } from 'node:zlib';
import {
  AuthenticationError,
  FileNotFoundError,
  InvalidArgumentError,
  NotEnoughSpaceError,
  RateLimitError,
  SandboxError,
  TimeoutError,
  type Sandbox,
} from 'e2b';

/** What the SDK keeps on a Sandbox for its own /files requests (not in its public typings). */
interface SdkEnvdFields {
  envdApiUrl?: unknown;
  envdAccessToken?: unknown;
  envdPort?: unknown;
  envdApi?: { version?: unknown };
  connectionConfig?: { proxy?: unknown; headers?: Record<string, string>; requestTimeoutMs?: unknown };
}

// The SDK's constants: its request timeout, default user for old envds, raw-upload version.
const REQUEST_TIMEOUT_MS = 60_000;
const DEFAULT_USERNAME = 'user';
const USERNAME_OPTIONAL_SINCE = '0.4.0';
const OCTET_STREAM_UPLOAD_SINCE = '0.5.7';

const keepAlive = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

function versionBelow(version: string, than: string): boolean {
  const a = version.split('.').map((n) => parseInt(n, 10) || 0);
  const b = than.split('.').map((n) => parseInt(n, 10) || 0);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/** The SDK's mapping of a failed envd HTTP answer to an error (404 is a missing file). */
function sdkError(status: number, statusText: string, body: string): Error {
  let message: string;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    message = typeof parsed?.message === 'string' ? parsed.message : '';
  } catch {
    message = body;
  }
  message = message || statusText;
  switch (status) {
    case 400:
      return new InvalidArgumentError(message);
    case 401:
      return new AuthenticationError(message);
    case 404:
      return new FileNotFoundError(message);
    case 429:
      return new RateLimitError(`${message}: The requests are being rate limited.`);
    case 502:
      return new TimeoutError(`${message}: This error is likely due to sandbox timeout.`);
    case 507:
      return new NotEnoughSpaceError(message);
    default:
      return new SandboxError(`${status}: ${message}`);
  }
}

export class DirectFiles {
  constructor(
    private readonly baseUrl: URL,
    private readonly headers: Record<string, string>,
    private readonly username: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  /** The file's bytes (identity coding, so exactly what is on the sandbox's disk). */
  async read(path: string): Promise<Uint8Array> {
    return this.request('GET', path, undefined, (res, done) => {
      const coding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (coding !== 'identity' && coding !== 'gzip') return void res.destroy(new Error(`envd answered with Content-Encoding ${coding}`));
      const length = Number(res.headers['content-length']);
      if (Number.isSafeInteger(length) && length >= 0 && coding === 'identity') {
        const bytes = Buffer.allocUnsafe(length);
        let filled = 0;
        res.on('data', (chunk: Buffer) => {
          if (filled + chunk.length > length) return void res.destroy(new Error('envd sent more bytes than its Content-Length'));
          chunk.copy(bytes, filled);
          filled += chunk.length;
        });
        res.on('end', () => (filled === length ? done(bytes) : done(new Error(`envd sent ${filled} of ${length} bytes`))));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      // Not asked for, but a proxy on the way may still compress.
      res.on('end', () => {
        try {
          done(coding === 'gzip' ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks));
        } catch (err) {
          done(err as Error);
        }
      });
    });
  }

  /** Writes `content` as the raw body (application/octet-stream), as the SDK's useOctetStream. */
  async write(path: string, content: Uint8Array): Promise<void> {
    await this.request('POST', path, content, (res, done) => {
      res.resume();
      res.on('end', () => done(undefined));
    });
  }

  private request<T>(
    method: 'GET' | 'POST',
    path: string,
    body: Uint8Array | undefined,
    onSuccess: (res: http.IncomingMessage, done: (value: T | Error) => void) => void,
  ): Promise<T> {
    let query = `path=${encodeURIComponent(path)}`;
    if (this.username !== undefined) query += `&username=${encodeURIComponent(this.username)}`;
    const url = new URL(`${this.baseUrl.pathname.replace(/\/$/, '')}/files?${query}`, this.baseUrl);
    const secure = url.protocol === 'https:';
    // Identity: what fetch's default "gzip, deflate" costs is what this module is for.
    const headers: Record<string, string | number> = { ...this.headers, 'Accept-Encoding': 'identity' };
    if (body) {
      headers['Content-Type'] = 'application/octet-stream';
      headers['Content-Length'] = body.byteLength;
    }
    return new Promise<T>((resolve, reject) => {
      const settle = (value: T | Error) => (value instanceof Error ? reject(value) : resolve(value));
      const req = (secure ? https : http).request(
        url,
        {
          method,
          headers,
          agent: secure ? keepAlive.https : keepAlive.http,
          // 0 means no timeout, as in the SDK.
          signal: this.timeoutMs > 0 ? AbortSignal.timeout(this.timeoutMs) : undefined,
        },
        (res) => {
          res.on('error', reject);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return onSuccess(res, settle);
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk.length < 64 * 1024 ? chunk : ''));
          res.on('end', () => reject(sdkError(status, res.statusMessage ?? '', text)));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** Set to 1, the SDK's own calls are used: the benchmark's A/B, and a way out should this break. */
export const VIA_SDK_ENV = 'E2B_FILES_VIA_SDK';

/** A direct /files client for `sandbox`, or undefined where only the SDK's own path is right. */
export function directFiles(sandbox: Sandbox): DirectFiles | undefined {
  if (process.env[VIA_SDK_ENV] === '1') return undefined;
  const sdk = sandbox as unknown as SdkEnvdFields;
  const version = sdk.envdApi?.version;
  const config = sdk.connectionConfig;
  if (typeof sdk.envdApiUrl !== 'string' || typeof version !== 'string' || !config || config.proxy) return undefined;
  if (versionBelow(version, OCTET_STREAM_UPLOAD_SINCE)) return undefined;
  let baseUrl: URL;
  try {
    baseUrl = new URL(sdk.envdApiUrl);
  } catch {
    return undefined;
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') return undefined;
  const headers: Record<string, string> = {
    'User-Agent': config.headers?.['User-Agent'] ?? '',
    'E2b-Sandbox-Id': sandbox.sandboxId,
    'E2b-Sandbox-Port': String(typeof sdk.envdPort === 'number' ? sdk.envdPort : 49983),
  };
  if (typeof sdk.envdAccessToken === 'string' && sdk.envdAccessToken) headers['X-Access-Token'] = sdk.envdAccessToken;
  const username = versionBelow(version, USERNAME_OPTIONAL_SINCE) ? DEFAULT_USERNAME : undefined;
  const timeoutMs = typeof config.requestTimeoutMs === 'number' ? config.requestTimeoutMs : REQUEST_TIMEOUT_MS;
  return new DirectFiles(baseUrl, headers, username, timeoutMs);
}
