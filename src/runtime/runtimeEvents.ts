import { EventEmitter } from 'eventemitter3';
import type { RuntimeEventMap } from './events.js';
import { formatReason } from './exitReason.js';
import type { Logger } from './logger.js';

type Listener = (...args: unknown[]) => unknown;
type EventName = string | symbol;

/** The function a guard wraps. */
const ORIGINAL = Symbol('xotp.listener');
type Guarded = Listener & { [ORIGINAL]?: Listener };

/**
 * The runtime's event bus (`runtime.events`): EventEmitter3, except that a listener cannot break
 * the runtime. Events are emitted from inside kernel and supervisor steps; a listener's throw
 * went up through them — a supervisor whose `supervisor.childStarted` listener threw failed to
 * start, a half-done step left behind. As a crashing inspector is (`isolateInspector`), each
 * listener is run in its own `try`: the first error of each registration is logged (naming the
 * event; later ones are not), and the other listeners still run.
 *
 * Each listener added is wrapped; the wrapper names the function it wraps, so `off` and
 * `removeListener` take the function that was added and remove every wrapper of it, as
 * EventEmitter3 removes every registration of a function. (A WeakMap from function to wrapper,
 * kept for the emitter's life, made `once` listeners outlive their call: the restart bench adds
 * one per restart, and the heap profiler found their closures and wrappers surviving young
 * collections (an old weak table's young entries survive scavenges); without the table the
 * bench promotes 23 MB instead of 31 to the old generation over 14k restarts.)
 */
export class RuntimeEvents extends EventEmitter<RuntimeEventMap> {
  readonly #logger: () => Logger;

  /** `logger` is read when a listener fails (the runtime's, once it has one). */
  constructor(logger: () => Logger) {
    super();
    this.#logger = logger;
  }

  #guard(event: EventName, fn: Listener): Listener {
    if (typeof fn !== 'function') return fn; // EventEmitter3 refuses it with its own TypeError
    // A guard already (from listeners(), added again here or elsewhere): it guards itself, and
    // off(event, it) must find it.
    if ((fn as Guarded)[ORIGINAL] !== undefined) return fn;
    const logger = this.#logger;
    let reported = false;
    const guarded: Guarded = function (this: unknown, ...args: unknown[]) {
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
    guarded[ORIGINAL] = fn;
    return guarded;
  }

  /** The guards of `fn` registered for `event`, each once (every listener added is a guard). */
  #registered(event: EventName, fn: Listener): Set<Listener> {
    return new Set((this.listeners(event as never) as Guarded[]).filter((l) => l[ORIGINAL] === fn));
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
    return this.removeListener(event, fn, context, once);
  }

  override removeListener(event: any, fn?: any, context?: any, once?: boolean): this {
    // No function: every listener of the event, as EventEmitter3 does for any falsy one. A
    // guard itself: what EventEmitter3 passes when a `once` listener has run (on every such emit,
    // so without a scan), or one `listeners()` handed out (guards are never wrapped again).
    if (!fn || (fn as Guarded)[ORIGINAL] !== undefined) return super.removeListener(event, fn, context, once);
    for (const l of this.#registered(event, fn)) super.removeListener(event, l as never, context, once);
    return this;
  }
}
