// A client of the OCI distribution API (what Docker Hub and every registry serve): manifests by
// tag or digest, blobs, and the two ways registries ask for credentials: Basic, and the token
// flow (401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` → a token from the realm,
// asked for with Basic credentials when there are any). Errors say what went wrong in words a
// user can act on (PullError).
import { HttpResponse, readBody, RegistryHttp } from './http';
import { ImageReference, isLoopbackHost } from './reference';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export class PullError extends Error {}
/** The registry (or its token service) could not be reached at all: the one case an offline fallback may cover. */
export class RegistryUnreachableError extends PullError {}

/** The manifest media types asked for, index / list first. */
export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export class RegistryClient {
  private authorization?: string;

  constructor(
    private readonly ref: ImageReference,
    private readonly credentials: RegistryCredentials | undefined,
    private readonly http = new RegistryHttp(),
  ) {}

  /** GET a manifest by tag or digest → its bytes and media type. */
  async manifest(reference: string): Promise<{ body: Buffer; mediaType: string; digestHeader?: string }> {
    const res = await this.get(`/v2/${this.ref.repository}/manifests/${reference}`, { accept: MANIFEST_TYPES.join(', ') });
    if (res.status === 404) {
      await readBody(res).catch(() => undefined);
      throw new PullError(
        `image '${this.ref.display}' not found: ${this.ref.apiHost} has no manifest '${reference}' for '${this.ref.repository}' (check the name and tag)`,
      );
    }
    await this.expectOk(res, 'manifest');
    const body = await readBody(res);
    const mediaType = String(res.headers['content-type'] ?? '')
      .split(';')[0]
      .trim();
    const digestHeader = res.headers['docker-content-digest'];
    return { body, mediaType, digestHeader: typeof digestHeader === 'string' ? digestHeader : undefined };
  }

  /** GET a blob → the response, its body unread. */
  async blob(digest: string): Promise<HttpResponse> {
    const res = await this.get(`/v2/${this.ref.repository}/blobs/${digest}`, {});
    if (res.status === 404) {
      res.body.resume();
      throw new PullError(`image '${this.ref.display}' is incomplete: ${this.ref.apiHost} has no blob ${digest}`);
    }
    await this.expectOk(res, `blob ${digest}`);
    return res;
  }

  private async get(path: string, headers: Record<string, string>): Promise<HttpResponse> {
    let res = await this.send(path, headers);
    if (res.status !== 401) return res;
    const challenge = parseChallenge(String(res.headers['www-authenticate'] ?? ''));
    await readBody(res).catch(() => undefined);
    if (!challenge) throw this.unauthorized();
    this.authorization = await this.authorize(challenge);
    res = await this.send(path, headers);
    if (res.status === 401) {
      res.body.resume();
      throw this.unauthorized();
    }
    return res;
  }

  private async send(path: string, headers: Record<string, string>): Promise<HttpResponse> {
    const url = new URL(path, this.http.baseUrl(this.ref.apiHost));
    try {
      return await this.http.request(
        url,
        'GET',
        { ...headers, ...(this.authorization ? { authorization: this.authorization } : {}) },
        this.ref.loopback,
      );
    } catch (err) {
      if (err instanceof PullError) throw err;
      throw new RegistryUnreachableError(
        `cannot reach the registry ${this.ref.apiHost} for '${this.ref.display}': ${describeNetworkError(err as NodeJS.ErrnoException)}`,
      );
    }
  }

  private async authorize(challenge: Challenge): Promise<string> {
    if (challenge.scheme === 'basic') {
      if (!this.credentials) throw this.unauthorized();
      return basic(this.credentials);
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm)
      throw new PullError(`registry ${this.ref.apiHost} asks for an unsupported authentication scheme '${challenge.scheme}'`);
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      throw new PullError(`registry ${this.ref.apiHost} names a token service that is not a URL: '${challenge.params.realm}'`);
    }
    // Credentials go in the clear over http: only to a token service on this machine.
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && isLoopbackHost(realm.host))) {
      throw new PullError(
        `registry ${this.ref.apiHost} names the token service ${realm.href}, which is not https: refused (credentials would travel in the clear)`,
      );
    }
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', challenge.params.scope ?? `repository:${this.ref.repository}:pull`);
    let res: HttpResponse;
    try {
      res = await this.http.request(
        realm,
        'GET',
        this.credentials ? { authorization: basic(this.credentials) } : {},
        this.ref.loopback && realm.host === this.ref.apiHost,
      );
    } catch (err) {
      throw new RegistryUnreachableError(
        `cannot reach the token service ${realm.host} of ${this.ref.apiHost}: ${describeNetworkError(err as NodeJS.ErrnoException)}`,
      );
    }
    const body = await readBody(res, 1024 * 1024);
    if (res.status === 401 || res.status === 403) throw this.unauthorized();
    if (res.status !== 200)
      throw new PullError(
        `the token service ${realm.host} of ${this.ref.apiHost} answered ${res.status}: ${body.toString().slice(0, 200)}`,
      );
    let token: unknown;
    try {
      const parsed = JSON.parse(body.toString()) as { token?: unknown; access_token?: unknown };
      token = parsed.token ?? parsed.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || !token) throw new PullError(`the token service ${realm.host} of ${this.ref.apiHost} gave no token`);
    return `Bearer ${token}`;
  }

  private unauthorized(): PullError {
    return this.credentials
      ? new PullError(`unauthorized: ${this.ref.apiHost} refused the username and password given for '${this.ref.display}'`)
      : new PullError(
          `pull access denied for '${this.ref.display}': the repository does not exist or needs credentials (fromImage(image, { username, password }))`,
        );
  }

  private async expectOk(res: HttpResponse, what: string): Promise<void> {
    if (res.status === 200) return;
    const text = (await readBody(res, 64 * 1024).catch(() => Buffer.alloc(0))).toString();
    if (res.status === 403) throw this.unauthorized();
    throw new PullError(
      `registry ${this.ref.apiHost} answered ${res.status} for the ${what} of '${this.ref.display}': ${registryErrorText(text)}`,
    );
  }
}

function basic(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** `Bearer realm="https://auth",service="x",scope="y"` → scheme and parameters. */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const m of match[2].matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g))
    params[m[1].toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: match[1].toLowerCase(), params };
}

function registryErrorText(text: string): string {
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors;
    if (errors?.length) return errors.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ');
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 200) || 'no details';
}

function describeNetworkError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the registry running, and is the host and port right?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve (check the image name, or this machine has no network)';
    case 'ETIMEDOUT':
      return 'the connection timed out';
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return 'the network is unreachable (this machine may have no internet access)';
    default:
      return err.message;
  }
}
