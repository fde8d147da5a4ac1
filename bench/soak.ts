/**
 * bench/soak: chaos under load for a long time (issue 9) — a pool of 4, 16 callers running `echo`
 * back to back while a random one of its Python processes is SIGKILLed every 20 ms, on the real
 * clock, for XOTP_SOAK_MS ms (default 10 minutes; `--ms N` too). At the end the pool must be whole
 * again and every call must have settled with its result or an XotpError with a declared code.
 * Prints a BENCH line with calls, kills, outcomes by code, and the heap before and after (after a
 * GC), so a leak shows as a heap that grows with the duration.
 *
 * Not part of a plain `npm run bench` (it would take 10 minutes): run it by name,
 *   npm run bench -- soak                       (10 minutes)
 *   XOTP_SOAK_MS=60000 npm run bench -- soak    (1 minute)
 */
import { createRuntime, pool, Pool, pythonBridge, silentLogger, type Pid } from '../src/index.js';
import { runPoolChaos, seededRandom } from '../test/chaos/runPoolChaos.js';
import { pythonChildren } from '../test/helpers/pool.js';
import { gc } from './lib.js';

const flag = process.argv.indexOf('--ms');
const durationMs = Number(flag >= 0 ? process.argv[flag + 1] : (process.env.XOTP_SOAK_MS ?? 600_000));
if (!Number.isInteger(durationMs) || durationMs <= 0) throw new Error(`soak: a duration in ms, got ${String(durationMs)}`);
const seed = Number(process.env.XOTP_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SIZE = 4;

const rt = createRuntime({ name: 'soak', logger: silentLogger });
const sup = (await rt.start(pool({ name: 'p', size: SIZE, worker: pythonBridge({ module: 'xotp_bridge.examples' }), maxQueue: 16 }))) as Pid;
await Pool.ready(rt, 'p');
gc();
const heapBefore = process.memoryUsage().heapUsed;

const result = await runPoolChaos({ runtime: rt, pool: 'p', callers: 16, durationMs, killEveryMs: 20, random: seededRandom(seed) });

// Whole again: the real clock runs the backoff, Pool.ready waits for the retries.
let whole = false;
for (let attempt = 0; attempt < 100 && !whole; attempt++) {
  try {
    whole = (await Pool.ready(rt, 'p')).ready === SIZE;
  } catch (err) {
    const next = (err as { nextAttemptInMs?: number | null }).nextAttemptInMs;
    if (typeof next !== 'number') throw err;
    await new Promise((resolve) => setTimeout(resolve, next + 1));
  }
}
const answers = await Promise.all(Array.from({ length: SIZE * 4 }, (_, i) => Pool.run(rt, 'p', 'echo', i)));
gc();
const heapAfter = process.memoryUsage().heapUsed;
await rt.stop(sup, 'shutdown');
await rt.shutdown();
const leftPython = pythonChildren().size;

const ok = whole && answers.every((a, i) => a === i) && !result.outcomes.untyped && !result.outcomes.wrong_result && leftPython === 0;
console.log(
  `BENCH ${JSON.stringify({
    bench: 'soak',
    node: process.version,
    at: new Date().toISOString(),
    seed,
    durationMs,
    calls: result.calls,
    kills: result.kills,
    outcomes: result.outcomes,
    anomalies: result.anomalies,
    heapBefore,
    heapAfter,
    whole,
    leftPython,
    pass: ok,
  })}`,
);
console.log(`soak: ${result.calls} calls, ${result.kills} kills in ${result.elapsedMs} ms (seed ${seed})`);
for (const [code, n] of Object.entries(result.outcomes).sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${code.padEnd(20)} ${n}`);
console.log(`  heap ${(heapBefore / 1e6).toFixed(1)} MB → ${(heapAfter / 1e6).toFixed(1)} MB; pool whole: ${whole}; Python left: ${leftPython}`);
if (!ok) process.exitCode = 1;
