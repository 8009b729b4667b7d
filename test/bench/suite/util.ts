// Small helpers the extension-host benchmarks share.
import { appendFileSync } from 'node:fs';
import { summary } from '../../../runtime/bench/stats';

export { summary };

/** A progress line for the bench driver (it prints them on stderr). */
export function progress(text: string): void {
  const file = process.env.E2B_VSCODE_TEST_RESULTS;
  if (file) appendFileSync(file, `# progress ${text}\n`);
}

export function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export async function timed<T>(action: () => Promise<T> | Thenable<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await action();
  return { ms: performance.now() - started, value };
}

/** Runs `task` for 0..count-1 with at most `concurrency` at a time. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await task(next++);
  }));
}

export const round = (ms: number) => Number(ms.toFixed(2));
