/**
 * The runtime's source of time. It is xstate's `Clock` (so `after` delays in machines use it)
 * plus `now()`, which restart intensity, session TTLs and deadlines read. Every timer in xotp
 * goes through the runtime's clock, so a test on `SimulatedClock` controls all of time.
 */
export interface RuntimeClock {
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Milliseconds; only differences between two readings are meaningful. */
  now(): number;
}

/** Real time: Node's timers and `performance.now()`. Timers are unref'd only by their owners. */
export const systemClock: RuntimeClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => performance.now(),
};

/** @internal */
export function isRuntimeClock(value: unknown): value is RuntimeClock {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return typeof c.setTimeout === 'function' && typeof c.clearTimeout === 'function' && typeof c.now === 'function';
}
