// Delays for retrying after a failure: exponential from a base, capped, with a little jitter so
// many streams that broke together do not all come back in the same instant.
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  jitter?: number;
}

/** The wait before retry number `attempt` (0 = the first retry). `random` is for tests. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 1000;
  const max = options.maxMs ?? 30_000;
  const jitter = options.jitter ?? 0.2;
  const exact = Math.min(base * 2 ** Math.max(0, attempt), max);
  return Math.round(exact * (1 - jitter + 2 * jitter * random()));
}

/**
 * The wait a Retry-After header asks for, in ms: either delta-seconds or an HTTP date.
 * Undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
