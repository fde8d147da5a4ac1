/**
 * bench/supervisor: restarts and large supervisors against Erlang/OTP running the same loops in
 * the same run (bench/fixtures/otp_sup.erl through `escript`; the BEAM rows are skipped, with a
 * note, when escript is not on PATH), plus a bare xstate parent as a floor.
 *
 * - crash → restarted latency: crash a child, wait for its DOWN, wait until whichChildren shows
 *   the new pid; mean and p50 (target ≤ 0.5× the BEAM's, same loop)
 * - start and shut down a supervisor with N brutal_kill children, per child, N = 1k, 10k, 50k
 *   (target ≤ 2× the BEAM's per child at 10k and 50k, and no growth per child with N)
 * Rounds are interleaved (BENCH_ROUNDS, default 3; at least 5 for the restart rows, whose rounds
 * vary most); ratios are medians of per-round ratios with their spread. Every BEAM run is a
 * fresh escript VM, so each large-supervisor run starts from a collected heap too (a major
 * collection, which `npm run bench` exposes; not `gc()`, which also throws optimised code away)
 * rather than paying for the previous run's garbage. Not the restart rounds: their garbage mostly
 * dies young. Both loops are warmed up.
 * BENCH_VERBOSE=1 prints each restart round's figures.
 *
 * Run: npm run bench -- supervisor
 */
import { execFileSync, execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import { createActor, setup, spawnChild, stopChild, type AnyActorRef } from 'xstate';
import {
  createRuntime,
  defineServer,
  silentLogger,
  supervisor,
  whichChildren,
  type Pid,
  type Runtime,
} from '../src/index.js';
import { interleaved, med, percentile, ratioRow, report, type Row } from './lib.js';

// Not more: OTP's add_restart filters its list of restarts within the period on every restart,
// so its cost per restart grows with the restarts of the last second (10000 restarts: a mean of
// 155 µs against 47 at 3000). The loop of the measurement is kept.
const RESTARTS = 3000;
// V8 needs a few thousand rounds of the loop before its optimising tiers settle (the first
// 3000 restarts after 300 of warm-up still ran at twice the steady mean); the BEAM loads
// compiled code. And every round runs on a fresh runtime, as every BEAM run is a fresh VM: the
// first round on a second runtime still ran at 2-3x the mean of the rounds after it (code
// optimised for the one runtime it had seen is optimised again), so the warm-up runs the loop
// on several runtimes, as the rounds do.
const WARMUP = 2000;
const WARMUP_RUNTIMES = 3;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// A restart round's mean moves by a third from round to round on a 2-core VM (a round of 3000
// restarts holds two or three scavenges of a few ms, and whatever else the machine does then):
// its median needs more rounds than the other rows. One more round costs about 1.5 s.
const RESTART_ROUNDS = Math.max(ROUNDS, 5);
const SIZES = [1_000, 10_000, 50_000];
const here = dirname(fileURLToPath(import.meta.url));

const crasher = defineServer<null, undefined, 'ping', string, 'crash'>({
  name: 'crasher',
  init: () => ({ state: null }),
  handleCall: () => ({ reply: 'pong' }),
  handleCast: () => {
    throw new Error('crashed_on_demand');
  },
});

/**
 * A full collection, so that a run does not pay for the garbage of the one before it. A major
 * collection, not `gc()`: `gc()` also throws optimised code away (the restart loop re-optimised
 * 300 functions over four rounds after it, against 7 after `gc({ type: 'major' })`), and the
 * 1k-children runs, 15 ms each, then measured mostly recompilation.
 */
const collect = () => gcOf()?.({ type: 'major' });
/** `gc` as `npm run bench` exposes it (`--expose-gc`), if it does. */
const gcOf = () => (globalThis as { gc?: (options: { type: 'minor' | 'major' }) => void }).gc;

async function restartingSupervisor(): Promise<{ rt: Runtime; current: Pid }> {
  const rt = createRuntime({ name: 'bench', logger: silentLogger });
  await rt.start(
    supervisor({ maxRestarts: 1_000_000_000, maxSeconds: 1, children: [{ id: 'crasher', start: crasher }] }),
    { name: 'sup' },
  );
  return { rt, current: (await whichChildren(rt, 'sup'))[0]!.pid as Pid };
}

/** Crashes the child, waits for its DOWN and its restart, and returns the new pid. */
async function restartOnce(rt: Runtime, current: Pid): Promise<Pid> {
  const down = new Promise<void>((resolve) => rt.monitor(current, () => resolve()));
  const started = new Promise<void>((resolve) => rt.events.once('supervisor.childStarted', () => resolve()));
  rt.cast(current, 'crash');
  await down;
  await started;
  const row = (await whichChildren(rt, 'sup'))[0]!;
  if (row.pid === undefined || row.pid === 'restarting' || row.pid.id === current.id) throw new Error('not restarted');
  return row.pid;
}

async function xotpRestartLatencies(n: number): Promise<number[]> {
  const sup = await restartingSupervisor();
  const { rt } = sup;
  let current = sup.current;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    current = await restartOnce(rt, current);
    out.push((performance.now() - t0) * 1000);
  }
  await rt.shutdown();
  return out;
}

/**
 * Bytes a restart leaves alive through a scavenge. A scavenge costs what it copies, and what
 * survives it fills the old generation until a mark-compact: this row shows a retention before
 * the mean moves. It starts from a full collection (nothing dead in the old generation), runs `n`
 * restarts and forces a scavenge: what the heap gained, beyond the one live child, is garbage,
 * kept alive by a dead old object or an obsolete hash table, or allocated old to begin with (the
 * maps xstate makes for each actor, about half of what is left). It was 4.5 KB a restart before
 * the start ack and the start job of `ProcessTable.spawn` stopped sharing a closure context.
 */
async function survivorsPerRestart(n: number, restart: () => Promise<void> | void): Promise<number> {
  for (let i = 0; i < 500; i++) await restart();
  collect();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) await restart();
  gcOf()!({ type: 'minor' });
  return (process.memoryUsage().heapUsed - before) / n;
}

async function xotpSurvivors(n: number): Promise<number> {
  const sup = await restartingSupervisor();
  let current = sup.current;
  const bytes = await survivorsPerRestart(n, async () => void (current = await restartOnce(sup.rt, current)));
  await sup.rt.shutdown();
  return bytes;
}

const rawChild = setup({}).createMachine({ id: 'child' });
const rawParent = setup({ actors: { rawChild } }).createMachine({
  id: 'parent',
  entry: spawnChild('rawChild', { id: 'c' }),
  on: { restart: { actions: [stopChild('c'), spawnChild('rawChild', { id: 'c' })] } },
});

function rawSurvivors(n: number): Promise<number> {
  const parent = createActor(rawParent).start();
  return survivorsPerRestart(n, () => void parent.send({ type: 'restart' })).finally(() => parent.stop());
}

function rawRestartLatencies(n: number): number[] {
  const parent = createActor(rawParent).start();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = parent.getSnapshot().children.c as AnyActorRef;
    const t0 = performance.now();
    parent.send({ type: 'restart' });
    const after = parent.getSnapshot().children.c as AnyActorRef;
    if (after === before) throw new Error('raw child not restarted');
    out.push((performance.now() - t0) * 1000);
  }
  parent.stop();
  return out;
}

/**
 * The main thread's GC pauses (scavenges, mark-compacts, incremental marking steps), as Node
 * reports them: what part of a large supervisor's time per child is the collector's. V8 delivers
 * the entries a turn after the collection; `gcPausesMs` takes them after a setImmediate.
 */
const gcPauses = new PerformanceObserver(() => undefined);
gcPauses.observe({ entryTypes: ['gc'] });
async function gcPausesMs(from: number, to: number): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  return gcPauses
    .takeRecords()
    .filter((e) => e.startTime >= from && e.startTime < to)
    .reduce((sum, e) => sum + e.duration, 0);
}

/** One timed phase of `xotpMany`: its wall time and the GC pauses inside it, in ms. */
async function phase(fn: () => Promise<unknown>): Promise<[number, number]> {
  await new Promise((resolve) => setImmediate(resolve));
  gcPauses.takeRecords();
  const t0 = performance.now();
  await fn();
  const t1 = performance.now();
  return [t1 - t0, await gcPausesMs(t0, t1)];
}

/**
 * Start, then shutdown, of a supervisor with `n` brutal_kill children, per child in µs:
 * [start, shutdown, GC pauses within the start, GC pauses within the shutdown].
 */
async function xotpMany(n: number): Promise<[number, number, number, number]> {
  const rt = createRuntime({ name: 'bench', logger: silentLogger });
  const children = Array.from({ length: n }, (_, i) => ({ id: `c${i}`, start: crasher, shutdown: 'brutal_kill' as const }));
  const logic = supervisor({ children });
  collect();
  let pid: Pid | undefined;
  const [start, startGc] = await phase(async () => void (pid = (await rt.start(logic)) as Pid));
  const [stop, stopGc] = await phase(() => rt.stop(pid!, 'shutdown', { timeout: 'infinity' }));
  await rt.shutdown({ timeout: 'infinity' });
  const perChild = (ms: number) => (ms * 1000) / n;
  return [perChild(start), perChild(stop), perChild(startGc), perChild(stopGc)];
}

function hasEscript(): boolean {
  try {
    execFileSync('escript', ['-h'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
const beam = hasEscript();
const otp = (args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile('escript', [join(here, 'fixtures', 'otp_sup.erl'), ...args], { maxBuffer: 1 << 26 }, (err, out) => (err ? reject(err) : resolve(out.trim()))),
  );
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** BENCH_VERBOSE=1: each restart round's mean, p50, p99 and the time spent in restarts over 1 ms (stderr). */
const verbose = (side: string, xs: number[]) => {
  if (!process.env.BENCH_VERBOSE) return;
  const slow = xs.filter((v) => v > 1000);
  const f = (v: number) => v.toFixed(1);
  console.error(`restart round ${side}: mean ${f(mean(xs))} p50 ${f(percentile(xs, 50))} p99 ${f(percentile(xs, 99))} µs; ${slow.length} over 1 ms, ${f(slow.reduce((a, b) => a + b, 0) / 1000)} ms`);
};

type Sides = Record<string, () => number | Promise<number>>;
type Restarts = { mean: number[]; p50: number[] };
const restarts = (): Restarts => ({ mean: [], p50: [] });
const add = (into: Restarts, side: string, xs: number[]) => {
  into.mean.push(mean(xs));
  into.p50.push(percentile(xs, 50));
  verbose(side, xs);
  return 0;
};

for (let i = 0; i < WARMUP_RUNTIMES; i++) await xotpRestartLatencies(WARMUP);
const rows: Row[] = [];
const half = { text: '≤ 0.50× OTP', ok: (r: number) => r <= 0.5 };
if (beam) {
  const x = restarts();
  const o = restarts();
  await interleaved<string>(RESTART_ROUNDS, {
    xotp: async () => add(x, 'xotp', sorted(await xotpRestartLatencies(RESTARTS))),
    otp: async () => add(o, 'otp', sorted((await otp(['restart', String(RESTARTS)])).split(' ').map(Number))),
  } as Sides);
  rows.push(ratioRow('crash → restarted mean vs OTP', x.mean, o.mean, 'µs', half));
  rows.push(ratioRow('crash → restarted p50 vs OTP', x.p50, o.p50, 'µs', half));
}

// The floor, the bare xstate loop, in rounds of its own (with xotp's, for same-moment ratios):
// 4.5 KB of each of its restarts survives a scavenge, and that garbage, collected during the
// rounds after it, made the first xotp round of the OTP comparison the slowest.
{
  for (let i = 0; i < WARMUP_RUNTIMES; i++) rawRestartLatencies(WARMUP);
  const x = restarts();
  const r = restarts();
  await interleaved<string>(ROUNDS, {
    xotp: async () => add(x, 'xotp', sorted(await xotpRestartLatencies(RESTARTS))),
    raw: () => add(r, 'raw', sorted(rawRestartLatencies(RESTARTS))),
  } as Sides);
  rows.push(ratioRow('crash → restarted p50 vs bare xstate stop+spawn', x.p50, r.p50, 'µs'));
  // The mean carries the tail (collections, the machine's other load), which the bare xstate
  // loop shares: this row tells the kernel's own cost apart from the floor's.
  rows.push(ratioRow('crash → restarted mean vs bare xstate stop+spawn', x.mean, r.mean, 'µs'));
}

if (gcOf() !== undefined) {
  const survivors = await interleaved(ROUNDS, { xotp: () => xotpSurvivors(1000), raw: () => rawSurvivors(1000) });
  const bytes = med(survivors.xotp);
  const row = ratioRow('bytes a restart leaves to a scavenge (vs bare xstate)', survivors.xotp, survivors.raw, 'B');
  // About 0.6-0.7 KB now, most of it the maps xstate's Actor constructor makes for every actor
  // (DEVELOPERS.md); 4.5 KB before the fix the row was added for.
  rows.push({ ...row, target: '≤ 2048 B', pass: bytes <= 2048 });
}

await xotpMany(SIZES[0]!);
type PerChild = Record<'xs' | 'xt' | 'os' | 'ot' | 'xsMut' | 'xtMut' | 'xsGc', number[]>;
const perChild: Record<number, PerChild> = {};
for (const n of SIZES) {
  const m: PerChild = (perChild[n] = { xs: [], xt: [], os: [], ot: [], xsMut: [], xtMut: [], xsGc: [] });
  await interleaved<string>(ROUNDS, {
    xotp: async () => {
      const [s, t, sGc, tGc] = await xotpMany(n);
      m.xs.push(s);
      m.xt.push(t);
      m.xsMut.push(s - sGc);
      m.xtMut.push(t - tGc);
      m.xsGc.push(sGc);
      return 0;
    },
    ...(beam
      ? {
          otp: async () => {
            const [s, t] = (await otp(['many', String(n)])).split(' ').map(Number) as [number, number];
            m.os.push(s / n);
            m.ot.push(t / n);
            return 0;
          },
        }
      : {}),
  } as Sides);
  const twice = n >= 10_000 ? { text: '≤ 2.00× OTP', ok: (r: number) => r <= 2 } : undefined;
  if (beam) {
    rows.push(ratioRow(`start ${n / 1000}k brutal_kill children, per child`, m.xs, m.os, 'µs', twice));
    rows.push(ratioRow(`shut down ${n / 1000}k children, per child`, m.xt, m.ot, 'µs', twice));
  } else {
    rows.push({ metric: `start ${n / 1000}k brutal_kill children, per child (no escript: no OTP row)`, xotp: med(m.xs), baseline: NaN, unit: 'µs', ratio: NaN });
    rows.push({ metric: `shut down ${n / 1000}k children, per child (no escript: no OTP row)`, xotp: med(m.xt), baseline: NaN, unit: 'µs', ratio: NaN });
  }
}
// Cost per child must not grow with N: 50k per child against 1k per child, xotp alone.
const growth = (metric: string, k: keyof PerChild, target?: Parameters<typeof ratioRow>[4]) =>
  rows.push(ratioRow(`${metric} per child, 50k vs 1k`, perChild[50_000]![k], perChild[1_000]![k], 'µs', target));
const flat = { text: '≤ 1.20×', ok: (r: number) => r <= 1.2 };
growth('start', 'xs', flat);
growth('shutdown', 'xt', flat);
// Where the growth is: the same without the main thread's GC pauses, and the pauses' share of a
// 50k start (none in a 1k start, whose children fit the young generation: a collection after the
// phase copies them, outside it).
growth('start without GC pauses', 'xsMut');
growth('shutdown without GC pauses', 'xtMut');
rows.push(ratioRow('GC pauses within a 50k start, share of its time per child', perChild[50_000]!.xsGc, perChild[50_000]!.xs, 'µs'));
// The BEAM's own growth over the same range, for scale: a supervisor's live children outgrow the
// young generation (Node) or the process heap's first generations (BEAM) between 1k and 10k.
if (beam) {
  growth('OTP: start', 'os');
  growth('OTP: shutdown', 'ot');
}
if (!beam) console.log('escript not on PATH: the Erlang/OTP rows were skipped (Debian: apt-get install erlang-base)');
report('supervisor', rows, { restarts: RESTARTS, rounds: ROUNDS, restartRounds: RESTART_ROUNDS, beam });
