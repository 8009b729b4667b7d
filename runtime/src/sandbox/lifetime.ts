// How long a sandbox may live: E2B caps every timeout at a day and counts in whole seconds.
import { invalidInput } from '../errors';

export const MAX_TIMEOUT_S = 24 * 3600;

/** `seconds` (already a non-negative number) as a sandbox's lifetime, or why it cannot be one. */
export function lifetimeSeconds(seconds: number): number {
  if (seconds > MAX_TIMEOUT_S) throw invalidInput(`timeout cannot be longer than ${MAX_TIMEOUT_S} seconds`);
  return Math.ceil(seconds);
}
