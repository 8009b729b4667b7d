// A fake clock for unit tests: timers and Date.now() move only when the test says so, so
// assertions about schedules do not depend on how busy the machine is.
import { afterEach, beforeEach, mock } from 'node:test';

/** Fakes setTimeout and Date for every test of the enclosing describe block. */
export function useFakeClock(): void {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());
}

// setImmediate is left real: it runs once every pending promise continuation has run.
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Moves the clock 1 ms at a time, settling in between, so timers set from promise callbacks
 * (the next poll is scheduled after the task's promise resolves) fire at their due time.
 */
export async function advance(ms: number): Promise<void> {
  await settle();
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1);
    await settle();
  }
}
