// Turning failures into messages that say what to do, instead of stack traces.
export type ErrorAction = 'Set API Key' | 'Open Settings' | 'Retry' | 'Choose Connection' | 'Refresh';

export class UserFacingError extends Error {
  constructor(message: string, readonly actions: ErrorAction[] = []) {
    super(message);
  }
}

interface ErrorContext { connectionLabel: string; apiUrl?: string; sandboxId?: string }

/** Maps SDK and network errors to what the user should read and can do next. */
export function toUserFacingError(err: unknown, context: ErrorContext): UserFacingError {
  if (err instanceof UserFacingError) return err;
  const name = (err as { name?: string })?.name ?? '';
  const message = err instanceof Error ? err.message : String(err);
  const cause = String((err as { cause?: { code?: string } })?.cause?.code ?? '');
  if (name === 'AuthenticationError' || /\b401\b/.test(message)) {
    return new UserFacingError(`The ${context.connectionLabel} refused the API key. Set a valid key or choose another connection.`, ['Set API Key', 'Choose Connection']);
  }
  if (name === 'SandboxNotFoundError' || name === 'NotFoundError' || /\b404\b.*sandbox|sandbox.*not found/i.test(message)) {
    const which = context.sandboxId ? `Sandbox ${context.sandboxId}` : 'The sandbox';
    return new UserFacingError(`${which} no longer exists: it was killed or its timeout passed.`, ['Refresh']);
  }
  if (name === 'RateLimitError' || /\b429\b/.test(message)) {
    return new UserFacingError(`The ${context.connectionLabel} is rate limiting requests; try again in a moment.`, ['Retry']);
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|fetch failed|socket hang up/i.test(`${message} ${cause}`)) {
    return new UserFacingError(`Cannot reach the ${context.connectionLabel}${context.apiUrl ? ` at ${context.apiUrl}` : ''}. Check that it is running, then retry.`, ['Retry', 'Choose Connection']);
  }
  if (name === 'TimeoutError') {
    return new UserFacingError(`The ${context.connectionLabel} did not answer in time (${message}).`, ['Retry']);
  }
  return new UserFacingError(message || 'Something went wrong talking to E2B.');
}
