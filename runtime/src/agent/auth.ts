// Request authentication: the sandbox access token (X-Access-Token) and the user named in a
// Basic Authorization header (envd's convention: "<user>:" with an empty password).
import { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConnectError } from './connect/errors';

/** True when no token is configured or the request carries the right one. */
export function hasValidAccessToken(req: IncomingMessage, expected: string | undefined): boolean {
  if (!expected) return true;
  const given = req.headers['x-access-token'];
  if (typeof given !== 'string') return false;
  // Hash both sides so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The user name from `Authorization: Basic base64("<user>:")`, or undefined when absent. */
export function basicAuthUser(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined || header === '') return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]*)\s*$/i.exec(header);
  if (!match) throw new ConnectError('unauthenticated', 'invalid Authorization header: expected Basic credentials');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  if (!user) throw new ConnectError('unauthenticated', 'invalid username: empty');
  return user;
}
