/**
 * Small helpers shared by the benches: timing, repeated rounds, heap measurement and the
 * one-JSON-line-plus-table report every bench prints.
 */
import { performance } from 'node:perf_hooks';

export interface Row {
  metric: string;
  xotp: number;
  baseline: number;
  unit: string;
  /** xotp ÷ baseline (for throughputs) or baseline-relative cost (for latencies and sizes). */
  ratio: number;
  target?: string;
  pass?: boolean;
}

/** Runs `fn` `rounds` times (after one warm-up) and returns the median of what it returns. */
export async function median(rounds: number, fn: () => number | Promise<number>): Promise<number> {
  await fn();
  const values: number[] = [];
  for (let i = 0; i < rounds; i++) values.push(await fn());
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

/** Milliseconds taken by `fn`. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run the benches with --expose-gc (npm run bench does)');
  g();
  g();
}

/** Bytes of heap retained per item by `make(n)` (which must return something holding all n). */
export function heapPerItem(n: number, make: (n: number) => unknown): { bytes: number; keep: unknown } {
  gc();
  const before = process.memoryUsage().heapUsed;
  const keep = make(n);
  gc();
  const after = process.memoryUsage().heapUsed;
  return { bytes: (after - before) / n, keep };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Prints the bench's JSON line (prefixed `BENCH `) and a readable table. */
export function report(bench: string, rows: Row[], extra: Record<string, unknown> = {}): void {
  const json = { bench, node: process.version, at: new Date().toISOString(), rows, ...extra };
  console.log(`BENCH ${JSON.stringify(json)}`);
  const fmt = (n: number) => (Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
  const table = rows.map((r) => ({
    metric: r.metric,
    xotp: `${fmt(r.xotp)} ${r.unit}`,
    baseline: `${fmt(r.baseline)} ${r.unit}`,
    ratio: r.ratio.toFixed(2),
    target: r.target ?? '',
    ok: r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
  }));
  console.table(table);
}
