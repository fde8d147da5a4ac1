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
  /** The ratio's lowest and highest value over the interleaved rounds (the ratio is their median). */
  spread?: [number, number];
}

/** The median of `xs` (not sorted in place). */
export function med(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/**
 * Runs every side once per round, in an order that rotates from round to round (so no side is
 * always first after the others warmed the machine), and returns each side's per-round values.
 */
export async function interleaved<K extends string>(rounds: number, sides: Record<K, () => number | Promise<number>>): Promise<Record<K, number[]>> {
  const names = Object.keys(sides) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as number[]])) as unknown as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + round) % names.length]!;
      out[n].push(await sides[n]());
    }
  }
  return out;
}

/**
 * A row from per-round values of both sides: the ratio is the median of the per-round ratios
 * (each measured at the same moment of the machine), with their range as the spread.
 */
export function ratioRow(metric: string, xs: number[], bs: number[], unit: string, target?: { text: string; ok: (ratio: number) => boolean }): Row {
  const ratios = xs.map((x, i) => x / bs[i]!);
  const ratio = med(ratios);
  const row: Row = { metric, xotp: med(xs), baseline: med(bs), unit, ratio, spread: [Math.min(...ratios), Math.max(...ratios)] };
  if (target) {
    row.target = target.text;
    row.pass = target.ok(ratio);
  }
  return row;
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
    spread: r.spread ? `${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)}` : '',
    target: r.target ?? '',
    ok: r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
  }));
  console.table(table);
}
