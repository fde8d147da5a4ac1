import type { RuntimeClock } from './clock.js';

/** A pending deadline; pass it to `Deadlines.cancel`. @internal */
export interface Deadline {
  readonly due: number;
  /** Dropped once the deadline is done (fired or cancelled): see `cancel`. */
  fire: (() => void) | undefined;
  readonly lane: Lane;
  done: boolean;
}

interface Lane {
  readonly ms: number;
  /** Entries before `head` are emptied as the head passes them. */
  queue: Array<Deadline | undefined>;
  head: number;
  live: number;
  timer: unknown;
  /** No live deadline, its timer kept armed but unref'd for the next one (see `cancel`). */
  idle: boolean;
}

/** A timer handle that can stop holding the process open: Node's `Timeout`. */
interface Unrefable {
  ref(): unknown;
  unref(): unknown;
}

function unrefable(handle: unknown): handle is Unrefable {
  return typeof (handle as Unrefable | undefined)?.unref === 'function' && typeof (handle as Unrefable).ref === 'function';
}

/**
 * Many timeouts on one clock timer per distinct duration. Deadlines of the same duration
 * expire in the order they were set, so each lane is a FIFO queue with one timer armed for its
 * head; cancelling only marks an entry. A call with the default 5000 ms timeout then costs an
 * array push instead of a `setTimeout` + `clearTimeout` pair, which on Node was most of the
 * cost of a call.
 *
 * A lane whose last deadline is cancelled keeps its timer when the clock's handles can be
 * unref'd (Node's timers): the timer stops holding the process open and the next deadline of
 * that duration takes it over (ref'd again), re-armed when it fires early. Sequential calls
 * otherwise created and cleared a Node timer each, with its lane: 1.2-3 µs of a 40 µs bridge
 * round trip. An idle lane whose timer fires goes away. Handles without `unref` (the simulated
 * clock's) are cleared at once, as before, so a test sees no timer after its last call.
 *
 * @internal
 */
export class Deadlines {
  readonly #clock: RuntimeClock;
  readonly #lanes = new Map<number, Lane>();

  constructor(clock: RuntimeClock) {
    this.#clock = clock;
  }

  /** Calls `fire` after `ms` unless cancelled first. */
  add(ms: number, fire: () => void): Deadline {
    let lane = this.#lanes.get(ms);
    if (lane === undefined) {
      lane = { ms, queue: [], head: 0, live: 0, timer: undefined, idle: false };
      this.#lanes.set(ms, lane);
    }
    const deadline: Deadline = { due: this.#clock.now() + ms, fire, lane, done: false };
    lane.queue.push(deadline);
    lane.live++;
    if (lane.timer === undefined) this.#arm(lane, ms);
    else if (lane.idle) {
      // Armed for an earlier due time: it fires first and re-arms for this one.
      lane.idle = false;
      (lane.timer as Unrefable).ref();
    }
    return deadline;
  }

  cancel(deadline: Deadline): void {
    if (deadline.done) return;
    deadline.done = true;
    // A cancelled deadline stays queued until the head reaches it, possibly long after its call
    // ended (64 calls in flight keep the queue from emptying): without its callback it no longer
    // holds that call (its promise, its caller) alive. With the callback, 630 B of every call
    // survived a scavenge on a loop of 64 concurrent calls.
    deadline.fire = undefined;
    const lane = deadline.lane;
    lane.live--;
    if (lane.live === 0) {
      lane.queue = [];
      lane.head = 0;
      if (unrefable(lane.timer)) {
        lane.idle = true;
        lane.timer.unref();
        return;
      }
      this.#clock.clearTimeout(lane.timer);
      this.#lanes.delete(lane.ms);
      lane.timer = undefined;
      return;
    }
    this.#skipDone(lane);
    // Entries cancelled behind a long-lived head pile up; drop them once they dominate.
    const dead = lane.queue.length - lane.head - lane.live;
    if (dead > 1024 && dead > 2 * lane.live) {
      lane.queue = lane.queue.slice(lane.head).filter((d) => !d!.done);
      lane.head = 0;
    }
  }

  /**
   * Clears the timers idle lanes keep for reuse: for an owner that will add no more deadlines
   * (a bridge that ended), whose idle timer would otherwise hold it in memory until it fires,
   * up to its duration later (an hour, for an hour-long call timeout). Live deadlines stay.
   */
  release(): void {
    for (const lane of this.#lanes.values()) {
      if (!lane.idle) continue;
      this.#clock.clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.idle = false;
      this.#lanes.delete(lane.ms);
    }
  }

  #skipDone(lane: Lane): void {
    const q = lane.queue;
    while (lane.head < q.length && q[lane.head]!.done) q[lane.head++] = undefined;
    if (lane.head > 1024 && lane.head * 2 > q.length) {
      lane.queue = q.slice(lane.head);
      lane.head = 0;
    }
  }

  #arm(lane: Lane, ms: number): void {
    lane.timer = this.#clock.setTimeout(() => this.#expire(lane), Math.max(0, ms));
  }

  #expire(lane: Lane): void {
    lane.timer = undefined;
    lane.idle = false;
    const now = this.#clock.now();
    const q = lane.queue;
    while (lane.head < q.length) {
      const d = q[lane.head]!;
      if (d.done) {
        q[lane.head++] = undefined;
        continue;
      }
      if (d.due > now) break;
      q[lane.head++] = undefined;
      d.done = true;
      lane.live--;
      const fire = d.fire!;
      d.fire = undefined;
      fire();
    }
    if (lane.live === 0) {
      if (lane.timer !== undefined) this.#clock.clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.queue = [];
      lane.head = 0;
      if (this.#lanes.get(lane.ms) === lane) this.#lanes.delete(lane.ms);
      return;
    }
    this.#skipDone(lane);
    if (lane.timer === undefined) this.#arm(lane, lane.queue[lane.head]!.due - now);
  }
}
