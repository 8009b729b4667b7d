// Turning failures into messages that say what to do, instead of stack traces.
export type ErrorAction = 'Set API Key' | 'Open Settings' | 'Retry' | 'Choose Connection' | 'Refresh';

/**
 * What kind of failure it was, so callers can react without parsing messages: back off when
 * rate limited, keep polling while unreachable, ask for a key once when it is refused.
 */
export type FailureKind = 'auth' | 'sandboxGone' | 'rateLimited' | 'unreachable' | 'timeout' | 'other';

export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly actions: ErrorAction[] = [],
    readonly kind: FailureKind = 'other',
  ) {
    super(message);
  }
}

interface ErrorContext {
  connectionLabel: string;
  apiUrl?: string;
  sandboxId?: string;
}

const NETWORK_FAILURE =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EPIPE|UND_ERR_SOCKET|fetch failed|socket hang up|terminated|other side closed|network error/i;

/** True for errors that mean "the connection broke", as opposed to an answer from the server. */
export function isNetworkFailure(err: unknown): boolean {
  if (err instanceof UserFacingError) return err.kind === 'unreachable';
  const message = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return NETWORK_FAILURE.test(`${message} ${cause?.code ?? ''} ${cause?.message ?? ''}`);
}

/**
 * The one classification of failures, by the SDK's error classes (their `name`, which survives
 * bundling where `instanceof` may not) and HTTP status codes, never by message text:
 * - `SandboxNotFoundError`: the API or envd said the sandbox does not exist: gone for sure;
 * - `TimeoutError`: ambiguous. The SDK reports a sandbox gateway's 502 (what a killed or expired
 *   sandbox answers) as a TimeoutError, and also a request that was merely slow: only the API can
 *   tell them apart (see judgeSandboxFailure);
 * - a plain `NotFoundError` is a missing file, process or code context, not a missing sandbox.
 */
export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof UserFacingError) return err.kind;
  const name = (err as { name?: string })?.name ?? '';
  const status = (err as { statusCode?: number })?.statusCode;
  if (name === 'AuthenticationError' || status === 401) return 'auth';
  if (name === 'SandboxNotFoundError') return 'sandboxGone';
  if (name === 'RateLimitError' || name === 'ServiceBusyError' || status === 429) return 'rateLimited';
  if (name === 'TimeoutError') return 'timeout';
  if (isNetworkFailure(err)) return 'unreachable';
  return 'other';
}

/** What a failed call on a sandbox means for the work in it (a notebook's kernels, a run sandbox). */
export type SandboxFailure = 'gone' | 'paused' | 'connection' | 'other';

/**
 * Decides whether a sandbox call failed because the sandbox is gone. Sure answers come from the
 * error's class; a timeout or a broken connection asks the API (`status`) whether the sandbox
 * still exists, so a slow network never throws away a user's kernel state.
 */
export async function judgeSandboxFailure(
  err: unknown,
  status: () => Promise<'running' | 'paused' | 'gone' | 'unreachable'>,
): Promise<SandboxFailure> {
  const kind = classifyFailure(err);
  if (kind === 'sandboxGone') return 'gone';
  if (kind !== 'timeout' && kind !== 'unreachable') return 'other';
  const now = await status().catch(() => 'unreachable' as const);
  if (now === 'gone') return 'gone';
  if (now === 'paused') return 'paused';
  return 'connection';
}

/** Maps SDK and network errors to what the user should read and can do next. */
export function toUserFacingError(err: unknown, context: ErrorContext): UserFacingError {
  if (err instanceof UserFacingError) return err;
  const message = err instanceof Error ? err.message : String(err);
  switch (classifyFailure(err)) {
    case 'auth':
      return new UserFacingError(
        `The ${context.connectionLabel} refused the API key. Set a valid key (E2B: Set API Key…) or choose another connection.`,
        ['Set API Key', 'Choose Connection'],
        'auth',
      );
    case 'sandboxGone': {
      const which = context.sandboxId ? `Sandbox ${context.sandboxId}` : 'The sandbox';
      return new UserFacingError(`${which} no longer exists: it was killed or its timeout passed.`, ['Refresh'], 'sandboxGone');
    }
    case 'rateLimited':
      return new UserFacingError(
        `The ${context.connectionLabel} is rate limiting requests; the extension retries with back-off.`,
        ['Retry'],
        'rateLimited',
      );
    case 'unreachable':
      return new UserFacingError(
        `Cannot reach the ${context.connectionLabel}${context.apiUrl ? ` at ${context.apiUrl}` : ''}. Check that it is running; the explorer retries by itself.`,
        ['Retry', 'Choose Connection'],
        'unreachable',
      );
    case 'timeout':
      return new UserFacingError(`The ${context.connectionLabel} did not answer in time (${message}).`, ['Retry'], 'timeout');
    default:
      return new UserFacingError(message || 'Something went wrong talking to E2B.');
  }
}
