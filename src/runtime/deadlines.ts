import type { RuntimeClock } from './clock.js';

/** A pending deadline; pass it to `Deadlines.cancel`. @internal */
export interface Deadline {
  readonly due: number;
  readonly fire: () => void;
  readonly lane: Lane;
  done: boolean;
}

interface Lane {
  readonly ms: number;
  queue: Deadline[];
  head: number;
  live: number;
  timer: unknown;
}

/**
 * Many timeouts on one clock timer per distinct duration. Deadlines of the same duration
 * expire in the order they were set, so each lane is a FIFO queue with one timer armed for its
 * head; cancelling only marks an entry. A call with the default 5000 ms timeout then costs an
 * array push instead of a `setTimeout` + `clearTimeout` pair, which on Node was most of the
 * cost of a call.
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
      lane = { ms, queue: [], head: 0, live: 0, timer: undefined };
      this.#lanes.set(ms, lane);
    }
    const deadline: Deadline = { due: this.#clock.now() + ms, fire, lane, done: false };
    lane.queue.push(deadline);
    lane.live++;
    if (lane.timer === undefined) this.#arm(lane, ms);
    return deadline;
  }

  cancel(deadline: Deadline): void {
    if (deadline.done) return;
    deadline.done = true;
    const lane = deadline.lane;
    lane.live--;
    if (lane.live === 0) {
      this.#clock.clearTimeout(lane.timer);
      this.#lanes.delete(lane.ms);
      lane.timer = undefined;
      lane.queue = [];
      lane.head = 0;
      return;
    }
    this.#skipDone(lane);
    // Entries cancelled behind a long-lived head pile up; drop them once they dominate.
    const dead = lane.queue.length - lane.head - lane.live;
    if (dead > 1024 && dead > 2 * lane.live) {
      lane.queue = lane.queue.slice(lane.head).filter((d) => !d.done);
      lane.head = 0;
    }
  }

  #skipDone(lane: Lane): void {
    const q = lane.queue;
    while (lane.head < q.length && q[lane.head]!.done) lane.head++;
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
    const now = this.#clock.now();
    const q = lane.queue;
    while (lane.head < q.length) {
      const d = q[lane.head]!;
      if (d.done) {
        lane.head++;
        continue;
      }
      if (d.due > now) break;
      lane.head++;
      d.done = true;
      lane.live--;
      d.fire();
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
