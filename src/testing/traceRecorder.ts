import type { Runtime } from '../runtime/runtime.js';
import type { RuntimeEventMap } from '../runtime/events.js';
import { formatReason } from '../runtime/exitReason.js';
import '../supervisor/events.js';

type EventName = keyof RuntimeEventMap;
type Payload<E extends EventName> = RuntimeEventMap[E][0];

/** One recorded event: its name, the runtime clock's time, and its payload. */
export interface TraceEntry<E extends EventName = EventName> {
  event: E;
  t: number;
  data: Payload<E>;
}

/** The kernel's and the supervisors' lifecycle events, recorded by default. */
export const lifecycleEvents: readonly EventName[] = [
  'process.spawned',
  'process.exited',
  'signal',
  'link',
  'unlink',
  'down',
  'name.registered',
  'name.unregistered',
  'call.lateReply',
  'supervisor.childStarted',
  'supervisor.childExited',
  'supervisor.childStartFailed',
  'supervisor.intensityReached',
  'supervisor.shutdown',
  'supervisor.shutdownError',
];

/**
 * Records a runtime's lifecycle events in order, with the runtime clock's time, so a test can
 * assert on what happened (which processes exited, with which reasons, in which order).
 *
 * @example
 * ```ts
 * const trace = new TraceRecorder(runtime);
 * // ... run the scenario ...
 * t.deepEqual(trace.exits().map((e) => e.reason), ['killed', 'killed']);
 * ```
 */
export class TraceRecorder {
  readonly entries: TraceEntry[] = [];
  readonly #runtime: Runtime;
  readonly #off: Array<() => void> = [];
  readonly #waiters = new Set<{ event: EventName; match: (data: never) => boolean; resolve: (data: never) => void }>();

  constructor(runtime: Runtime, events: readonly EventName[] = lifecycleEvents) {
    this.#runtime = runtime;
    for (const event of events) {
      const listener = (data: never) => this.#record(event, data);
      runtime.events.on(event, listener as never);
      this.#off.push(() => runtime.events.off(event, listener as never));
    }
  }

  /** The payloads of every recorded `event`, in order. */
  of<E extends EventName>(event: E): Payload<E>[] {
    return this.entries.filter((e) => e.event === event).map((e) => e.data as Payload<E>);
  }

  /** Every process exit, in order. */
  exits(): Payload<'process.exited'>[] {
    return this.of('process.exited');
  }

  /** Resolves with the next `event` (after now) whose payload matches. */
  next<E extends EventName>(event: E, match: (data: Payload<E>) => boolean = () => true): Promise<Payload<E>> {
    return new Promise((resolve) => {
      this.#waiters.add({ event, match: match as (data: never) => boolean, resolve: resolve as (data: never) => void });
    });
  }

  /** Forgets what was recorded so far. */
  clear(): void {
    this.entries.length = 0;
  }

  /** Stops recording. */
  stop(): void {
    for (const off of this.#off) off();
    this.#off.length = 0;
  }

  /** One readable line per entry (`  12ms exit <test.3> test/counter-3 killed`). */
  format(): string {
    return this.entries.map((e) => `${String(e.t).padStart(6)}ms ${e.event} ${describe(e.data)}`).join('\n');
  }

  #record(event: EventName, data: never): void {
    this.entries.push({ event, t: this.#runtime.clock.now(), data } as TraceEntry);
    for (const w of this.#waiters) {
      if (w.event === event && w.match(data)) {
        this.#waiters.delete(w);
        w.resolve(data);
      }
    }
  }
}

function describe(data: unknown): string {
  if (typeof data !== 'object' || data === null) return String(data);
  return Object.entries(data as Record<string, unknown>)
    .map(([k, v]) => `${k}=${k === 'reason' ? formatReason(v) : String(v)}`)
    .join(' ');
}
