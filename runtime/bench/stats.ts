// Summaries the benchmarks print: sample count, p50, p95 (milliseconds, two decimals); a runtime
// row next to the SDK's floor (the same SDK calls against a loopback endpoint that answers at once).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Summary {
  samples: number;
  p50: number;
  p95: number;
}

const round = (v: number) => Number(v.toFixed(2));

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
}

export function summary(values: number[]): Summary {
  return { samples: values.length, p50: percentile(values, 50), p95: percentile(values, 95) };
}

/**
 * A runtime row with the floor beside it: `runtime_share` is measured − floor (per percentile),
 * what the runtime itself adds to the SDK's own client cost; `ratio_to_floor` is measured ÷ floor.
 */
export function withFloor(
  measured: number[],
  floor: number[],
): Summary & { floor: Summary; runtime_share: { p50: number; p95: number }; ratio_to_floor: { p50: number; p95: number } } {
  const m = summary(measured);
  const f = summary(floor);
  return {
    ...m,
    floor: f,
    runtime_share: { p50: round(m.p50 - f.p50), p95: round(m.p95 - f.p95) },
    ratio_to_floor: { p50: round(m.p50 / f.p50), p95: round(m.p95 / f.p95) },
  };
}

/** Prints a benchmark's result as JSON and keeps it in <repo>/.cache/bench/<name>.json for the README table. */
export function report(name: string, result: object): void {
  const text = JSON.stringify({ benchmark: name, measuredAt: new Date().toISOString(), ...result }, null, 2);
  console.log(text);
  const dir = join(__dirname, '..', '..', '.cache', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${text}\n`);
}

/** A count from the environment (small counts make a quick run on a loaded machine). */
export function countFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, not ${process.env[name]}`);
  return value;
}
