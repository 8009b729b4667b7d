// /files authorization (protocol §2.4): the X-Access-Token header, or a URL signature
//   "v1_" + base64_std_nopad(sha256("<path>:<op>:<user>:<token>[:<expiration>]"))
// over the raw (unresolved) `path` and `username` query values, absent meaning "".
import { createHash, timingSafeEqual } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { hasValidAccessToken } from '../auth';

export type FileOperation = 'read' | 'write';

export function fileSignature(path: string, operation: FileOperation, user: string, accessToken: string, expiration?: number): string {
  const raw = [path, operation, user, accessToken, ...(expiration !== undefined ? [String(expiration)] : [])].join(':');
  return `v1_${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
}

function sameString(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** Undefined when the request may proceed, else why not (answered with 401). */
export function filesAuthError(
  req: IncomingMessage,
  query: URLSearchParams,
  operation: FileOperation,
  accessToken: string | undefined,
  nowSeconds = Math.floor(Date.now() / 1000),
): string | undefined {
  if (!accessToken) return undefined; // an insecure sandbox
  const header = req.headers['x-access-token'];
  if (header !== undefined && header !== '') {
    return hasValidAccessToken(req, accessToken) ? undefined : 'access token present in header but does not match';
  }
  const signature = query.get('signature');
  if (signature === null) return 'missing signature query parameter';
  const rawExpiration = query.get('signature_expiration');
  let expiration: number | undefined;
  if (rawExpiration !== null) {
    if (!/^-?\d{1,15}$/.test(rawExpiration.trim())) return 'invalid signature_expiration';
    expiration = Number(rawExpiration.trim());
  }
  const expected = fileSignature(query.get('path') ?? '', operation, query.get('username') ?? '', accessToken, expiration);
  if (!sameString(expected, signature)) return 'invalid signature';
  if (expiration !== undefined && expiration < nowSeconds) return 'signature is already expired';
  return undefined;
}
