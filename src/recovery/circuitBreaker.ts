import { setup } from 'xstate';
import { InvalidOptionError, NoProcessError } from '../runtime/errors.js';
import { isPlainObject, notPlain } from '../runtime/validate.js';
import { processProtocol } from '../runtime/messages.js';
import { definedLogic, definitionOf } from '../runtime/definedLogic.js';
import { runtimeOf, type Runtime, type Target } from '../runtime/runtime.js';
import { breakerSettings, BreakerCore, type BreakerEvent, type BreakerOptions, type BreakerStatus } from './breakerCore.js';

/** Options of `circuitBreaker`: the breaker's own plus the circuit's name (for errors and status). */
export interface CircuitBreakerOptions extends BreakerOptions {
  /** The circuit's name, shown in `CircuitOpenError` and status. */
  name: string;
}

interface BreakerContext {
  core: BreakerCore;
}

/**
 * A circuit breaker as a process: an xstate machine `closed → open → halfOpen → closed`, so the
 * inspector and `runtime.tree()` show which circuits are open. While closed, calls pass;
 * `failureThreshold` failures in a row within the window trip it open; while open, calls fail at once with
 * `CircuitOpenError`; after `resetTimeout` (on the runtime clock) it lets up to `halfOpenMax`
 * probes through: `successThreshold` successes close it, any failure opens it again.
 *
 * Callers do not message the breaker on every call: they read and update its shared counters
 * in their own turn (`Circuit.run`), and only a transition is an event to the machine.
 *
 * @example
 * ```ts
 * runtime.spawn(circuitBreaker({ name: 'payments', failureThreshold: 3 }), { name: 'payments' });
 * await Circuit.run(runtime, 'payments', () => charge(order));
 * ```
 */
export function circuitBreaker(options: CircuitBreakerOptions) {
  // A Map or a class instance with a `name` would pass the name check and lose its settings.
  if (!isPlainObject(options)) throw notPlain('circuitBreaker', 'an options object', options);
  if (typeof options.name !== 'string' || options.name === '') {
    throw new InvalidOptionError('circuitBreaker.name', 'a non-empty string', (options as { name?: unknown } | null)?.name);
  }
  const { name, ...rest } = options;
  const definition: BreakerDefinition = { name, settings: breakerSettings('circuitBreaker', rest) };
  return definedLogic((machine ??= buildBreakerMachine()), definition);
}

/** What one `circuitBreaker()` call defines. */
interface BreakerDefinition {
  readonly name: string;
  readonly settings: ReturnType<typeof breakerSettings>;
}

/** One machine for the whole Node process, built by the first definition (see `definedLogic`). */
let machine: ReturnType<typeof buildBreakerMachine> | undefined;

function buildBreakerMachine() {
  const built = setup({
    types: {} as { context: BreakerContext; events: BreakerEvent; input: unknown },
    delays: { resetTimeout: ({ context }) => context.core.s.resetTimeout },
    actions: {
      enter: ({ context }, state: 'closed' | 'open' | 'halfOpen') => context.core.entered(state),
    },
  }).createMachine({
    id: 'circuitBreaker',
    context: ({ self, input }) => {
      const { name, settings } = definitionOf<BreakerDefinition>(input, 'a circuit breaker machine').definition;
      const core = new BreakerCore(name, settings, runtimeOf(self).clock);
      // A transition asked by a caller is an event to the machine (delivered in order by xstate).
      core.send = (event) => self.send(event);
      return { core };
    },
    initial: 'closed',
    states: {
      closed: {
        entry: { type: 'enter', params: 'closed' },
        on: { 'breaker.trip': 'open' },
      },
      open: {
        entry: { type: 'enter', params: 'open' },
        after: { resetTimeout: 'halfOpen' },
      },
      halfOpen: {
        entry: { type: 'enter', params: 'halfOpen' },
        on: { 'breaker.trip': 'open', 'breaker.close': 'closed' },
      },
    },
    // An operator's reset closes the circuit from any state (re-entering closed clears its count).
    on: { 'breaker.reset': { target: '.closed', reenter: true } },
  });
  Object.assign(built, { [processProtocol]: { label: 'breaker' } });
  return built;
}

/** The shared core of a running breaker process, or undefined. @internal */
export function breakerOf(runtime: Runtime, target: Target): BreakerCore | undefined {
  const context = runtime.actorOf(target)?.getSnapshot()?.context as Partial<BreakerContext> | undefined;
  return context?.core instanceof BreakerCore ? context.core : undefined;
}

function mustBreaker(runtime: Runtime, target: Target, operation: string): BreakerCore {
  const alive = runtime.isAlive(target);
  const core = alive ? breakerOf(runtime, target) : undefined;
  if (core) return core;
  // As Pool.* for a pool that is not running: the process is missing (or is something else).
  throw new NoProcessError(target, operation, alive ? 'A process runs there, but it is not a circuit breaker' : undefined);
}

/**
 * Runs `fn` through a breaker core: refused at once when open, its outcome counted.
 * @internal
 */
export async function throughBreaker<T>(core: BreakerCore, fn: () => Promise<T>): Promise<T> {
  const probe = core.admit();
  try {
    const value = await fn();
    core.succeeded(probe);
    return value;
  } catch (err) {
    core.failed(err, probe);
    throw err;
  }
}

/** Using a circuit breaker process (`circuitBreaker`) by pid or name. */
export const Circuit = {
  /**
   * Runs `fn` through the circuit: throws `CircuitOpenError` at once while it is open; counts
   * the outcome otherwise.
   */
  run<T>(runtime: Runtime, target: Target, fn: () => Promise<T>): Promise<T> {
    try {
      if (typeof fn !== 'function') throw new InvalidOptionError('Circuit.run.fn', 'a function returning a promise', fn);
      return throughBreaker(mustBreaker(runtime, target, 'Circuit.run'), fn);
    } catch (err) {
      return Promise.reject(err);
    }
  },
  /** The circuit's state and counters. */
  status(runtime: Runtime, target: Target): BreakerStatus {
    return mustBreaker(runtime, target, 'Circuit.status').status();
  },
  /** Closes the circuit now, whatever its state (an operator's override). */
  reset(runtime: Runtime, target: Target): void {
    mustBreaker(runtime, target, 'Circuit.reset').send({ type: 'breaker.reset' });
  },
};
