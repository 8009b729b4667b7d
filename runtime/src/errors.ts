// Errors in the runtime's own terms: what went wrong (bad input, not found, a conflict...), never
// an HTTP status. Every layer throws these; the server alone turns each kind into the status the
// E2B SDKs expect (server/http-errors.ts). Any other error is an internal failure.
export type FailureKind = 'invalid-input' | 'unauthenticated' | 'forbidden' | 'not-found' | 'conflict' | 'unavailable' | 'storage-full';

export class RuntimeError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
  }
}

export const invalidInput = (what: string) => new RuntimeError('invalid-input', what);
export const unauthenticated = (what: string) => new RuntimeError('unauthenticated', what);
export const forbidden = (what: string) => new RuntimeError('forbidden', what);
export const notFound = (what: string) => new RuntimeError('not-found', what);
export const conflict = (what: string) => new RuntimeError('conflict', what);
/** The runtime cannot take the request now (it is shutting down). */
export const unavailable = (what: string) => new RuntimeError('unavailable', what);
export const storageFull = (what: string) => new RuntimeError('storage-full', what);
