/**
 * bench/pool: the pool against raw baselines in the same run.
 *
 * - warm-up of N = 1, 2, 4, 8, 16 workers: parallel (the default) vs sequential
 *   (startConcurrency 1) vs spawning N raw Python echo processes in parallel until their ready
 *   frames (target: parallel ≤ 1.2× raw)
 * - Pool.run p50 vs a direct bridge call (target ≤ 1.15×)
 * - throughput with 1, 2 and 4 workers (64 calls in flight)
 * - 10k sessions: bound (one run each) and looked up (Pool.session) vs a Map
 *
 * Run: npm run bench -- pool
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuntime, pythonBridge, pool, Pool, callBridge, resolvePython, silentLogger, type Pid } from '../src/index.js';
import { FrameDecoder } from '../src/bridge/frameCodec.js';
import { percentile, report, type Row } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const python = await resolvePython(process.env.XOTP_PYTHON || 'python3');
const worker = pythonBridge({ module: 'xotp_bridge.examples', maxPending: 4096 });
const rt = createRuntime({ name: 'bench', logger: silentLogger });
let poolSeq = 0;

function rawParallelSpawn(n: number): Promise<number> {
  const t0 = performance.now();
  return Promise.all(
    Array.from({ length: n }, () => new Promise<void>((resolve) => {
      const child = spawn(python, [join(here, 'raw_echo.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
      const decoder = new FrameDecoder(1 << 20);
      child.stdout!.on('data', (chunk: Buffer) => {
        if (decoder.push(chunk).length > 0) {
          child.stdin!.end();
          child.once('close', () => resolve());
        }
      });
    })),
  ).then(() => performance.now() - t0);
}

async function warmUp(n: number, startConcurrency: number): Promise<number> {
  const name = `warm${++poolSeq}`;
  const t0 = performance.now();
  const sup = (await rt.start(pool({ name, size: n, worker, startConcurrency }))) as Pid;
  await Pool.ready(rt, name);
  const ms = performance.now() - t0;
  await rt.stop(sup, 'shutdown');
  return ms;
}

const rows: Row[] = [];
for (const n of [1, 2, 4, 8, 16]) {
  const raw: number[] = [];
  const par: number[] = [];
  const seq: number[] = [];
  for (let round = 0; round < 3; round++) {
    raw.push(await rawParallelSpawn(n));
    par.push(await warmUp(n, n));
    seq.push(await warmUp(n, 1));
  }
  const [r, p, s] = [raw, par, seq].map((xs) => percentile(xs.sort((a, b) => a - b), 50)) as [number, number, number];
  rows.push({ metric: `warm-up ${n} workers, parallel`, xotp: p, baseline: r, unit: 'ms', ratio: p / r, target: '≤ 1.2× raw', pass: p / r <= 1.2 });
  rows.push({ metric: `warm-up ${n} workers, sequential`, xotp: s, baseline: r, unit: 'ms', ratio: s / r });
}

// Pool.run vs a direct call to one bridge.
const name = 'runbench';
await rt.start(pool({ name, size: 1, worker, sessions: { ttl: 3_600_000 } }));
// The baseline calls the pool's own worker directly: the same Python process, so the ratio
// measures the pool (checkout, check-in) and not two processes' scheduling.
const direct = (await Pool.ready(rt, name)).workers[0]!.pid;
// Alternate the two in one loop so both see the same moment of the machine (Python wake-ups
// make single-sided runs swing by 2x); compare medians.
const viaPool: number[] = [];
const viaBridge: number[] = [];
for (let i = 0; i < 200; i++) {
  await callBridge(rt, direct, 'echo', 'x');
  await Pool.run(rt, name, 'echo', 'x');
}
for (let i = 0; i < 5000; i++) {
  let t0 = performance.now();
  await callBridge(rt, direct, 'echo', 'x');
  viaBridge.push((performance.now() - t0) * 1000);
  t0 = performance.now();
  await Pool.run(rt, name, 'echo', 'x');
  viaPool.push((performance.now() - t0) * 1000);
}
viaPool.sort((a, b) => a - b);
viaBridge.sort((a, b) => a - b);
const runRatio = percentile(viaPool, 50) / percentile(viaBridge, 50);
rows.push({ metric: 'Pool.run p50 vs direct bridge call', xotp: percentile(viaPool, 50), baseline: percentile(viaBridge, 50), unit: 'µs', ratio: runRatio, target: '≤ 1.15×', pass: runRatio <= 1.15 });

// Throughput with 1, 2, 4 workers.
let one = 0;
for (const n of [1, 2, 4]) {
  const pname = `tp${n}`;
  await rt.start(pool({ name: pname, size: n, worker }));
  await Pool.ready(rt, pname);
  let issued = 0;
  const total = 20_000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (issued < total) {
      issued++;
      await Pool.run(rt, pname, 'echo', 'x');
    }
  }));
  const rate = total / ((performance.now() - t0) / 1000);
  if (n === 1) one = rate;
  rows.push({ metric: `throughput, ${n} worker(s), 64 in flight`, xotp: rate, baseline: one, unit: 'call/s', ratio: rate / one });
}

// 10k sessions bound and looked up.
const SESSIONS = 10_000;
let t0 = performance.now();
for (let i = 0; i < SESSIONS; i++) await Pool.run(rt, name, 'echo', i, { session: `s${i}` });
const bindMs = performance.now() - t0;
t0 = performance.now();
for (let i = 0; i < SESSIONS; i++) await Pool.session(rt, name, `s${i}`);
const lookupMs = performance.now() - t0;
const map = new Map<string, number>();
t0 = performance.now();
for (let i = 0; i < SESSIONS; i++) map.set(`s${i}`, i);
for (let i = 0; i < SESSIONS; i++) map.get(`s${i}`);
const mapMs = performance.now() - t0;
const status = await Pool.status(rt, name);
rows.push({ metric: `${SESSIONS / 1000}k sessions bound (one run each)`, xotp: bindMs, baseline: mapMs, unit: 'ms', ratio: bindMs / mapMs });
rows.push({ metric: `${SESSIONS / 1000}k session lookups (Pool.session)`, xotp: lookupMs, baseline: mapMs, unit: 'ms', ratio: lookupMs / mapMs });
if (status.sessions?.bound !== SESSIONS) throw new Error(`expected ${SESSIONS} bound sessions, got ${status.sessions?.bound}`);
await rt.shutdown();
report('pool', rows, { python });
