import type { RuntimeClock } from '../runtime/clock.js';
import { InvalidOptionError } from '../runtime/errors.js';

interface Timer {
  readonly id: number;
  readonly due: number;
  readonly fn: (...args: unknown[]) => void;
  readonly origin: string;
}

/**
 * A clock that only moves when told to. Timers fire in order of their due time (ties: in the
 * order they were set), and `now()` reads each timer's own due time while it runs, so a chain
 * of timers sees the same times it would in real life, only instantly.
 *
 * `advance` is async: between two timers it lets pending promise callbacks and I/O callbacks run,
 * so work a timer starts (an async handler, a restart) happens at the simulated time it would.
 *
 * @example
 * ```ts
 * const clock = new SimulatedClock();
 * clock.setTimeout(() => console.log('fired at', clock.now()), 1000);
 * await clock.advance(1500); // logs "fired at 1000"; now() is 1500 afterwards
 * ```
 */
export class SimulatedClock implements RuntimeClock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, Timer>();

  constructor(start = 0) {
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      throw new InvalidOptionError('SimulatedClock.start', 'a finite start time in ms', start);
    }
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): number {
    const id = ++this.#seq;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#timers.set(id, { id, due: this.#now + delay, fn, origin: callerOf(new Error().stack) });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.#timers.size;
  }

  /** The due time of the next timer, if any. */
  nextDue(): number | undefined {
    return this.#next()?.due;
  }

  /** One line per waiting timer: its due time and where it was set (for leak reports). */
  describePending(): string[] {
    return [...this.#timers.values()].map((t) => `timer due at ${t.due} ms, set at ${t.origin}`);
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (including timers
   * set by those timers), each at its own due time.
   */
  async advance(ms: number): Promise<void> {
    checkStep(ms, 'advance.ms');
    const target = this.#now + ms;
    await macrotask();
    for (;;) {
      const next = this.#next();
      if (next === undefined || next.due > target) break;
      this.#fire(next);
      await macrotask();
    }
    this.#now = target;
    await macrotask();
  }

  /** Jumps to the next timer's due time and fires it (and any due at the same time). */
  async runNext(): Promise<boolean> {
    const next = this.#next();
    if (next === undefined) return false;
    await this.advance(next.due - this.#now);
    return true;
  }

  /** Like `advance`, without yielding to promises in between: only for purely synchronous code. */
  tick(ms: number): void {
    checkStep(ms, 'tick.ms');
    const target = this.#now + ms;
    for (;;) {
      const next = this.#next();
      if (next === undefined || next.due > target) break;
      this.#fire(next);
    }
    this.#now = target;
  }

  #fire(timer: Timer): void {
    this.#timers.delete(timer.id);
    if (timer.due > this.#now) this.#now = timer.due;
    timer.fn();
  }

  #next(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers.values()) {
      if (best === undefined || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }
}

/** Time only moves forward, by a real amount: NaN would poison `now()` for every later timer. */
function checkStep(ms: unknown, key: string): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidOptionError(key, 'a finite number of ms ≥ 0 (time only moves forward)', ms);
  }
}

/** Lets queued promise callbacks and I/O callbacks run once. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function callerOf(stack: string | undefined): string {
  const lines = (stack ?? '').split('\n').slice(2);
  const own = lines.find((l) => !l.includes('node_modules') && !l.includes('simulatedClock')) ?? lines[0] ?? '?';
  return own.trim().replace(/^at /, '');
}
