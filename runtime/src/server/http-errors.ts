// The HTTP side of errors: the status each runtime error kind answers with (as the E2B SDKs expect
// it), and HttpError for what only the HTTP layer knows about (methods, headers, body sizes).
import { FailureKind, RuntimeError } from '../errors';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_OF_KIND: Record<FailureKind, number> = {
  'invalid-input': 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  unavailable: 503,
  'storage-full': 507,
};

/** The status an error answers with: its own, its kind's, or 500 for anything unexpected. */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof RuntimeError) return STATUS_OF_KIND[err.kind];
  return 500;
}
