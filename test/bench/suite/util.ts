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
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

export const round = (ms: number) => Number(ms.toFixed(2));

/**
 * Times every call of the async method `object[method]` into `spent[label]` until disposed (an
 * instance property that callers looking the method up at call time go through).
 */
export function timeCalls<T extends object>(
  object: T,
  method: keyof T & string,
  spent: Record<string, number>,
  label: string = method,
): { dispose(): void } {
  const own = Object.prototype.hasOwnProperty.call(object, method);
  const unbound = object[method];
  const timedMethod = timedFunction((unbound as unknown as (...args: unknown[]) => unknown).bind(object), spent, label);
  try {
    (object as Record<string, unknown>)[method] = timedMethod;
  } catch {
    // a frozen object: not timed
  }
  if ((object as Record<string, unknown>)[method] !== timedMethod) spent[`${label}_not_timed`] = 1;
  return { dispose: () => restore(object, method, own, unbound) };
}

/** Puts a method back: the own property it was, or none (the prototype's shows again). */
export function restore<T extends object>(object: T, method: keyof T & string, own: boolean, value: unknown): void {
  try {
    if (own) (object as Record<string, unknown>)[method] = value;
    else delete (object as Record<string, unknown>)[method];
  } catch {
    // frozen: never replaced
  }
}

/** `fn`, adding the time each call's promise takes into `spent[label]`. */
export function timedFunction<A extends unknown[], R>(
  fn: (...args: A) => R,
  spent: Record<string, number>,
  label: string,
): (...args: A) => Promise<Awaited<R>> {
  return async (...args: A): Promise<Awaited<R>> => {
    const started = performance.now();
    try {
      return await fn(...args);
    } finally {
      spent[label] = (spent[label] ?? 0) + performance.now() - started;
    }
  };
}
