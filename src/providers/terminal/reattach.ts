// Reattaching a terminal to a process that lives on in the sandbox after its stream broke
// (network drop, runtime restart): retried with back-off until it works, the sandbox is gone,
// the process turns out to have ended, or the terminal is closed. Shared by shells and commands.
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
