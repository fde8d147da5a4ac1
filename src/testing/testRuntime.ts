import type { InspectionEvent, Observer } from 'xstate';
import { Runtime } from '../runtime/runtime.js';
import { LeakError, InvalidOptionError } from '../runtime/errors.js';
import { isLogger, type Logger } from '../runtime/logger.js';
import { validateOptions, optional, anything, isBoolean, isTimeout, integer } from '../runtime/validate.js';
import type { FallbackResolver } from '../runtime/nameService.js';
import type { Transport } from '../runtime/transport.js';
import { SimulatedClock, macrotask } from './simulatedClock.js';
import { TraceRecorder } from './traceRecorder.js';
import { MemoryLogger } from './memoryLogger.js';
import { StalledError } from './stalledError.js';
import { supervisorStall } from '../supervisor/supervisorStall.js';

/** Options of `createTestRuntime`. */
export interface TestRuntimeOptions {
  /** Runtime name (the `node` of its pids). Default `'test'`. */
  name?: string;
  /** Print log records as they come (they are always kept in `logs`). Default false. */
  echoLogs?: boolean;
  /** Also send log records to this logger. */
  logger?: Logger;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Simulated start time in ms. Default 0. */
  startTime?: number;
  /** Per-process stop timeout used by `dispose` (simulated ms) before killing. Default 5000. */
  shutdownTimeout?: number;
  /** Real-time limit for `dispose` to wait on things outside the simulation (OS processes). Default 10 s. */
  disposeLimitMs?: number;
  /** As `createRuntime`'s: registries in which plain names are looked up. */
  nameRegistries?: string[];
  /** As `createRuntime`'s: fallback resolvers for plain names. */
  resolvers?: FallbackResolver[];
  /** As `createRuntime`'s: the network this node joins (a `MemoryNetwork` in tests). */
  transport?: Transport;
}

/** `createTestRuntime`'s own options; those it shares with `createRuntime` are checked there. */
const testRuntimeSchema = {
  name: anything,
  echoLogs: optional(isBoolean, false),
  logger: optional((v: unknown, key: string): Logger => {
    // Checked here: it is wrapped before createRuntime sees it, so createRuntime cannot.
    if (!isLogger(v)) throw new InvalidOptionError(key, 'a logger with debug, info, warn and error', v);
    return v;
  }),
  inspect: anything,
  startTime: optional((v: unknown, key: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidOptionError(key, 'a finite time in ms', v);
    return v;
  }, 0),
  shutdownTimeout: optional(isTimeout, 5000),
  disposeLimitMs: optional(integer(0), 10_000),
  nameRegistries: anything,
  resolvers: anything,
  transport: anything,
};

const MAX_FLUSH_ROUNDS = 10_000;
/** Event-loop turns without progress after which in-flight work is taken to wait on the outside. */
const STABLE_ROUNDS = 20;
/** Real time given to OS processes to act (exit, answer) before simulated timeouts move on. */
const OUTSIDE_GRACE_MS = 2000;
const live = new Set<TestRuntime>();

/**
 * An isolated runtime for one test: a `SimulatedClock` you move with `advance`, a trace of
 * lifecycle events, log records kept in memory, and a `dispose` that shuts everything down and
 * fails if any process, timer or OS process outlived it.
 *
 * Every test gets its own runtime, so no test can see, stop or race another test's processes.
 */
export class TestRuntime extends Runtime {
  declare readonly clock: SimulatedClock;
  readonly trace: TraceRecorder;
  readonly logs: MemoryLogger;
  readonly #shutdownTimeout: number;
  readonly #disposeLimitMs: number;
  #disposed: Promise<void> | undefined;

  constructor(options: TestRuntimeOptions = {}) {
    const o = validateOptions('createTestRuntime', options, testRuntimeSchema);
    const clock = new SimulatedClock(o.startTime);
    const logs = new MemoryLogger({ echo: o.echoLogs });
    const extra = o.logger;
    const logger: Logger = extra
      ? {
          debug: (m, meta) => (logs.debug(m, meta), extra.debug(m, meta)),
          info: (m, meta) => (logs.info(m, meta), extra.info(m, meta)),
          warn: (m, meta) => (logs.warn(m, meta), extra.warn(m, meta)),
          error: (m, meta) => (logs.error(m, meta), extra.error(m, meta)),
        }
      : logs;
    // The options shared with createRuntime go to it as given (even falsy ones), so that it
    // checks them and names them as it does for a plain runtime.
    super({
      name: (o.name ?? 'test') as string,
      clock,
      logger,
      ...(o.inspect !== undefined ? { inspect: o.inspect as TestRuntimeOptions['inspect'] } : {}),
      ...(o.nameRegistries !== undefined ? { nameRegistries: o.nameRegistries as string[] } : {}),
      ...(o.resolvers !== undefined ? { resolvers: o.resolvers as FallbackResolver[] } : {}),
      ...(o.transport !== undefined ? { transport: o.transport as Transport } : {}),
    });
    this.logs = logs;
    this.trace = new TraceRecorder(this);
    this.#shutdownTimeout = o.shutdownTimeout;
    this.#disposeLimitMs = o.disposeLimitMs;
    live.add(this);
  }

  /**
   * Moves simulated time forward by `ms` (firing due timers in order, letting promise callbacks
   * run between them), then waits until no asynchronous handler is running.
   */
  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms);
    await this.flush();
  }

  /**
   * Waits until the runtime has settled: every promise callback and every timer due by now has
   * run, and no asynchronous handler is running — or the ones still running have made no
   * progress for several event-loop turns (they wait on something outside the runtime, such as
   * the test itself or an OS process). Uses no real time beyond event-loop turns.
   *
   * @throws StalledError when the runtime is quiet but a supervisor still has work queued that
   *   nothing will move on (a hang that would otherwise pass for "settled").
   */
  async flush(): Promise<void> {
    let stable = 0;
    let last = this.#progress();
    for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
      await this.clock.advance(0);
      const now = this.#progress();
      if (this.inflight === 0 && !this.#dueNow()) {
        await macrotask();
        if (this.inflight === 0 && !this.#dueNow() && this.#progress() === now) return this.#assertNoStall();
      } else if (now === last) {
        if (++stable >= STABLE_ROUNDS) return this.#assertNoStall();
      } else {
        stable = 0;
      }
      last = now;
    }
    throw new Error(`flush: runtime '${this.name}' still busy after ${MAX_FLUSH_ROUNDS} rounds (${this.inflight} in flight)`);
  }

  /** Quiet is not settled if a process holds work nothing will carry out (a stalled supervisor). */
  #assertNoStall(): void {
    const stalls: string[] = [];
    for (const pid of this.processes()) {
      const actor = this.actorOf(pid);
      const stall = actor && supervisorStall(actor);
      if (stall !== undefined) stalls.push(`supervisor ${pid} (${this.info(pid)?.id ?? '?'}) ${stall}`);
    }
    if (stalls.length > 0) throw new StalledError(this.name, stalls);
  }

  #progress(): string {
    const s = this.stats();
    return `${this.inflight}/${s.spawned}/${s.exited}/${this.trace.entries.length}/${this.clock.pending}`;
  }

  #dueNow(): boolean {
    const next = this.clock.nextDue();
    return next !== undefined && next <= this.clock.now();
  }

  /** What is alive right now: processes, timers and tracked OS resources, one line each. */
  leaks(): string[] {
    const out: string[] = [];
    for (const pid of this.processes()) {
      const info = this.info(pid);
      out.push(`process ${pid} (${info?.id ?? '?'}) is ${info?.status ?? 'alive'}`);
    }
    out.push(...this.clock.describePending());
    for (const r of this.liveResources()) out.push(`resource ${r.describe()} is alive`);
    return out;
  }

  /**
   * Shuts the runtime down (moving simulated time as the shutdown needs it), then throws a
   * `LeakError` listing anything still alive: a process that would not die, a timer nobody
   * cleared, an OS process that outlived its owner. Idempotent.
   */
  dispose(): Promise<void> {
    this.#disposed ??= this.#dispose();
    return this.#disposed;
  }

  async #dispose(): Promise<void> {
    let done = false;
    let failure: unknown;
    const shutdown = this.shutdown({ timeout: this.#shutdownTimeout }).then(
      () => (done = true),
      (err: unknown) => {
        done = true;
        failure = err;
      },
    );
    const started = Date.now();
    let stable = 0;
    let last = this.#progress();
    let outsideSince: number | undefined;
    while (!done) {
      await macrotask();
      if (done) break;
      const now = this.#progress();
      stable = now === last ? stable + 1 : 0;
      last = now;
      if (Date.now() - started > this.#disposeLimitMs) break;
      if (stable < STABLE_ROUNDS && this.inflight > 0) continue;
      // OS processes are alive: they may be about to answer (a bridge leaving on its shutdown
      // frame). Give them real time before simulated timeouts fire, as a real clock would.
      if (this.liveResources().length > 0) {
        outsideSince ??= Date.now();
        if (Date.now() - outsideSince < OUTSIDE_GRACE_MS || this.clock.pending === 0) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
      }
      outsideSince = undefined;
      if (this.clock.pending > 0) {
        // Nothing else can move: let simulated time pass to the next timer (a stop timeout).
        await this.clock.runNext();
      } else if (stable >= STABLE_ROUNDS) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    if (done) await shutdown;
    // A process killed at the end (SIGKILL) is gone as soon as the OS has reaped it.
    const reapStart = Date.now();
    while (this.liveResources().length > 0 && Date.now() - reapStart < OUTSIDE_GRACE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.trace.stop();
    live.delete(this);
    const leaks = this.leaks();
    if (!done) leaks.unshift(`shutdown did not finish within ${this.#disposeLimitMs} ms of real time`);
    if (failure !== undefined) leaks.unshift(`shutdown failed: ${String(failure)}`);
    if (leaks.length > 0) throw new LeakError(this.name, leaks);
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  /** Test runtimes created and not yet disposed (to catch a test that forgot to dispose). */
  static undisposed(): TestRuntime[] {
    return [...live];
  }
}

/**
 * Creates an isolated runtime on a simulated clock for one test.
 *
 * @example
 * ```ts
 * test('a crash is seen by a linked process', async (t) => {
 *   await using rt = createTestRuntime();
 *   const a = rt.spawn(worker);
 *   // ...
 *   await rt.advance(1000);
 * }); // disposal shuts down and fails the test on any leak
 * ```
 */
export function createTestRuntime(options?: TestRuntimeOptions): TestRuntime {
  return new TestRuntime(options);
}
