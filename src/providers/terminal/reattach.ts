// Reattaching a terminal to a process that lives on in the sandbox after its stream broke
// (network drop, runtime restart): retried with back-off until it works, the sandbox is gone,
// the process turns out to have ended, or the terminal is closed. Shared by shells and commands,
// with the follow → reconnect steps around it (followStream, reattachThen).
import { backoffDelay, sleep } from '../../connection/backoff';
import type { SandboxStatus } from '../../connection/sandbox-connections';

export type Reattached<T> = { handle: T } | { ended: 'sandbox gone' | 'process ended' | 'closed' };

export async function reattach<T>(
  attach: () => Promise<T>,
  status: () => Promise<SandboxStatus>,
  closed: () => boolean,
): Promise<Reattached<T>> {
  for (let attempt = 0; !closed(); attempt++) {
    await sleep(backoffDelay(attempt, { baseMs: 500, maxMs: 10_000 }));
    if (closed()) break;
    try {
      return { handle: await attach() };
    } catch (err) {
      const now = await status();
      if (now === 'gone') return { ended: 'sandbox gone' };
      // The sandbox answers but the process does not: it ended while the connection was down.
      if (now === 'running' && (err as Error).name === 'NotFoundError') return { ended: 'process ended' };
    }
  }
  return { ended: 'closed' };
}

/**
 * Waits for a stream's end. An exit code (a failed command rejects with one) is the process's
 * end; a stream that breaks without one lost the connection, not the process. `current` says
 * whether this stream still counts (one given up on is ignored).
 */
export function followStream(
  handle: { wait(): Promise<{ exitCode: number }> },
  on: { exited(exitCode: number): void; broke(problem: string): void },
  fallbackProblem: string,
  current: () => boolean = () => true,
): void {
  handle.wait().then(
    (result) => {
      if (current()) on.exited(result.exitCode);
    },
    (err: { exitCode?: number; message?: string }) => {
      if (!current()) return;
      if (err?.exitCode !== undefined) on.exited(err.exitCode);
      else on.broke(err?.message ?? fallbackProblem);
    },
  );
}

/** reattach, then its outcome handed on; a terminal closed meanwhile hears nothing more. */
export async function reattachThen<T>(
  attach: () => Promise<T>,
  status: () => Promise<SandboxStatus>,
  closed: () => boolean,
  on: { reattached(handle: T): Promise<void> | void; sandboxGone(): void; processEnded(): void },
): Promise<void> {
  const outcome = await reattach(attach, status, closed);
  if ('handle' in outcome) await on.reattached(outcome.handle);
  else if (outcome.ended === 'sandbox gone') on.sandboxGone();
  else if (outcome.ended === 'process ended') on.processEnded();
}
