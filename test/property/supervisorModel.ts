/**
 * A small reference model of OTP's supervision rules (../shared/reference/otp-semantics.md),
 * written from the rules and not from xotp's code, for the model-based tests in
 * supervisorModel.test.ts. It predicts, for a tree of supervisors and a sequence of commands:
 * which children are started (in which order, by which supervisor), which incarnations are
 * alive, what `whichChildren` / `countChildren` answer, and the result of every child-management
 * call.
 *
 * Scope: a worker's start succeeds unless the test poisoned it (`poison`: its next n starts
 * fail), and every child goes down at once when asked to (workers do not trap exits), so no
 * step waits on the clock; time only moves the restart-intensity window.
 * The tree is at most two levels deep: a top supervisor whose children are workers and
 * supervisors whose children are workers.
 *
 * Where xotp differs from OTP on purpose (README "Where xotp differs from OTP"), the model
 * follows xotp and says so: the intensity window is counted in milliseconds (`withinWindow`),
 * and dynamic supervisors follow Elixir's DynamicSupervisor (children addressed by pid;
 * `restartChild` / `deleteChild` refused with `dynamic`).
 */

export type RestartType = 'permanent' | 'transient' | 'temporary';
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';
export type AutoShutdown = 'never' | 'any_significant' | 'all_significant';
/** How a command ends a child. `kill` is untrappable and leaves the reason `killed`. */
export type CrashReason = 'normal' | 'shutdown' | { shutdown: 'x' } | 'error' | 'kill';
export type ExitReason = Exclude<CrashReason, 'kill'> | 'killed';

export interface WorkerTemplate {
  kind: 'worker';
  id: string;
  restart: RestartType;
  significant: boolean;
}

export interface SupervisorTemplate {
  kind: 'supervisor';
  id: string;
  restart: RestartType;
  significant: boolean;
  flags: SupervisorFlags;
}

export type ChildTemplate = WorkerTemplate | SupervisorTemplate;

export interface SupervisorFlags {
  mode: 'static' | 'dynamic';
  strategy: Strategy;
  maxRestarts: number;
  maxSeconds: number;
  autoShutdown: AutoShutdown;
  /** Dynamic supervisors only; `undefined` is infinity. */
  maxChildren: number | undefined;
  /** Static supervisors only: started in this order at init. */
  children: ChildTemplate[];
}

/** One start, as the model predicts it: which supervisor (incarnation) started which child id. */
export interface StartRecord {
  sup: ModelSupervisor;
  id: string;
}

export class ModelChild {
  readonly template: ChildTemplate;
  /** The current incarnation (an index into the start log), or undefined when not running. */
  seq: number | undefined = undefined;
  /** The running incarnation's own supervisor state, for a supervisor child. */
  sub: ModelSupervisor | undefined = undefined;
  /** A restart failed and a retry is queued (OTP's `{restarting, OldPid}`, rule 31). */
  restarting = false;
  /** The incarnation that last ended. */
  lastSeq: number | undefined = undefined;

  constructor(template: ChildTemplate) {
    this.template = template;
  }

  get id(): string {
    return this.template.id;
  }

  get running(): boolean {
    return this.seq !== undefined;
  }
}

export class ModelSupervisor {
  readonly flags: SupervisorFlags;
  readonly parent: { sup: ModelSupervisor; child: ModelChild } | undefined;
  readonly children: ModelChild[] = [];
  /** Restart timestamps, newest first (rule 34). */
  restarts: number[] = [];
  alive = true;
  /** Its own incarnation in the start log; `'top'` for the top supervisor. */
  seq: number | 'top' | undefined = undefined;
  exitReason: ExitReason | undefined = undefined;

  constructor(flags: SupervisorFlags, parent?: { sup: ModelSupervisor; child: ModelChild }) {
    this.flags = flags;
    this.parent = parent;
    if (flags.mode === 'static') for (const t of flags.children) this.children.push(new ModelChild(t));
  }

  get dynamic(): boolean {
    return this.flags.mode === 'dynamic';
  }
}

/** A row of whichChildren, with the pid given as the incarnation it names. */
export interface ModelRow {
  id: string | undefined;
  pid: number | 'restarting' | undefined;
  type: 'worker' | 'supervisor';
}

export interface ModelCounts {
  specs: number;
  active: number;
  supervisors: number;
  workers: number;
}

/** Results of the child-management calls, with pids given as incarnations. */
export type ModelResult =
  | { ok: true }
  | { ok: true; pid: number }
  | { ok: false; error: 'not_found' | 'running' | 'restarting' | 'already_present' | 'max_children' | 'dynamic' | 'start_failed' }
  | { ok: false; error: 'already_started'; pid: number };

/** Rule 24 / 1.1 rule 10: `normal`, `shutdown` and `{shutdown, _}` are clean exits. */
export const isClean = (reason: ExitReason): boolean => reason === 'normal' || reason === 'shutdown' || typeof reason === 'object';

export class SupervisorModel {
  readonly top: ModelSupervisor;
  /** Every start in the order it happens; an incarnation is its index here. */
  readonly starts: StartRecord[] = [];
  /** Whether each incarnation is alive. */
  readonly alive: boolean[] = [];
  /** How each incarnation that is gone ended. */
  readonly exits: Array<ExitReason | undefined> = [];
  now = 0;
  /** How many of each worker's next starts fail. */
  readonly #poisoned = new Map<ChildTemplate, number>();
  /**
   * Retries of failed restarts, in the order the supervisors queued them. A supervisor answers
   * what was already in its mailbox before it gets to its retry (OTP casts try_again_restart to
   * itself), so `settle` runs them only when asked.
   */
  readonly #retries: Array<{ sup: ModelSupervisor; child: ModelChild }> = [];

  constructor(flags: SupervisorFlags) {
    this.top = new ModelSupervisor(flags);
    this.top.seq = 'top';
    // Rule 16: children start in list order.
    for (const child of [...this.top.children]) this.#start(this.top, child);
  }

  // --- queries ------------------------------------------------------------------------------

  /** Live supervisors, top first, then nested ones in tree order. */
  supervisors(): ModelSupervisor[] {
    const out: ModelSupervisor[] = [];
    const walk = (sup: ModelSupervisor) => {
      if (!sup.alive) return;
      out.push(sup);
      for (const c of sup.children) if (c.sub) walk(c.sub);
    };
    walk(this.top);
    return out;
  }

  /** Running children anywhere in the tree, with their supervisor, in tree order. */
  runningChildren(): Array<{ sup: ModelSupervisor; child: ModelChild }> {
    const out: Array<{ sup: ModelSupervisor; child: ModelChild }> = [];
    for (const sup of this.supervisors()) for (const child of sup.children) if (child.running) out.push({ sup, child });
    return out;
  }

  /**
   * Rule 55 (static: newest first); dynamic: by pid, as OTP and Elixir list their children map,
   * a restarting child at the place of the pid that exited (Elixir keeps it under that pid).
   */
  whichChildren(sup: ModelSupervisor): ModelRow[] {
    const row = (c: ModelChild): ModelRow => ({
      id: sup.dynamic ? undefined : c.id,
      pid: c.restarting ? 'restarting' : c.seq,
      type: c.template.kind === 'supervisor' ? 'supervisor' : 'worker',
    });
    if (sup.dynamic) return [...sup.children].sort((a, b) => (a.seq ?? a.lastSeq!) - (b.seq ?? b.lastSeq!)).map(row);
    return [...sup.children].reverse().map(row);
  }

  /** Rule 56. */
  countChildren(sup: ModelSupervisor): ModelCounts {
    const supervisors = sup.children.filter((c) => c.template.kind === 'supervisor').length;
    return {
      specs: sup.children.length,
      active: sup.children.filter((c) => c.running).length,
      supervisors,
      workers: sup.children.length - supervisors,
    };
  }

  // --- commands -----------------------------------------------------------------------------

  advance(ms: number): void {
    this.now += ms;
  }

  /** The next `n` starts of the worker `template` fail. */
  poison(template: ChildTemplate, n: number): void {
    this.#poisoned.set(template, (this.#poisoned.get(template) ?? 0) + n);
  }

  /** Runs the queued retries of failed restarts (and the retries they queue) to the end. */
  settle(): void {
    for (let r = this.#retries.shift(); r !== undefined; r = this.#retries.shift()) {
      // A child terminated (or removed) while restarting has no retry left (try_again_restart
      // finds it no longer restarting).
      if (!r.sup.alive || !r.child.restarting || !r.sup.children.includes(r.child)) continue;
      this.#restart(r.sup, r.child);
    }
  }

  /** A running child ends by itself (a worker stops or is killed; a supervisor is stopped or killed). */
  crash(sup: ModelSupervisor, child: ModelChild, how: CrashReason): void {
    const reason: ExitReason = how === 'kill' ? 'killed' : how;
    // A supervisor asked to stop takes its own children down first; a killed one leaves them
    // only the exit signal `killed` of its links (rule 49).
    if (child.sub) this.#endSubtree(child.sub, reason === 'killed' ? 'killed' : 'shutdown', reason);
    this.#childExited(sup, child, reason);
  }

  /** Rule 52 (static: by id) and rule 70 (dynamic: by pid). */
  terminateChild(sup: ModelSupervisor, child: ModelChild | undefined): ModelResult {
    if (child === undefined || !sup.children.includes(child)) return { ok: false, error: 'not_found' };
    if (sup.dynamic && !child.running && !child.restarting) return { ok: false, error: 'not_found' };
    if (child.running) this.#terminate(child);
    child.restarting = false;
    // Rule 25: a temporary child's spec goes with it; a dynamic supervisor keeps nothing.
    if (child.template.restart === 'temporary' || sup.dynamic) this.#remove(sup, child);
    // Rule 62: no auto-shutdown for a child stopped with terminate_child.
    return { ok: true };
  }

  /** Rule 53. */
  restartChild(sup: ModelSupervisor, child: ModelChild | undefined): ModelResult {
    if (sup.dynamic) return { ok: false, error: 'dynamic' };
    if (child === undefined || !sup.children.includes(child)) return { ok: false, error: 'not_found' };
    if (child.restarting) return { ok: false, error: 'restarting' };
    if (child.running) return { ok: false, error: 'running' };
    // A failed restart_child keeps the spec, not running (rule 53).
    if (!this.#start(sup, child)) return { ok: false, error: 'start_failed' };
    return { ok: true, pid: child.seq! };
  }

  /** Rule 54. */
  deleteChild(sup: ModelSupervisor, child: ModelChild | undefined): ModelResult {
    if (sup.dynamic) return { ok: false, error: 'dynamic' };
    if (child === undefined || !sup.children.includes(child)) return { ok: false, error: 'not_found' };
    if (child.restarting) return { ok: false, error: 'restarting' };
    if (child.running) return { ok: false, error: 'running' };
    this.#remove(sup, child);
    return { ok: true };
  }

  /** Rule 51 (static) and rule 67 (dynamic: ids ignored, max_children counts every child). */
  startChild(sup: ModelSupervisor, template: WorkerTemplate): ModelResult {
    if (sup.dynamic) {
      if (sup.flags.maxChildren !== undefined && sup.children.length >= sup.flags.maxChildren) {
        return { ok: false, error: 'max_children' };
      }
    } else {
      const existing = sup.children.find((c) => c.id === template.id);
      if (existing?.running) return { ok: false, error: 'already_started', pid: existing.seq! };
      if (existing) return { ok: false, error: 'already_present' };
    }
    const child = new ModelChild(template);
    sup.children.push(child);
    if (!this.#start(sup, child)) {
      // The spec of a child that failed to start is discarded (rule 51).
      this.#remove(sup, child);
      return { ok: false, error: 'start_failed' };
    }
    return { ok: true, pid: child.seq! };
  }

  // --- the rules ----------------------------------------------------------------------------

  /** Starts `child`; false when the start failed (a poisoned worker, or a supervisor whose init did). */
  #start(sup: ModelSupervisor, child: ModelChild): boolean {
    const poisoned = this.#poisoned.get(child.template) ?? 0;
    if (poisoned > 0) {
      this.#poisoned.set(child.template, poisoned - 1);
      return false;
    }
    if (child.template.kind === 'supervisor') {
      // A supervisor's init starts its own children before its start returns, so theirs come
      // first in the log. If one fails, those started are stopped (newest first) and the
      // supervisor's own start fails (rule 17).
      const sub = new ModelSupervisor(child.template.flags, { sup, child });
      for (const c of [...sub.children]) {
        if (this.#start(sub, c)) continue;
        this.#endSubtree(sub, 'shutdown');
        return false;
      }
      child.sub = sub;
    }
    child.restarting = false;
    child.seq = this.starts.length;
    this.starts.push({ sup, id: sup.dynamic ? '' : child.id });
    this.alive.push(true);
    this.exits.push(undefined);
    if (child.sub) child.sub.seq = child.seq;
    return true;
  }

  /**
   * The supervisor stops `child` with `reason`: `shutdown` when asked in order, `killed` when its
   * own supervisor was killed. A supervisor child takes its subtree down first.
   */
  #terminate(child: ModelChild, reason: ExitReason = 'shutdown'): void {
    if (child.sub) this.#endSubtree(child.sub, reason, reason);
    this.alive[child.seq!] = false;
    this.exits[child.seq!] = reason;
    child.lastSeq = child.seq;
    child.seq = undefined;
    child.sub = undefined;
  }

  /**
   * A supervisor ends with `reason`: its children go down first (rule 48) with `childReason`
   * (`killed` when the supervisor itself was killed).
   */
  #endSubtree(sup: ModelSupervisor, childReason: ExitReason, reason: ExitReason = 'shutdown'): void {
    for (const c of [...sup.children].reverse()) if (c.running) this.#terminate(c, childReason);
    sup.alive = false;
    sup.exitReason = reason;
  }

  #remove(sup: ModelSupervisor, child: ModelChild): void {
    const i = sup.children.indexOf(child);
    if (i >= 0) sup.children.splice(i, 1);
  }

  /** Rules 23–25 and 61–63: a child exited by itself with `reason`. */
  #childExited(sup: ModelSupervisor, child: ModelChild, reason: ExitReason): void {
    this.alive[child.seq!] = false;
    this.exits[child.seq!] = reason;
    child.lastSeq = child.seq;
    child.seq = undefined;
    child.sub = undefined;
    const restart = child.template.restart;
    if (restart === 'permanent' || (restart === 'transient' && !isClean(reason))) {
      this.#restart(sup, child);
      return;
    }
    if (restart === 'temporary' || sup.dynamic) this.#remove(sup, child);
    if (!child.template.significant) return;
    if (sup.flags.autoShutdown === 'any_significant') this.#shutdown(sup);
    else if (sup.flags.autoShutdown === 'all_significant' && !sup.children.some((c) => c.template.significant && (c.running || c.restarting))) {
      this.#shutdown(sup);
    }
  }

  /**
   * Rules 27–29, 31–32 and 34–40: one restart attempt (it counts towards the intensity even
   * when it fails). A start that fails marks its child restarting and queues a retry, which for
   * one_for_all restarts the whole group again and for rest_for_one starts from that child.
   */
  #restart(sup: ModelSupervisor, child: ModelChild): void {
    const periodMs = sup.flags.maxSeconds * 1000;
    // xotp counts the window in ms on the runtime clock, inclusive (README: where xotp differs).
    const withinWindow = (t: number) => this.now - t <= periodMs;
    sup.restarts = [this.now, ...sup.restarts.filter(withinWindow)];
    if (sup.restarts.length > sup.flags.maxRestarts) {
      this.#remove(sup, child);
      this.#shutdown(sup);
      return;
    }
    const failed = (c: ModelChild) => {
      c.restarting = true;
      this.#retries.push({ sup, child: c });
    };
    if (sup.dynamic || sup.flags.strategy === 'one_for_one') {
      if (!this.#start(sup, child)) failed(child);
      return;
    }
    const from = sup.flags.strategy === 'one_for_all' ? 0 : sup.children.indexOf(child);
    const group = sup.children.slice(from);
    // Bystanders go down newest first; temporary ones are gone for good (rule 25).
    for (const c of [...group].reverse()) {
      if (c === child || !c.running) continue;
      this.#terminate(c);
      if (c.template.restart === 'temporary') this.#remove(sup, c);
    }
    // Then the group starts again in start order, including children that were not running (rule 28).
    // The rest of the group waits, not running, for the retry.
    for (const c of group) {
      if (!sup.children.includes(c) || c.running) continue;
      if (!this.#start(sup, c)) return failed(c);
    }
  }

  /** Auto-shutdown or intensity reached: the supervisor stops its children and exits `shutdown`. */
  #shutdown(sup: ModelSupervisor): void {
    this.#endSubtree(sup, 'shutdown', 'shutdown');
    // Rule 42 / 64: its parent sees a child exit with `shutdown`.
    if (sup.parent) this.#childExited(sup.parent.sup, sup.parent.child, 'shutdown');
  }
}
