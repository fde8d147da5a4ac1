import { XotpError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';

/** The states of a pool worker when health checks are on. */
export type WorkerState = 'starting' | 'ready' | 'busy' | 'degraded' | 'unhealthy' | 'terminating';

/** One entry of a worker's transition history. */
export interface WorkerTransition {
  from: WorkerState;
  to: WorkerState;
  reason: string;
  /** Runtime clock ms. */
  at: number;
}

const allowed: Record<WorkerState, readonly WorkerState[]> = {
  starting: ['ready', 'terminating'],
  ready: ['busy', 'degraded', 'unhealthy', 'terminating'],
  busy: ['ready', 'degraded', 'unhealthy', 'terminating'],
  degraded: ['ready', 'busy', 'unhealthy', 'terminating'],
  unhealthy: ['terminating'],
  terminating: [],
};

/** A worker lifecycle was asked for a transition its table does not have: a bug in the pool, said loudly. */
export class InvalidTransitionError extends XotpError {
  readonly from: WorkerState;
  readonly to: WorkerState;
  constructor(from: WorkerState, to: WorkerState, reason: string) {
    super('invalid_transition', `worker lifecycle: no transition ${from} → ${to} (asked for: ${reason}); allowed from ${from}: ${allowed[from].join(', ') || 'none'}`);
    this.from = from;
    this.to = to;
  }
}

defineErrorCodes({ invalid_transition: { category: 'permanent', retryable: false } });

/** How many transitions a worker remembers (its status shows them). */
export const DEFAULT_HISTORY = 50;

/**
 * One worker's lifecycle (seed-system §2.4, with `unhealthy` made a state): a transition table,
 * consecutive health failures, and the history of every transition with its reason and time.
 * An illegal transition throws `InvalidTransitionError` and changes nothing (the seed returned
 * an error tuple that its callers ignored); callers that may meet one ask `can` first.
 */
export class WorkerLifecycle {
  state: WorkerState = 'starting';
  failures = 0;
  readonly history: WorkerTransition[] = [];
  readonly #maxHistory: number;
  /** ms spent in each state left so far (the history is bounded; these are not). */
  readonly #timeIn: Partial<Record<WorkerState, number>> = {};
  #since: number;

  /** `startedAt`: runtime clock ms at which it entered `starting`. */
  constructor(maxHistory = DEFAULT_HISTORY, startedAt = 0) {
    this.#maxHistory = maxHistory;
    this.#since = startedAt;
  }

  /** ms spent in each state up to `now`, the current one included. */
  timeInState(now: number): Partial<Record<WorkerState, number>> {
    const out = { ...this.#timeIn };
    out[this.state] = (out[this.state] ?? 0) + Math.max(0, now - this.#since);
    return out;
  }

  can(to: WorkerState): boolean {
    return allowed[this.state].includes(to);
  }

  go(to: WorkerState, reason: string, at: number): void {
    if (!this.can(to)) throw new InvalidTransitionError(this.state, to, reason);
    this.history.push({ from: this.state, to, reason, at });
    if (this.history.length > this.#maxHistory) this.history.shift();
    this.#timeIn[this.state] = (this.#timeIn[this.state] ?? 0) + Math.max(0, at - this.#since);
    this.#since = at;
    this.state = to;
  }

  /** Accepts work: ready, or degraded (still serving while it may recover). */
  get available(): boolean {
    return this.state === 'ready' || this.state === 'degraded';
  }
}

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ invalid_transition: InvalidTransitionError });
