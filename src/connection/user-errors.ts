// Turning failures into messages that say what to do, instead of stack traces.
export type ErrorAction = 'Set API Key' | 'Open Settings' | 'Retry' | 'Choose Connection' | 'Refresh';

/**
 * What kind of failure it was, so callers can react without parsing messages: back off when
 * rate limited, keep polling while unreachable, ask for a key once when it is refused.
 */
export type FailureKind = 'auth' | 'sandboxGone' | 'rateLimited' | 'unreachable' | 'timeout' | 'other';

export class UserFacingError extends Error {
  constructor(message: string, readonly actions: ErrorAction[] = [], readonly kind: FailureKind = 'other') {
    super(message);
  }
}

interface ErrorContext { connectionLabel: string; apiUrl?: string; sandboxId?: string }

const NETWORK_FAILURE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EPIPE|UND_ERR_SOCKET|fetch failed|socket hang up|terminated|other side closed|network error/i;

/** True for errors that mean "the connection broke", as opposed to an answer from the server. */
export function isNetworkFailure(err: unknown): boolean {
  if (err instanceof UserFacingError) return err.kind === 'unreachable';
  const message = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return NETWORK_FAILURE.test(`${message} ${cause?.code ?? ''} ${cause?.message ?? ''}`);
}

/** Maps SDK and network errors to what the user should read and can do next. */
export function toUserFacingError(err: unknown, context: ErrorContext): UserFacingError {
  if (err instanceof UserFacingError) return err;
  const name = (err as { name?: string })?.name ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'AuthenticationError' || /\b401\b/.test(message)) {
    return new UserFacingError(`The ${context.connectionLabel} refused the API key. Set a valid key (E2B: Set API Key…) or choose another connection.`, ['Set API Key', 'Choose Connection'], 'auth');
  }
  if (name === 'SandboxNotFoundError' || name === 'NotFoundError' || /\b404\b.*sandbox|sandbox.*not found/i.test(message)) {
    const which = context.sandboxId ? `Sandbox ${context.sandboxId}` : 'The sandbox';
    return new UserFacingError(`${which} no longer exists: it was killed or its timeout passed.`, ['Refresh'], 'sandboxGone');
  }
  if (name === 'RateLimitError' || /\b429\b/.test(message)) {
    return new UserFacingError(`The ${context.connectionLabel} is rate limiting requests; the extension retries with back-off.`, ['Retry'], 'rateLimited');
  }
  if (isNetworkFailure(err)) {
    return new UserFacingError(`Cannot reach the ${context.connectionLabel}${context.apiUrl ? ` at ${context.apiUrl}` : ''}. Check that it is running; the explorer retries by itself.`, ['Retry', 'Choose Connection'], 'unreachable');
  }
  if (name === 'TimeoutError') {
    return new UserFacingError(`The ${context.connectionLabel} did not answer in time (${message}).`, ['Retry'], 'timeout');
  }
  return new UserFacingError(message || 'Something went wrong talking to E2B.');
}
