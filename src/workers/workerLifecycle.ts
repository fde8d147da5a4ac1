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

/**
 * One worker's lifecycle (seed-system §2.4, with `unhealthy` made a state): a transition table,
 * consecutive health failures, and the history of every transition with its reason and time.
 * An illegal transition is refused (returns false) and changes nothing.
 */
export class WorkerLifecycle {
  state: WorkerState = 'starting';
  failures = 0;
  readonly history: WorkerTransition[] = [];
  readonly #maxHistory: number;

  constructor(maxHistory = 50) {
    this.#maxHistory = maxHistory;
  }

  can(to: WorkerState): boolean {
    return allowed[this.state].includes(to);
  }

  go(to: WorkerState, reason: string, at: number): boolean {
    if (!this.can(to)) return false;
    this.history.push({ from: this.state, to, reason, at });
    if (this.history.length > this.#maxHistory) this.history.shift();
    this.state = to;
    return true;
  }

  /** Accepts work: ready, or degraded (still serving while it may recover). */
  get available(): boolean {
    return this.state === 'ready' || this.state === 'degraded';
  }
}
