// The runtime's one way to wait a while (polls, retries): a promise that resolves after `ms`.
import { setTimeout as delay } from 'node:timers/promises';

export function sleep(ms: number): Promise<void> {
  return delay(ms);
}
