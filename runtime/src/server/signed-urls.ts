// Signed /files URLs made with E2B_SANDBOX_URL set carry no sandbox id, port or host name
// (protocol §2.4): the sandbox is the one whose access token verifies the signature.
import { createHash, timingSafeEqual } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { SandboxRecord } from '../sandbox/record';

export function fileUrlSignature(
  path: string,
  operation: 'read' | 'write',
  user: string,
  accessToken: string,
  expiration?: string,
): string {
  const raw = `${path}:${operation}:${user}:${accessToken}${expiration ? `:${expiration}` : ''}`;
  return `v1_${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
}

/** The sandbox a header-less signed /files request belongs to, if any. */
export function sandboxOfSignedFileUrl(req: IncomingMessage, sandboxes: Iterable<SandboxRecord>): SandboxRecord | undefined {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const signature = url.searchParams.get('signature');
  if (url.pathname !== '/files' || !signature) return undefined;
  const operation = req.method === 'POST' ? 'write' : 'read';
  const path = url.searchParams.get('path') ?? '';
  const user = url.searchParams.get('username') ?? '';
  const expiration = url.searchParams.get('signature_expiration') ?? undefined;
  const given = Buffer.from(signature);
  for (const sandbox of sandboxes) {
    if (!sandbox.envdAccessToken || sandbox.state !== 'running') continue;
    const wanted = Buffer.from(fileUrlSignature(path, operation, user, sandbox.envdAccessToken, expiration));
    if (given.length === wanted.length && timingSafeEqual(given, wanted)) return sandbox;
  }
  return undefined;
}
