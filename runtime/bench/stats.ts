// Summaries the benchmarks print: sample count, p50, p95 (milliseconds, two decimals).
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(2));
}

export function summary(values: number[]): { samples: number; p50: number; p95: number } {
  return { samples: values.length, p50: percentile(values, 50), p95: percentile(values, 95) };
}
