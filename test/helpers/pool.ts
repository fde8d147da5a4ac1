import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { pool, Pool, bridgeInfo, pythonBridge, type Pid, type PoolOptions, type PoolStatus, type PythonBridgeOptions, type RuntimeEventMap } from '../../src/index.js';
import type { TestRuntime } from '../../src/testing/index.js';
import { examples, track } from './bridge.js';

export { examples };

/** Starts `pool({ worker: examples(), ...options })` and waits until every worker is ready. */
export async function startPool(
  rt: TestRuntime,
  options: Partial<PoolOptions> & { name: string; size: number },
): Promise<{ sup: Pid; status: PoolStatus }> {
  const sup = await rt.start(pool({ worker: examples(), ...options }));
  if (sup === 'ignore') throw new Error('pool start ignored');
  const status = await Pool.ready(rt, options.name);
  return { sup, status };
}

/** The OS pid of the Python process behind a worker (bridge) pid. */
export async function osPidOf(rt: TestRuntime, worker: Pid): Promise<number> {
  const info = await bridgeInfo(rt, worker);
  if (info.osPid === undefined || info.osPid === null) throw new Error(`worker ${String(worker)} has no OS pid`);
  return info.osPid;
}

/** Worker pid (by its id) → OS pid of its Python process, for every worker in the pool's status. */
export async function workerOsPids(rt: TestRuntime, name: string): Promise<Map<number, number>> {
  const status = await Pool.status(rt, name);
  const out = new Map<number, number>();
  for (const w of status.workers) out.set(w.pid.id, await osPidOf(rt, w.pid));
  return out;
}

/**
 * OS pids of the Python bridge processes that are children of this Node process right now (from
 * /proc). Every test file runs in its own Node process, so this sees only this file's workers.
 */
export function pythonChildren(): Set<number> {
  const out = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = rest[0];
      const ppid = Number(rest[1]);
      if (ppid !== process.pid || state === 'Z' || state === 'X') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('xotp_bridge')) out.add(Number(entry));
    } catch {
      // vanished while we looked
    }
  }
  return out;
}

/** The kernel's state letter of an OS process ('R', 'S', 'T' stopped, 'Z', ...), or undefined. */
export function osState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/**
 * Waits (polling every 5 ms of real time, at most `limitMs`) until `cond()` holds. For things
 * outside the runtime only (an OS process changing state, a signal taking effect); never a
 * substitute for the simulated clock.
 */
export async function until(cond: () => boolean | Promise<boolean>, limitMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() >= deadline) throw new Error(`until: ${what} did not hold within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Ids of a status's workers. */
export function workerIds(status: PoolStatus): number[] {
  return status.workers.map((w) => w.pid.id).sort((a, b) => a - b);
}

/** The pool test worker (test/fixtures/xotp_bridge_pool_worker.py): the examples plus file-steered start gate and pings. */
export const POOL_WORKER_SCRIPT = fileURLToPath(new URL('../fixtures/xotp_bridge_pool_worker.py', import.meta.url));

/**
 * A temporary directory steering `xotp_bridge_pool_worker.py` (start gate, failing or blocked pings),
 * removed when the test ends.
 */
export function fixtureDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'xotp-pool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A worker running `xotp_bridge_pool_worker.py`, steered through `dir`. */
export function fixtureWorker(dir: string, options: { startGate?: boolean } & Omit<PythonBridgeOptions, 'module' | 'script' | 'env'> = {}) {
  const { startGate, ...rest } = options;
  return pythonBridge({
    script: POOL_WORKER_SCRIPT,
    env: { XOTP_FIXTURE_DIR: dir, ...(startGate ? { XOTP_FIXTURE_START_GATE: '1' } : {}) },
    ...rest,
  });
}

/** Creates the file `name` in `dir` (a switch the fixture worker reads). */
export function flagOn(dir: string, name: string): void {
  writeFileSync(join(dir, name), '');
}

/** Removes the file `name` from `dir`. */
export function flagOff(dir: string, name: string): void {
  rmSync(join(dir, name), { force: true });
}

/**
 * Checks a worker out and holds it until `release()` is called. `got` resolves with the worker
 * once granted; `done` tracks the checkout itself (it rejects if the checkout fails).
 */
export function hold(rt: TestRuntime, name: string, options: { session?: string; checkoutTimeout?: number | 'infinity'; signal?: AbortSignal } = {}) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let granted!: (p: Pid) => void;
  const got = new Promise<Pid>((resolve) => (granted = resolve));
  const done = track(
    Pool.checkout(
      rt,
      name,
      async (w) => {
        granted(w);
        await released;
        return w;
      },
      options,
    ),
  );
  return { got, release, done };
}

/**
 * The next event `name` on the runtime's bus that `filter` accepts. Create it before the action
 * that causes the event, then await it: a wait on a real event, not on time.
 */
export function nextEvent<K extends keyof RuntimeEventMap>(
  rt: TestRuntime,
  name: K,
  filter: (...args: RuntimeEventMap[K]) => boolean = () => true,
): Promise<RuntimeEventMap[K][0]> {
  return new Promise((resolve) => {
    const listener = (...args: RuntimeEventMap[K]) => {
      if (!filter(...args)) return;
      (rt.events.off as (n: K, l: typeof listener) => void)(name, listener);
      resolve(args[0]);
    };
    (rt.events.on as (n: K, l: typeof listener) => void)(name, listener);
  });
}

/** The next time a worker of `pool` whose call was abandoned is back in service. */
export function nextSettled(rt: TestRuntime, pool: string, worker?: Pid) {
  return nextEvent(rt, 'pool.workerSettled', (e) => e.pool === pool && (worker === undefined || e.worker.id === worker.id));
}
