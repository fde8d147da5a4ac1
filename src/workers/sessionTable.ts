import type { Pid } from '../runtime/pid.js';
import { trimOldest } from '../runtime/trimOldest.js';

/** What a pool knows of a session. */
export type SessionState =
  | { state: 'bound'; worker: Pid; lastUsed: number; expiresAt: number }
  | { state: 'expired'; expiredAt: number }
  | { state: 'lost'; reason: string }
  | { state: 'unknown' };

interface Binding {
  worker: Pid;
  lastUsed: number;
  /** Calls of this session running now: a session in use does not expire. */
  inUse: number;
}

/**
 * Session → worker bindings with a TTL on the runtime clock. Expired and lost sessions are
 * remembered (a bounded number of them) so that a lookup tells `expired` and `lost` from
 * `unknown` — the seed's error 2, where a sweep deleted the row and "expired" became "no
 * affinity".
 */
/**
 * How many expired and how many lost sessions are remembered so that a lookup can still say
 * `expired` / `lost` rather than `unknown`: enough for any caller that comes back within a sweep
 * or two, bounded so a stream of one-shot sessions cannot grow memory without end.
 */
export const REMEMBERED_SESSIONS = 10_000;

export class SessionTable {
  readonly ttl: number;
  readonly #bound = new Map<string, Binding>();
  readonly #byWorker = new Map<number, Set<string>>();
  readonly #expired = new Map<string, number>();
  readonly #lost = new Map<string, string>();
  readonly #memory: number;
  /**
   * Told when a bound session ends here (expired, or ended with `end`), with the worker that held
   * it: the pool tells that worker's Python process to drop the session's state. (A session
   * lost with its worker needs no telling: its state died with the process.)
   */
  onDrop: ((session: string, worker: Pid, why: 'expired' | 'ended') => void) | undefined = undefined;

  constructor(ttl: number, memory = REMEMBERED_SESSIONS) {
    this.ttl = ttl;
    this.#memory = memory;
  }

  get size(): number {
    return this.#bound.size;
  }

  lookup(session: string, now: number): SessionState {
    const b = this.#bound.get(session);
    if (b) {
      if (b.inUse === 0 && now - b.lastUsed > this.ttl) {
        this.#expire(session, b, b.lastUsed + this.ttl);
        return { state: 'expired', expiredAt: b.lastUsed + this.ttl };
      }
      return { state: 'bound', worker: b.worker, lastUsed: b.lastUsed, expiresAt: b.lastUsed + this.ttl };
    }
    const expiredAt = this.#expired.get(session);
    if (expiredAt !== undefined) return { state: 'expired', expiredAt };
    const reason = this.#lost.get(session);
    if (reason !== undefined) return { state: 'lost', reason };
    return { state: 'unknown' };
  }

  bind(session: string, worker: Pid, now: number): void {
    this.#expired.delete(session);
    this.#lost.delete(session);
    this.#bound.set(session, { worker, lastUsed: now, inUse: 0 });
    let set = this.#byWorker.get(worker.id);
    if (!set) this.#byWorker.set(worker.id, (set = new Set()));
    set.add(session);
  }

  /** Use refreshes the TTL. */
  touch(session: string, now: number): void {
    const b = this.#bound.get(session);
    if (b) b.lastUsed = now;
  }

  /** A call of the session starts: it cannot expire until `release`. */
  acquire(session: string, now: number): void {
    const b = this.#bound.get(session);
    if (!b) return;
    b.inUse++;
    b.lastUsed = now;
  }

  /** A call of the session ended: its TTL counts from now. */
  release(session: string, now: number): void {
    const b = this.#bound.get(session);
    if (!b) return;
    b.inUse = Math.max(0, b.inUse - 1);
    b.lastUsed = now;
  }

  /** Forgets a session entirely (it becomes `unknown`). */
  end(session: string): boolean {
    const b = this.#bound.get(session);
    this.#expired.delete(session);
    this.#lost.delete(session);
    if (!b) return false;
    this.#bound.delete(session);
    this.#byWorker.get(b.worker.id)?.delete(session);
    this.onDrop?.(session, b.worker, 'ended');
    return true;
  }

  /** The worker died: its sessions are lost, and say so. */
  workerGone(worker: Pid, reason: string): string[] {
    const sessions = [...(this.#byWorker.get(worker.id) ?? [])];
    this.#byWorker.delete(worker.id);
    for (const s of sessions) {
      this.#bound.delete(s);
      this.#lost.set(s, reason);
    }
    if (this.#lost.size > this.#memory) trimOldest(this.#lost);
    return sessions;
  }

  /** Removes sessions whose TTL passed (the periodic sweep); they stay known as expired. */
  sweep(now: number): number {
    let n = 0;
    for (const [session, b] of this.#bound) {
      if (b.inUse === 0 && now - b.lastUsed > this.ttl) {
        this.#expire(session, b, b.lastUsed + this.ttl);
        n++;
      }
    }
    return n;
  }

  stats(now: number): { bound: number; expired: number; lost: number; workersWithSessions: number } {
    let workers = 0;
    for (const set of this.#byWorker.values()) if (set.size > 0) workers++;
    void now;
    return { bound: this.#bound.size, expired: this.#expired.size, lost: this.#lost.size, workersWithSessions: workers };
  }

  #expire(session: string, b: Binding, at: number): void {
    this.#bound.delete(session);
    this.#byWorker.get(b.worker.id)?.delete(session);
    this.#expired.set(session, at);
    if (this.#expired.size > this.#memory) trimOldest(this.#expired);
    this.onDrop?.(session, b.worker, 'expired');
  }
}
