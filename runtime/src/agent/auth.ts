// Request authentication: the sandbox access token (X-Access-Token) and the user named in a
// Basic Authorization header (envd's convention: "<user>:" with an empty password).
import { IncomingMessage } from 'node:http';
import { ConnectError } from './connect/errors';

/** True when no token is configured or the request carries the right one. */
export function hasValidAccessToken(req: IncomingMessage, expected: string | undefined): boolean {
  if (!expected) return true;
  const given = req.headers['x-access-token'];
  if (typeof given !== 'string') return false;
  return constantTimeEqual(Buffer.from(given), Buffer.from(expected));
}

/**
 * Byte equality in a time that depends on the lengths only, never on where the bytes differ
 * (as crypto.timingSafeEqual, which would load node:crypto into every agent's first command:
 * ~2 ms of CPU). Every byte of `expected` is looked at whatever `given` holds.
 */
export function constantTimeEqual(given: Buffer, expected: Buffer): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given[i] ?? 0) ^ expected[i];
  return diff === 0;
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
