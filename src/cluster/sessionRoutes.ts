import { trimOldest } from '../runtime/trimOldest.js';
import { REMEMBERED_SESSIONS } from '../workers/sessionTable.js';

/** Where a remote pool's session lives. @internal */
export interface SessionRoute {
  /** The node that bound it; undefined while its first call is in flight. */
  node: string | undefined;
  /** How many times that node had gone away when it bound the session (a change: it is lost). */
  departures: number;
  /** Its first call (through the queue group), which the session's later calls wait for. */
  first: Promise<void> | undefined;
  /** When its last answer came (the runtime clock). */
  lastUsed: number;
  /** The serving pool's session TTL, from its answers (undefined until one said it). */
  ttl: number | undefined;
}

/** The fewest live routes at which `SessionRoutes` looks for ones to retire. */
const SWEEP_FLOOR = 1024;

/**
 * A remote pool's session routes (`remotePool`): session → the node that bound it. A route is
 * never dropped on its own, since a session's calls must keep going to its node (sent anywhere
 * else they would bind a new, empty session there: the silent loss of state the seed's error
 * report names). But the sessions a node no longer holds — lost with their node or worker,
 * expired (idle past the pool's TTL), or refused (a pool without sessions) — are retired: still
 * found and still routed, in a table bounded as a pool remembers its own expired and lost
 * sessions (`REMEMBERED_SESSIONS`, the oldest half forgotten when full). Without this, a client
 * that ends its sessions by letting them expire kept every route it ever made.
 *
 * Live routes are looked through when their number has doubled since the last look (never
 * below `SWEEP_FLOOR`), so the cost stays constant per session.
 *
 * @internal
 */
export class SessionRoutes {
  readonly #live = new Map<string, SessionRoute>();
  readonly #retired = new Map<string, SessionRoute>();
  readonly #now: () => number;
  /** Whether the route's node left (or restarted) since it bound the session. */
  readonly #departed: (route: SessionRoute) => boolean;
  readonly #memory: number;
  readonly #floor: number;
  #sweepAt: number;

  constructor(now: () => number, departed: (route: SessionRoute) => boolean, limits: { memory?: number; sweepFloor?: number } = {}) {
    this.#now = now;
    this.#departed = departed;
    this.#memory = limits.memory ?? REMEMBERED_SESSIONS;
    this.#floor = limits.sweepFloor ?? SWEEP_FLOOR;
    this.#sweepAt = this.#floor;
  }

  get(session: string): SessionRoute | undefined {
    return this.#live.get(session) ?? this.#retired.get(session);
  }

  /** A route for a session's first call, in flight until `first` resolves. */
  open(session: string, first: Promise<void>): SessionRoute {
    const route: SessionRoute = { node: undefined, departures: 0, first, lastUsed: this.#now(), ttl: undefined };
    this.#retired.delete(session);
    this.#live.set(session, route);
    if (this.#live.size >= this.#sweepAt) this.#sweep();
    return route;
  }

  /**
   * An answer came from the session's node; `ttl` is the pool's session TTL if it said. A
   * retired route that answers again (its node forgot the session and bound it anew) is live
   * again: forgetting it later would send the session's calls elsewhere.
   */
  answered(session: string, route: SessionRoute, ttl: number | undefined): void {
    route.lastUsed = this.#now();
    if (ttl !== undefined) route.ttl = ttl;
    if (this.#retired.get(session) === route) {
      this.#retired.delete(session);
      this.#live.set(session, route);
    }
  }

  /** The session is not held by its node any more (lost, expired, refused): keep its route, bounded. */
  retire(session: string): void {
    const route = this.#live.get(session);
    if (route === undefined) return;
    this.#live.delete(session);
    this.#retired.set(session, route);
    if (this.#retired.size > this.#memory) trimOldest(this.#retired);
  }

  /** Forgets the session's route (ended, or its first call found no node). */
  delete(session: string): SessionRoute | undefined {
    const route = this.get(session);
    this.#live.delete(session);
    this.#retired.delete(session);
    return route;
  }

  /** How many routes are held, live and retired (for tests and status). */
  counts(): { live: number; retired: number } {
    return { live: this.#live.size, retired: this.#retired.size };
  }

  #sweep(): void {
    const now = this.#now();
    for (const [session, route] of this.#live) {
      if (route.node === undefined) continue; // its first call is in flight
      if (this.#departed(route) || (route.ttl !== undefined && now - route.lastUsed > route.ttl)) this.retire(session);
    }
    this.#sweepAt = Math.max(this.#floor, this.#live.size * 2);
  }
}
