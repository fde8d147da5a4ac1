/**
 * The chaos-under-load driver shared by test/chaos/poolChaos.test.ts (short, simulated clock) and
 * bench/soak.ts (long, real clock): callers run `echo` through a pool back to back while, on a
 * real-time interval, a random one of its Python processes is SIGKILLed. The interval is a load
 * generator, not a synchronisation: nothing waits on it, and the outcome tally does not depend
 * on its timing — only the mix of outcomes does.
 */
import { Pool, XotpError, type PoolRunOptions, type Runtime } from '../../src/index.js';
import { errorCodes } from '../../src/runtime/errorTaxonomy.js';
import { examples, pythonChildren } from '../helpers/pool.js';

/** The issue's load: a pool of 4, 5,000 calls from 16 callers, a kill every 20 ms of real time. */
export const SIZE = 4;
export const CALLS = 5000;
export const CALLERS = 16;
export const KILL_EVERY_MS = 20;

/**
 * The chaos pools' worker. Each kill costs a Python start, and this pyenv's `site` spends ~45 ms
 * of every start on a .pth import; the examples need only the standard library, so the workers
 * skip `site` (-S) and the run measures xotp's recovery rather than site-packages.
 */
export const chaosWorker = () => examples({ pythonArgs: ['-S'] });

/** The run's seed: `XOTP_CHAOS_SEED` replays a run's choice of victims. */
export function chaosSeed(): number {
  return Number(process.env.XOTP_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
}

export interface PoolChaosOptions {
  runtime: Runtime;
  /** A started pool of `xotp_bridge.examples` workers. */
  pool: string;
  callers: number;
  /** Stop after this many calls in all ... */
  calls?: number;
  /** ... or after this many ms of real time (whichever comes first). */
  durationMs?: number;
  /** Real-time ms between two kills. */
  killEveryMs: number;
  /** A seeded random source (which process is killed). */
  random: () => number;
  /** Runs after each kill, never two at once (the test moves its simulated clock here). */
  onTick?: () => Promise<void>;
  /** Options of every call (e.g. `{ idempotent: true }` with a retrying pool). */
  runOptions?: PoolRunOptions;
  /** No kills at all: the same load, for a baseline of latencies. */
  noKills?: boolean;
}

export interface PoolChaosResult {
  calls: number;
  kills: number;
  /** `ok`, or the error's code; `untyped` for anything that is not an XotpError with a declared code. */
  outcomes: Record<string, number>;
  /** Up to 5 examples of untyped errors or wrong results, for the report. */
  anomalies: string[];
  elapsedMs: number;
  /** Real-time latency of the calls that succeeded, in ms: median and 99th percentile. */
  p50: number;
  p99: number;
}

/** A small seeded PRNG (mulberry32), so a run can be repeated from its printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runPoolChaos(o: PoolChaosOptions): Promise<PoolChaosResult> {
  const known = new Set(errorCodes().map((c) => c.code));
  const outcomes: Record<string, number> = {};
  const anomalies: string[] = [];
  const note = (key: string, detail?: string) => {
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (detail !== undefined && anomalies.length < 5) anomalies.push(detail);
  };
  const limit = o.calls ?? Infinity;
  const started = Date.now();
  const until = o.durationMs === undefined ? Infinity : started + o.durationMs;
  let issued = 0;
  let kills = 0;
  let done = false;

  let ticking: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (done || ticking) return;
    const victims = o.noKills ? [] : [...pythonChildren()];
    if (victims.length > 0) {
      const victim = victims[Math.floor(o.random() * victims.length)]!;
      try {
        process.kill(victim, 'SIGKILL');
        kills++;
      } catch {
        // It exited meanwhile.
      }
    }
    if (o.onTick) ticking = o.onTick().finally(() => (ticking = undefined));
  }, o.killEveryMs);

  const latencies: number[] = [];
  const caller = async () => {
    while (issued < limit && Date.now() < until) {
      const n = issued++;
      const t0 = performance.now();
      try {
        const got = await Pool.run(o.runtime, o.pool, 'echo', n, o.runOptions);
        latencies.push(performance.now() - t0);
        if (got === n) note('ok');
        else note('wrong_result', `call ${n} returned ${JSON.stringify(got)}`);
      } catch (err) {
        if (err instanceof XotpError && known.has(err.code)) note(err.code);
        else note('untyped', `call ${n}: ${err instanceof Error ? `${err.name}${err instanceof XotpError ? ` (${err.code})` : ''}: ${err.message.split('\n')[0]}` : String(err)}`);
        // A call that fails fast settles without any I/O: without a turn of the event loop here
        // the callers would starve the kill timer and Python's pipes.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.callers }, caller));
  } finally {
    done = true;
    clearInterval(timer);
    await ticking;
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length === 0 ? NaN : Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 1000) / 1000);
  return { calls: issued, kills, outcomes, anomalies, elapsedMs: Date.now() - started, p50: at(0.5), p99: at(0.99) };
}
