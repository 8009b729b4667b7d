// Summaries the benchmarks print: sample count, p50, p95 (milliseconds, two decimals).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(2));
}

export function summary(values: number[]): { samples: number; p50: number; p95: number } {
  return { samples: values.length, p50: percentile(values, 50), p95: percentile(values, 95) };
}

/** Prints a benchmark's result as JSON and keeps it in <repo>/.cache/bench/<name>.json for the README table. */
export function report(name: string, result: object): void {
  const text = JSON.stringify({ benchmark: name, measuredAt: new Date().toISOString(), ...result }, null, 2);
  console.log(text);
  const dir = join(__dirname, '..', '..', '.cache', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${text}\n`);
}
