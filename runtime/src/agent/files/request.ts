// What GET and POST /files share: the query, the user a request acts as (`username`, else the
// default user), and how failures are answered.
import { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from '../http-handler';
import { AgentSettings } from '../settings';
import { UserAccount, UserDatabase } from '../users';
import { MetadataStore } from '../filesystem/metadata';
import { FileOperation, filesAuthError } from './signature';

export interface FilesContext {
  settings: AgentSettings;
  users: UserDatabase;
  metadata: MetadataStore;
}

export function queryOf(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks the token or signature and finds the user; on failure answers 401 and returns undefined.
 * An explicitly empty `username=` names no valid user, as upstream.
 */
export function authorize(
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  operation: FileOperation,
  ctx: FilesContext,
): UserAccount | undefined {
  const authError = filesAuthError(req, query, operation, ctx.settings.accessToken);
  if (authError) {
    sendError(res, 401, authError);
    return undefined;
  }
  const name = query.get('username') ?? ctx.settings.defaultUserName();
  const user = ctx.users.lookup(name);
  if (!user) {
    sendError(res, 401, `error looking up user '${name}': unknown user`);
    return undefined;
  }
  return user;
}

/** True for the errors a client that went away leaves behind (nothing to answer then). */
export function isClientGone(err: unknown, res: ServerResponse): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return res.destroyed || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE';
}
