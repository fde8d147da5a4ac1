import { EventEmitter } from 'eventemitter3';
import type { RuntimeEventMap } from './events.js';
import { formatReason } from './exitReason.js';
import type { Logger } from './logger.js';

type Listener = (...args: unknown[]) => unknown;
type EventName = string | symbol;

/**
 * The runtime's event bus (`runtime.events`): EventEmitter3, except that a listener cannot break
 * the runtime. Events are emitted from inside kernel and supervisor steps; a listener's throw
 * went up through them — a supervisor whose `supervisor.childStarted` listener threw failed to
 * start, a half-done step left behind. As a crashing inspector is (`isolateInspector`), each
 * listener is run in its own `try`: its first error for an event is logged (naming the event;
 * later ones are not), and the other listeners still run.
 *
 * Listeners are wrapped when added; `off`/`removeListener` take the function that was added.
 */
export class RuntimeEvents extends EventEmitter<RuntimeEventMap> {
  readonly #logger: () => Logger;
  readonly #guards = new Map<EventName, WeakMap<Listener, Listener>>();

  /** `logger` is read when a listener fails (the runtime's, once it has one). */
  constructor(logger: () => Logger) {
    super();
    this.#logger = logger;
  }

  #guard(event: EventName, fn: Listener): Listener {
    if (typeof fn !== 'function') return fn; // EventEmitter3 refuses it with its own TypeError
    let byFn = this.#guards.get(event);
    if (byFn === undefined) this.#guards.set(event, (byFn = new WeakMap()));
    let guarded = byFn.get(fn);
    if (guarded === undefined) {
      const logger = this.#logger;
      let reported = false;
      guarded = function (this: unknown, ...args: unknown[]) {
        try {
          return fn.apply(this, args);
        } catch (err) {
          if (!reported) {
            reported = true;
            logger().error(`a listener of runtime event '${String(event)}' threw (ignored; its later errors are not logged): ${formatReason(err)}`, { event: String(event) });
          }
          return undefined;
        }
      };
      byFn.set(fn, guarded);
    }
    return guarded;
  }

  #added(event: EventName, fn: Listener | undefined): Listener | undefined {
    return fn === undefined ? undefined : (this.#guards.get(event)?.get(fn) ?? fn);
  }

  override on(event: any, fn: any, context?: any): this {
    return super.on(event, this.#guard(event, fn) as never, context);
  }

  override addListener(event: any, fn: any, context?: any): this {
    return super.addListener(event, this.#guard(event, fn) as never, context);
  }

  override once(event: any, fn: any, context?: any): this {
    return super.once(event, this.#guard(event, fn) as never, context);
  }

  override off(event: any, fn?: any, context?: any, once?: boolean): this {
    return super.off(event, this.#added(event, fn) as never, context, once);
  }

  override removeListener(event: any, fn?: any, context?: any, once?: boolean): this {
    return super.removeListener(event, this.#added(event, fn) as never, context, once);
  }
}
