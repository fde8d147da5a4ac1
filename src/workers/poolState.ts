import type { Pid } from '../runtime/pid.js';
import type { CallFrom, DownMessage } from '../runtime/messages.js';
import type { Runtime } from '../runtime/runtime.js';
import { formatReason } from '../runtime/exitReason.js';
import { startChild, terminateChild } from '../supervisor/childManagement.js';
import { awaitBridgeReady, callBridge } from '../bridge/bridgeClient.js';
import { BridgeStartupError, PythonError } from '../bridge/bridgeErrors.js';
import { TimeoutError } from '../runtime/errors.js';
import { Deadlines } from '../runtime/deadlines.js';
import type { RecoveryOrchestrator } from '../recovery/recoveryOrchestrator.js';
import { SessionTable, type SessionState } from './sessionTable.js';
import { WorkerLifecycle } from './workerLifecycle.js';
import { CheckoutTimeoutError, PoolBusyError, PoolStartError, PoolStoppedError, SessionExpiredError, SessionLostError, SessionsDisabledError } from './poolErrors.js';
import type { CheckinOutcome, Info, Lease, LocalWaiter, ManagerContext, PoolSettings, PoolStats, PoolStatus, PoolWorkerStatus, Waiter, Worker } from './poolTypes.js';
import { listening, watchBreaker } from './poolTelemetry.js';
import { bridgeSpawnEnv } from '../bridge/pythonBridge.js';
import { PoolRun, defaultStateDir, runEnvironment, sweepOrphans } from './orphanSweep.js';

/**
 * The pool's state and its decisions: idle workers, the FIFO of waiting callers, leases,
 * sessions, health. Kept in the manager server; the calls themselves run in the callers (the
 * manager never waits on Python).
 *
 * @internal
 */
/**
 * The start backoff: long enough that a module that can never import does not spin a CPU
 * (a Python start costs tens of ms), short enough that a fixed module is picked up within
 * seconds, as an operator expects after fixing it.
 */
const START_BACKOFF_BASE_MS = 100;
const START_BACKOFF_MAX_MS = 5000;

export class PoolState {
  readonly s: PoolSettings;
  readonly workers = new Map<number, Worker>();
  readonly idle: Pid[] = [];
  readonly waiters: Waiter[] = [];
  /** Callers waiting for one particular (session-bound) worker. */
  readonly bound = new Map<number, Waiter[]>();
  /** Lease number → its lease (what `checkoutNow` hands the caller: one object per checkout). */
  readonly leases = new Map<number, Lease & { session: string | undefined }>();
  readonly readyWaiters: CallFrom[] = [];
  readonly sessions: SessionTable | undefined;
  /** Workers asked of the supervisor and not spawned yet. */
  starting = 0;
  /** Consecutive failed start attempts; a handshake resets them. */
  startFailures = 0;
  /**
   * Backoffs waited since the last handshake: the next one doubles with them. Counted per
   * backoff, not per failed attempt, so that a first round of parallel starts failing together
   * (size 4: four failures at once) backs off 100 ms, then 200, 400..., as one failure would.
   */
  #backoffs = 0;
  lastStartError: unknown = undefined;
  /** Retries, breaker, capacity: consulted by `Pool.run` in the caller, never on the happy path. */
  recovery: RecoveryOrchestrator | undefined;
  /** Runtime clock ms of the pending backoff retry (undefined: no retry scheduled). */
  nextAttemptAt: number | undefined = undefined;
  #lease = 0;
  replaced = 0;
  /**
   * Workers being replaced after failing their health checks (`terminating`), until their DOWN:
   * not counted against `size`, so their replacement starts at once. A hung process cannot read
   * its shutdown frame; waiting for its SIGTERM and SIGKILL steps would leave the pool a worker
   * short for up to twice the bridge's shutdownTimeout.
   */
  readonly #replacing = new Set<number>();
  stopping = false;
  timers: unknown[] = [];
  readonly stats: PoolStats = { checkouts: 0, busyRejects: 0, workerExits: 0, started: 0 };

  constructor(settings: PoolSettings) {
    this.s = settings;
    this.sessions = settings.sessions ? new SessionTable(settings.sessions.ttl) : undefined;
  }

  toJSON(): unknown {
    return { workers: this.workers.size, idle: this.idle.length, queued: this.waiters.length, starting: this.starting };
  }

  /**
   * Wires the pool to its process once it runs: sessions that end or expire tell their worker's
   * Python process to drop their state (`xotp.endSession`), and the breaker's transitions
   * become `breaker.transition` events.
   */
  attach(ctx: ManagerContext): void {
    this.#ctx = ctx;
    const rt = ctx.runtime;
    if (this.sessions) {
      this.sessions.onDrop = (session, worker, why) => {
        // In frame order on that worker: a later call of a new session of the same id runs
        // after the drop. A worker that is gone took the state with it.
        if (this.workers.has(worker.id)) void callBridge(rt, worker, 'xotp.endSession', { session }).catch(() => undefined);
        const name = why === 'expired' ? 'pool.sessionExpired' : 'pool.sessionEnded';
        if (listening(rt, name)) rt.events.emit(name, { pool: this.s.name, session, worker });
      };
    }
    if (this.s.breaker) watchBreaker(rt, this.s.name, this.s.breakerName);
    if (this.s.orphans) this.#startRun(ctx, this.s.orphans.stateDir ?? defaultStateDir());
  }

  /** The manager's context while it runs: lets callers check out and in in their own turn. */
  #ctx: ManagerContext | undefined;

  /** This run of the pool: its id marks the processes it starts (bridges take it as spawn input). */
  run: PoolRun | undefined;

  /**
   * Ends what earlier runs of this pool left behind (their host died), then records this run.
   * Before any worker starts, so a sweep can never meet a process of this run.
   */
  #startRun(ctx: ManagerContext, dir: string): void {
    const swept = sweepOrphans(this.s.name, dir);
    if (swept.killed.length > 0) {
      ctx.runtime.logger.warn(
        `pool '${this.s.name}': ended ${swept.killed.length} leftover process(es) of earlier run(s) whose host died (${swept.runs.join(', ')}): pids ${swept.killed.join(', ')}`,
      );
    }
    if (swept.runs.length > 0 && listening(ctx.runtime, 'pool.orphansSwept')) {
      ctx.runtime.events.emit('pool.orphansSwept', { pool: this.s.name, runs: swept.runs, killed: swept.killed });
    }
    const run = new PoolRun(this.s.name, dir);
    if (run.write()) this.run = run;
  }

  /**
   * The pool's process ended (however): its run is over, its state file goes. Callers that
   * joined the queue in their own turn are not calls to it: nothing else would tell them (a
   * stop already did, in `failWaiters`; a kill did not).
   */
  detach(reason: unknown = 'normal'): void {
    this.failWaiters(undefined, new PoolStoppedError(this.s.name, formatReason(reason)));
    this.#deadlines?.release();
    this.#ctx = undefined;
    this.run?.remove();
    this.run = undefined;
  }

  get readyCount(): number {
    let n = 0;
    for (const w of this.workers.values()) if (w.ready) n++;
    return n;
  }

  /** Spawned workers that have not finished their handshake. */
  get warming(): number {
    return this.workers.size - this.readyCount;
  }

  // --- workers -------------------------------------------------------------------------------

  /** Starts workers until the pool has `size` (in parallel, at most `startConcurrency` at once). */
  fill(ctx: ManagerContext): void {
    // While starts are failing, the next attempt waits for its backoff.
    if (this.stopping || this.nextAttemptAt !== undefined) return;
    // After a failed start, one attempt at a time until a worker gets ready: a module that
    // cannot be imported costs one Python start per backoff, not `startConcurrency` of them.
    const concurrency = this.startFailures > 0 ? 1 : this.s.startConcurrency;
    while (this.workers.size - this.#replacing.size + this.starting < this.s.size && this.starting + this.warming < concurrency) {
      // Lazy pools start a worker only for a caller that no starting worker will serve.
      if (this.s.lazy && this.starting + this.warming >= this.waiters.length) break;
      this.#startOne(ctx);
    }
  }

  #startOne(ctx: ManagerContext): void {
    const rt = ctx.runtime;
    this.starting++;
    const worker = this.s.worker;
    const manager = ctx.self;
    let spawned: Pid | undefined;
    // The supervisor only spawns (the start function does not wait for the handshake), so the
    // dynamic supervisor is never blocked on Python and workers warm up in parallel.
    startChild(rt, this.s.workersName, {
      start: ({ runtime, supervisor }) => {
        const marked = this.run !== undefined && (worker as { [bridgeSpawnEnv]?: boolean })[bridgeSpawnEnv] === true;
        const pid = (spawned = runtime.spawn(worker, marked ? { parent: supervisor, link: supervisor, input: { env: runEnvironment(this.run!.record) } } : { parent: supervisor, link: supervisor }));
        // Adopted and watched from its first instant: a worker that dies before the manager
        // gets to it still reports its own exit reason (the startup error), where a monitor set
        // later would only see noproc. The adoption is queued before any DOWN can be.
        safeSend(runtime, manager, { type: 'pool.workerSpawned', pid });
        runtime.monitor(pid, manager);
        return pid;
      },
      restart: 'temporary',
    }).then(
      (res) => {
        if (spawned === undefined) {
          safeSend(rt, manager, { type: 'pool.workerFailed', reason: new Error(`worker start failed: ${formatReason(res)}`), spawned: false });
          return;
        }
        if (!res.ok) return; // spawned, then refused: its DOWN tells the manager
        const pid = spawned;
        // A handshake that never comes is not reported from here: the worker's exit (DOWN)
        // carries the reason, once.
        awaitBridgeReady(rt, pid).then(
          () => safeSend(rt, manager, { type: 'pool.workerReady', pid }),
          () => undefined,
        );
      },
      (reason: unknown) => {
        if (spawned === undefined) safeSend(rt, manager, { type: 'pool.workerFailed', reason, spawned: false });
      },
    );
  }

  onWorkerSpawned(ctx: ManagerContext, pid: Pid): void {
    this.starting--;
    const now = ctx.runtime.clock.now();
    const lifecycle = this.s.health ? new WorkerLifecycle(undefined, now) : undefined;
    this.workers.set(pid.id, {
      startedAt: now,
      readyAt: undefined,
      operations: 0,
      busySince: undefined,
      busyMs: 0,
      pid,
      ready: false,
      busy: false,
      lifecycle,
      pinging: false,
      failedWhileBusy: false,
      pingFailing: false,
      settling: false,
      probing: false,
    });
  }

  onWorkerReady(ctx: ManagerContext, pid: Pid): void {
    this.stats.started++;
    this.startFailures = 0;
    this.#backoffs = 0;
    this.lastStartError = undefined;
    const w = this.workers.get(pid.id);
    if (!w) return this.fill(ctx); // died while starting
    w.ready = true;
    const rt = ctx.runtime;
    w.readyAt = rt.clock.now();
    if (listening(rt, 'pool.workerStarted')) rt.events.emit('pool.workerStarted', { pool: this.s.name, worker: pid, startupMs: w.readyAt - w.startedAt });
    // A worker already being replaced (terminating) stays so.
    if (w.lifecycle?.can('ready')) w.lifecycle.go('ready', 'handshake', ctx.runtime.clock.now());
    this.#release(ctx, w);
    if (this.readyCount >= this.s.size) for (const from of this.readyWaiters.splice(0)) ctx.reply(from, this.status(ctx));
    this.fill(ctx);
  }

  /** The supervisor could not even spawn a worker (its start function threw, or it refused). */
  onWorkerFailed(ctx: ManagerContext, reason: unknown, spawned: boolean): void {
    if (!spawned) this.starting--;
    this.#startFailed(ctx, reason);
  }

  /**
   * A start attempt failed. Nothing is logged here: the worker's exit is already reported once
   * by its supervisor (child_terminated, or start_error), and the pool's view of it — attempts,
   * backoff, the error — is in `status().backoff` and in the PoolStartError its callers get.
   */
  #startFailed(ctx: ManagerContext, reason: unknown): void {
    this.startFailures++;
    this.lastStartError = reason;
    // One retry at a time, backing off (100 ms doubling per backoff, at most 5 s), so a worker
    // that can never start does not spin; `fill` waits for it.
    let nextAttemptInMs: number | null = null;
    if (this.nextAttemptAt === undefined) {
      nextAttemptInMs = this.#backoff();
      this.nextAttemptAt = ctx.runtime.clock.now() + nextAttemptInMs;
      schedule(ctx, this, 'refill', nextAttemptInMs);
    }
    ctx.runtime.events.emit('pool.startFailed', { pool: this.s.name, failures: this.startFailures, reason, nextAttemptInMs });
    // With no other attempt in flight nothing will change before the retry: whoever waits for
    // the pool learns why now, instead of at its checkout deadline.
    if (this.inFlight > 0) return;
    const error = this.startError(ctx);
    for (const from of this.readyWaiters.splice(0)) ctx.runtime.replyError(from, error);
    if (this.readyCount === 0) for (const waiter of this.waiters.splice(0)) this.#refuse(ctx.runtime, waiter, error);
  }

  /** Every waiter (queued, and queued for a session's worker) gets `error`. */
  failWaiters(rt: Runtime | undefined, error: unknown): void {
    for (const waiter of this.waiters.splice(0)) this.#refuse(rt, waiter, error);
    for (const q of this.bound.values()) for (const waiter of q) this.#refuse(rt, waiter, error);
    this.bound.clear();
  }

  /** A waiter's checkout fails with `error` (a caller that asked the manager: only while it runs). */
  #refuse(rt: Runtime | undefined, waiter: Waiter, error: unknown): void {
    const local = waiter.local;
    if (local !== undefined) {
      if (local.deadline !== undefined) this.#deadlines?.cancel(local.deadline);
      local.reject(error);
    } else if (rt !== undefined) {
      rt.replyError(waiter.from!, error);
    }
  }

  /** Checkout deadlines of callers that joined the queue in their own turn. */
  #deadlines: Deadlines | undefined;

  /**
   * Joins the queue in the caller's own turn, with no message to the manager: what `checkout`
   * does for a caller with no session, for a caller that must wait. Each such checkout was a
   * call to the manager (a macrostep, a kernel call with its own deadline): a third of the Node
   * time of a Pool.run on a saturated pool. The deadline is the same (runtime clock); FIFO is
   * the same queue; the check-in that frees a worker hands it over in its own turn (`#grant`).
   * Undefined where the manager decides: not running (yet, or any more), a lazy pool (it
   * starts a worker for the caller), an idle worker left (only with session-bound waiters).
   */
  waitNow(token: string, timeout: number): Promise<Lease> | undefined {
    const ctx = this.#ctx;
    if (ctx === undefined || this.stopping || this.s.lazy || this.idle.length > 0) return undefined;
    const refused = this.#refusedWait(ctx);
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<Lease>((resolve, reject) => {
      const local: LocalWaiter = { resolve, reject, deadline: undefined };
      const waiter: Waiter = { from: undefined, token, session: undefined, local };
      if (timeout !== Infinity) {
        local.deadline = (this.#deadlines ??= new Deadlines(ctx.runtime.clock)).add(timeout, () => {
          local.deadline = undefined;
          this.cancel(token);
          reject(new CheckoutTimeoutError(this.s.name, timeout));
        });
      }
      this.waiters.push(waiter);
    });
  }

  /** Start attempts under way: asked of the supervisor, or spawned and not yet ready. */
  get inFlight(): number {
    return this.starting + this.warming;
  }

  /**
   * The pool cannot serve until a retry succeeds: no worker is ready, the last start attempt
   * failed and no other is under way.
   */
  get cannotStart(): boolean {
    return this.startFailures > 0 && this.readyCount === 0 && this.inFlight === 0;
  }

  startError(ctx: ManagerContext): PoolStartError {
    const next = this.nextAttemptAt === undefined ? null : Math.max(0, this.nextAttemptAt - ctx.runtime.clock.now());
    return new PoolStartError(this.s.name, this.startFailures, next, this.lastStartError);
  }

  /** ms before the next start attempt after failed ones: 100 ms, doubling, at most 5 s. */
  #backoff(): number {
    return Math.min(START_BACKOFF_MAX_MS, START_BACKOFF_BASE_MS * 2 ** Math.min(6, this.#backoffs++));
  }

  /** The backoff retry came round. */
  retry(ctx: ManagerContext): void {
    this.nextAttemptAt = undefined;
    this.fill(ctx);
  }

  onDown(ctx: ManagerContext, down: DownMessage): void {
    const pid = down.pid;
    if (!pid) return;
    const w = this.workers.get(pid.id);
    if (!w) return;
    this.workers.delete(pid.id);
    this.#replacing.delete(pid.id);
    this.stats.workerExits++;
    const i = this.idle.findIndex((p) => p.id === pid.id);
    if (i >= 0) this.idle.splice(i, 1);
    for (const [lease, l] of this.leases) if (l.worker.id === pid.id) this.leases.delete(lease);
    const why = `its worker ${pid} exited (${formatReason(down.reason)})`;
    const lost = this.sessions?.workerGone(pid, why) ?? [];
    const rt = ctx.runtime;
    if (listening(rt, 'pool.workerExited')) {
      rt.events.emit('pool.workerExited', { pool: this.s.name, worker: pid, reason: down.reason, ready: w.ready, uptimeMs: rt.clock.now() - w.startedAt, operations: w.operations });
    }
    if (listening(rt, 'pool.sessionLost')) for (const session of lost) rt.events.emit('pool.sessionLost', { pool: this.s.name, session, worker: pid, reason: why });
    for (const waiter of this.bound.get(pid.id) ?? []) {
      this.#refuse(ctx.runtime, waiter, new SessionLostError(this.s.name, waiter.session ?? '?', why));
    }
    this.bound.delete(pid.id);
    if (lost.length > 0) ctx.runtime.logger.warn(`pool '${this.s.name}': ${lost.length} session(s) lost: ${why}`);
    this.replaced++;
    // It died before its handshake: a failed start attempt, with its exit reason (the startup
    // error) as the cause — unless it was killed from outside (a chaos monkey, an operator, the
    // OOM killer), which says nothing about whether the module can start: it is replaced at once,
    // with no backoff and no PoolStartError for the callers waiting on it.
    if (!w.ready && !this.stopping && !killedFromOutside(down.reason)) this.#startFailed(ctx, down.reason);
    this.fill(ctx);
  }

  // --- checkout / checkin ---------------------------------------------------------------------

  checkout(ctx: ManagerContext, from: CallFrom, session: string | undefined, token: string): void {
    const rt = ctx.runtime;
    if (session !== undefined) {
      if (!this.sessions) return void rt.replyError(from, new SessionsDisabledError(this.s.name));
      const st = this.sessions.lookup(session, rt.clock.now());
      if (st.state === 'expired') return void rt.replyError(from, new SessionExpiredError(this.s.name, session));
      if (st.state === 'lost') return void rt.replyError(from, new SessionLostError(this.s.name, session, st.reason));
      if (st.state === 'bound') {
        const w = this.workers.get(st.worker.id);
        if (!w) return void rt.replyError(from, new SessionLostError(this.s.name, session, 'its worker is gone'));
        if (w.lifecycle && !w.lifecycle.available && w.lifecycle.state !== 'busy') {
          return void rt.replyError(from, new SessionLostError(this.s.name, session, `its worker ${w.pid} is being replaced (${w.lifecycle.state})`));
        }
        if (!w.busy && w.ready) {
          const i = this.idle.findIndex((p) => p.id === w.pid.id);
          if (i >= 0) this.idle.splice(i, 1);
          return this.#grant(ctx, w, { from, token, session });
        }
        const full = this.#queueFull();
        if (full !== undefined) return void rt.replyError(from, full);
        let q = this.bound.get(w.pid.id);
        if (!q) this.bound.set(w.pid.id, (q = []));
        q.push({ from, token, session });
        return;
      }
    }
    const next = this.#takeIdle();
    if (next) return this.#grant(ctx, this.workers.get(next.id)!, { from, token, session });
    const refused = this.#refusedWait(ctx);
    if (refused !== undefined) return void rt.replyError(from, refused);
    this.waiters.push({ from, token, session });
    if (this.s.lazy) this.fill(ctx);
  }

  /**
   * The idle worker a call gets: by the pool's strategy, but with health checks (and
   * `preferHealthy`, the default) a degraded worker only when no healthy one is idle.
   */
  #takeIdle(): Pid | undefined {
    const lifo = this.s.strategy === 'lifo';
    if (this.s.health?.preferHealthy) {
      const idle = this.idle;
      const n = idle.length;
      for (let k = 0; k < n; k++) {
        const i = lifo ? n - 1 - k : k;
        if (this.workers.get(idle[i]!.id)?.lifecycle?.state !== 'degraded') return idle.splice(i, 1)[0];
      }
    }
    return lifo ? this.idle.pop() : this.idle.shift();
  }

  #queued(): number {
    let n = this.waiters.length;
    for (const q of this.bound.values()) n += q.length;
    return n;
  }

  /**
   * Why a caller with no session that finds no idle worker may not wait (the manager's
   * `checkout` and `waitNow` alike), else undefined. Waiting would only end at the checkout
   * deadline when no start can succeed: fail fast with the reason (a lazy pool whose backoff
   * has passed starts a new attempt for the caller instead). A full queue is counted.
   */
  #refusedWait(ctx: ManagerContext): PoolStartError | PoolBusyError | undefined {
    if (this.cannotStart && (this.nextAttemptAt !== undefined || !this.s.lazy)) return this.startError(ctx);
    return this.#queueFull();
  }

  /** PoolBusyError (counted) when `maxQueue` callers already wait, else undefined. */
  #queueFull(): PoolBusyError | undefined {
    if (this.#queued() < this.s.maxQueue) return undefined;
    this.stats.busyRejects++;
    return new PoolBusyError(this.s.name, this.s.maxQueue);
  }

  /**
   * Checks an idle worker out in the caller's own turn, with no message to the manager (as
   * Registry lookups read the registry's tables): only while the manager runs, nobody waits
   * (so FIFO stays fair: a waiter is always served first) and the call has no session (session
   * routing, binding and its errors stay with the manager). Undefined: ask the manager.
   */
  checkoutNow(): Lease | undefined {
    const ctx = this.#ctx;
    if (ctx === undefined || this.stopping || this.waiters.length > 0 || this.idle.length === 0) return undefined;
    const next = this.#takeIdle();
    if (next === undefined) return undefined;
    return this.#lend(ctx, this.workers.get(next.id)!, ++this.#lease, undefined);
  }

  /** `checkin` in the caller's own turn; false when the manager no longer runs (nothing to give back). */
  checkinNow(lease: number, outcome: CheckinOutcome, abandoned: boolean): boolean {
    const ctx = this.#ctx;
    if (ctx === undefined || this.stopping) return false;
    this.checkin(ctx, lease, outcome, abandoned);
    return true;
  }

  /** Hands `w` to a waiter; if the waiter already gave up, the worker goes to the next one. */
  #grant(ctx: ManagerContext, w: Worker, waiter: Waiter): void {
    const lease = ++this.#lease;
    const local = waiter.local;
    if (local !== undefined) {
      // Still waiting (a deadline that fired took it out of the queue): it gets the worker.
      if (local.deadline !== undefined) this.#deadlines!.cancel(local.deadline);
      this.#lend(ctx, w, lease, undefined);
      local.resolve({ lease, worker: w.pid });
      return;
    }
    const rt = ctx.runtime;
    if (!rt.reply(waiter.from!, { lease, worker: w.pid } satisfies Lease)) {
      this.#release(ctx, w);
      return;
    }
    this.#lend(ctx, w, lease, waiter.session);
  }

  /** The bookkeeping of a checkout, however the worker was handed out. */
  #lend(ctx: ManagerContext, w: Worker, lease: number, session: string | undefined): Lease {
    const rt = ctx.runtime;
    w.busy = true;
    const now = rt.clock.now();
    w.operations++;
    w.busySince = now;
    if (w.lifecycle?.can('busy')) w.lifecycle.go('busy', 'checkout', now);
    const l = { lease, worker: w.pid, session };
    this.leases.set(lease, l);
    this.stats.checkouts++;
    if (session !== undefined && this.sessions) {
      if (this.sessions.lookup(session, now).state !== 'bound') {
        this.sessions.bind(session, w.pid, now);
        if (listening(rt, 'pool.sessionBound')) rt.events.emit('pool.sessionBound', { pool: this.s.name, session, worker: w.pid });
      }
      this.sessions.acquire(session, now);
    }
    return l;
  }

  /** `worker`: the pid id the caller was lent (a cast); another is a lease of an earlier manager's. */
  checkin(ctx: ManagerContext, lease: number, outcome: CheckinOutcome, abandoned = false, worker?: number): void {
    const l = this.leases.get(lease);
    if (!l || (worker !== undefined && l.worker.id !== worker)) return;
    this.leases.delete(lease);
    const w = this.workers.get(l.worker.id);
    if (!w) return;
    const now = ctx.runtime.clock.now();
    if (l.session !== undefined) this.sessions?.release(l.session, now);
    w.busy = false;
    if (w.busySince !== undefined) w.busyMs += now - w.busySince;
    w.busySince = undefined;
    if (abandoned && outcome !== 'crashed') {
      // Python may still be running the call the caller gave up on: handing the worker out now
      // would queue the next call behind it (forever, if the handler never returns).
      w.settling = true;
      this.#probe(ctx, w);
    }
    const lc = w.lifecycle;
    if (lc) {
      if (outcome !== 'ok') {
        w.failedWhileBusy = false;
        this.#failure(ctx, w, `checkin ${outcome}`);
      } else if (w.failedWhileBusy) {
        // Apply the health failure it had while busy, now that it is back (degrade or replace).
        w.failedWhileBusy = false;
        lc.failures--;
        this.#failure(ctx, w, 'health check failed while busy');
      } else {
        // A successful call ends a streak of failed calls; failed pings only a good ping ends.
        if (!w.pingFailing) lc.failures = 0;
        const to = lc.failures > 0 ? 'degraded' : 'ready';
        if (lc.state !== to && lc.can(to)) lc.go(to, 'checkin', now);
      }
      w.failedWhileBusy = false;
      if (!lc.available) return;
    }
    this.#release(ctx, w);
  }

  /**
   * Asks a settling worker's Python process for a ping: frames are read in order, so the answer
   * (even an exception) means the abandoned call no longer holds it. A bridge whose call never
   * finishes and whose cancel is not acknowledged ends itself as wedged; its exit (DOWN) then
   * replaces the worker. With health checks the probe has the ping's deadline, a miss counts as
   * a failed health check, and the next health tick probes again.
   */
  #probe(ctx: ManagerContext, w: Worker): void {
    if (w.probing) return;
    w.probing = true;
    const rt = ctx.runtime;
    const pid = w.pid;
    callBridge(rt, pid, 'xotp.ping', null, { timeout: this.s.health ? this.s.health.timeout : 'infinity' }).then(
      () => safeSend(rt, ctx.self, { type: 'pool.probed', pid, answered: true }),
      (reason: unknown) => safeSend(rt, ctx.self, { type: 'pool.probed', pid, answered: reason instanceof PythonError, reason }),
    );
  }

  onProbed(ctx: ManagerContext, pid: Pid, answered: boolean, reason: unknown): void {
    const w = this.workers.get(pid.id);
    if (!w) return;
    w.probing = false;
    if (!w.settling) return;
    if (answered) {
      w.settling = false;
      ctx.runtime.events.emit('pool.workerSettled', { pool: this.s.name, worker: pid });
      if (!w.busy && (!w.lifecycle || w.lifecycle.available)) this.#release(ctx, w);
      return;
    }
    // Not answered in time (health checks on): a failed check; the worker may be replaced.
    // A bridge that is gone or going (any other error) is replaced through its DOWN.
    if (w.lifecycle && reason instanceof TimeoutError) this.#failure(ctx, w, `a timed-out call still holds it: ${formatReason(reason)}`);
  }

  /** A free worker: its own session callers first, then the general queue, else idle. */
  #release(ctx: ManagerContext, w: Worker): void {
    if (!w.ready || w.busy || w.settling || this.stopping) return;
    const mine = this.bound.get(w.pid.id);
    while (mine && mine.length > 0) {
      const waiter = mine.shift()!;
      if (mine.length === 0) this.bound.delete(w.pid.id);
      this.#grant(ctx, w, waiter);
      if (w.busy) return;
    }
    while (this.waiters.length > 0) {
      const waiter = this.waiters.shift()!;
      // A session's caller is checked again: its session may have been bound meanwhile (to
      // another worker: wait for that one), or expired, or lost with its worker (an error,
      // never a silent move to this worker).
      if (waiter.session !== undefined && this.sessions) {
        const st = this.sessions.lookup(waiter.session, ctx.runtime.clock.now());
        if (st.state === 'expired') {
          this.#refuse(ctx.runtime, waiter, new SessionExpiredError(this.s.name, waiter.session));
          continue;
        }
        if (st.state === 'lost') {
          this.#refuse(ctx.runtime, waiter, new SessionLostError(this.s.name, waiter.session, st.reason));
          continue;
        }
        if (st.state === 'bound' && st.worker.id !== w.pid.id) {
          // Session callers always ask the manager (waitNow takes none): `from` is theirs.
          this.checkout(ctx, waiter.from!, waiter.session, waiter.token);
          continue;
        }
      }
      this.#grant(ctx, w, waiter);
      if (w.busy) return;
    }
    // A loop, not `some` with a closure: this runs on every check-in.
    const idle = this.idle;
    const id = w.pid.id;
    for (let i = 0; i < idle.length; i++) if (idle[i]!.id === id) return;
    idle.push(w.pid);
  }

  cancel(token: string): void {
    const i = this.waiters.findIndex((w) => w.token === token);
    if (i >= 0) {
      this.waiters.splice(i, 1);
      return;
    }
    for (const [id, q] of this.bound) {
      const j = q.findIndex((w) => w.token === token);
      if (j >= 0) {
        q.splice(j, 1);
        if (q.length === 0) this.bound.delete(id);
        return;
      }
    }
  }

  // --- health --------------------------------------------------------------------------------

  healthTick(ctx: ManagerContext): void {
    const h = this.s.health!;
    for (const w of this.workers.values()) {
      if (w.settling && !w.busy && w.lifecycle?.available) this.#probe(ctx, w);
      if (!w.ready || w.busy || w.pinging || w.settling || !w.lifecycle?.available) continue;
      w.pinging = true;
      callBridge(ctx.runtime, w.pid, 'xotp.ping', null, { timeout: h.timeout }).then(
        () => safeSend(ctx.runtime, ctx.self, { type: 'pool.pinged', pid: w.pid, ok: true }),
        (reason: unknown) => safeSend(ctx.runtime, ctx.self, { type: 'pool.pinged', pid: w.pid, ok: false, reason }),
      );
    }
  }

  onPinged(ctx: ManagerContext, pid: Pid, ok: boolean, reason: unknown): void {
    const w = this.workers.get(pid.id);
    if (!w?.lifecycle) return;
    w.pinging = false;
    const now = ctx.runtime.clock.now();
    w.pingFailing = !ok;
    if (ok) {
      w.lifecycle.failures = 0;
      if (w.lifecycle.state === 'degraded') w.lifecycle.go('ready', 'health_restored', now);
      return;
    }
    this.#failure(ctx, w, `health check failed: ${formatReason(reason)}`);
  }

  /** A failed ping or an error check-in: degraded at the first, replaced at `maxFailures`. */
  #failure(ctx: ManagerContext, w: Worker, reason: string): void {
    const lc = w.lifecycle!;
    const now = ctx.runtime.clock.now();
    lc.failures++;
    if (w.busy) {
      // Checked out: its state stays busy; the failure is applied when it comes back.
      w.failedWhileBusy = true;
      return;
    }
    if (lc.failures >= this.s.health!.maxFailures) {
      lc.go('unhealthy', reason, now);
      lc.go('terminating', 'replace', now);
      const i = this.idle.findIndex((p) => p.id === w.pid.id);
      if (i >= 0) this.idle.splice(i, 1);
      // Its exit (DOWN) loses its sessions; its replacement starts now (see #replacing).
      void terminateChild(ctx.runtime, this.s.workersName, w.pid).catch(() => undefined);
      this.#replacing.add(w.pid.id);
      this.fill(ctx);
      return;
    }
    if (lc.state === 'busy') lc.go('ready', 'checkin', now); // it did come back, with an error
    if (lc.state === 'ready') lc.go('degraded', reason, now);
  }

  // --- queries -------------------------------------------------------------------------------

  status(ctx: ManagerContext): PoolStatus {
    const now = ctx.runtime.clock.now();
    const workers = [...this.workers.values()].map((w): PoolWorkerStatus => {
      const row: PoolWorkerStatus = { pid: w.pid, busy: w.busy, startedAt: w.startedAt, operations: w.operations, timeInState: timeInState(w, now) };
      if (w.settling) row.settling = true;
      if (w.lifecycle) {
        row.state = w.lifecycle.state;
        row.failures = w.lifecycle.failures;
        row.history = [...w.lifecycle.history];
      }
      return row;
    });
    const status: PoolStatus = {
      name: this.s.name,
      size: this.s.size,
      ready: this.readyCount,
      // Asked of the supervisor, or spawned and still handshaking.
      starting: this.starting + this.warming,
      idle: this.idle.length,
      busy: workers.filter((w) => w.busy).length,
      queued: this.#queued(),
      workers,
      stats: { ...this.stats },
    };
    if (this.startFailures > 0) {
      const error = this.startError(ctx);
      status.backoff = {
        failures: this.startFailures,
        lastError: this.lastStartError,
        reason: error.pythonType !== undefined ? `${error.pythonType}: ${error.pythonMessage}` : error.message.slice(error.message.lastIndexOf('): ') + 3),
        nextAttemptAt: this.nextAttemptAt ?? null,
        nextAttemptInMs: error.nextAttemptInMs,
      };
    }
    const breaker = this.recovery?.breaker;
    if (breaker) status.breaker = breaker.status();
    const recovery = this.recovery?.status();
    if (recovery && (this.s.retry !== false || recovery.initiated + recovery.rejected > 0)) status.recovery = recovery;
    // Features a pool does not enable are absent, not empty (seed errors 16–18).
    if (this.sessions) status.sessions = { ttl: this.sessions.ttl, ...this.sessions.stats(ctx.runtime.clock.now()) };
    if (this.s.health) {
      const states = workers.map((w) => w.state);
      status.health = {
        interval: this.s.health.interval,
        maxFailures: this.s.health.maxFailures,
        degraded: states.filter((s) => s === 'degraded').length,
        unhealthy: states.filter((s) => s === 'unhealthy' || s === 'terminating').length,
        replaced: this.replaced,
      };
    }
    return status;
  }

  session(ctx: ManagerContext, id: string): SessionState {
    if (!this.sessions) throw new SessionsDisabledError(this.s.name);
    return this.sessions.lookup(id, ctx.runtime.clock.now());
  }
}

/**
 * ms a worker spent in each state: its lifecycle's own accounting with health checks; without,
 * starting (spawn → handshake), busy (checked out) and ready (the rest).
 */
function timeInState(w: Worker, now: number): PoolWorkerStatus['timeInState'] {
  if (w.lifecycle) return w.lifecycle.timeInState(now);
  if (w.readyAt === undefined) return { starting: now - w.startedAt };
  const busy = w.busyMs + (w.busySince !== undefined ? now - w.busySince : 0);
  return { starting: w.readyAt - w.startedAt, ready: now - w.readyAt - busy, busy };
}

/** Signals that come from outside a process; a crash of its own (SIGSEGV, SIGABRT) is not one. */
const outsideSignals = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP']);

function killedFromOutside(reason: unknown): boolean {
  if (reason === 'killed') return true;
  return reason instanceof BridgeStartupError && reason.signal !== null && outsideSignals.has(reason.signal);
}

export function safeSend(rt: Runtime, pid: Pid, event: Info): void {
  try {
    rt.send(pid, event);
  } catch {
    // The manager is gone; nothing to tell.
  }
}

export function schedule(ctx: ManagerContext, state: PoolState, what: 'health' | 'sweep' | 'refill', every: number): void {
  const rt = ctx.runtime;
  const t = rt.clock.setTimeout(() => {
    state.timers = state.timers.filter((x) => x !== t);
    safeSend(rt, ctx.self, { type: 'pool.tick', what });
  }, every);
  state.timers.push(t);
}
