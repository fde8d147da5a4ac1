/**
 * A small reference model of OTP's supervision rules (../shared/reference/otp-semantics.md),
 * written from the rules and not from xotp's code, for the model-based tests in
 * supervisorModel.test.ts. It predicts, for a tree of supervisors and a sequence of commands:
 * which children are started (in which order, by which supervisor), which incarnations are
 * alive, what `whichChildren` / `countChildren` answer, and the result of every child-management
 * call.
 *
 * Scope: every start succeeds and every child goes down at once when asked to (workers do not
 * trap exits), so no step waits on the clock; time only moves the restart-intensity window.
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
  pid: number | undefined;
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
  | { ok: false; error: 'not_found' | 'running' | 'already_present' | 'max_children' | 'dynamic' }
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

  /** Rule 55 (static: newest first); dynamic: by pid, as OTP and Elixir list their children map. */
  whichChildren(sup: ModelSupervisor): ModelRow[] {
    const row = (c: ModelChild): ModelRow => ({
      id: sup.dynamic ? undefined : c.id,
      pid: c.seq,
      type: c.template.kind === 'supervisor' ? 'supervisor' : 'worker',
    });
    if (sup.dynamic) return [...sup.children].sort((a, b) => a.seq! - b.seq!).map(row);
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
    if (sup.dynamic && !child.running) return { ok: false, error: 'not_found' };
    if (child.running) this.#terminate(child);
    // Rule 25: a temporary child's spec goes with it; a dynamic supervisor keeps nothing.
    if (child.template.restart === 'temporary' || sup.dynamic) this.#remove(sup, child);
    // Rule 62: no auto-shutdown for a child stopped with terminate_child.
    return { ok: true };
  }

  /** Rule 53. */
  restartChild(sup: ModelSupervisor, child: ModelChild | undefined): ModelResult {
    if (sup.dynamic) return { ok: false, error: 'dynamic' };
    if (child === undefined || !sup.children.includes(child)) return { ok: false, error: 'not_found' };
    if (child.running) return { ok: false, error: 'running' };
    this.#start(sup, child);
    return { ok: true, pid: child.seq! };
  }

  /** Rule 54. */
  deleteChild(sup: ModelSupervisor, child: ModelChild | undefined): ModelResult {
    if (sup.dynamic) return { ok: false, error: 'dynamic' };
    if (child === undefined || !sup.children.includes(child)) return { ok: false, error: 'not_found' };
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
    this.#start(sup, child);
    return { ok: true, pid: child.seq! };
  }

  // --- the rules ----------------------------------------------------------------------------

  #start(sup: ModelSupervisor, child: ModelChild): void {
    if (child.template.kind === 'supervisor') {
      // A supervisor's init starts its own children before its start returns, so theirs come
      // first in the log.
      const sub = new ModelSupervisor(child.template.flags, { sup, child });
      for (const c of [...sub.children]) this.#start(sub, c);
      child.sub = sub;
    }
    child.seq = this.starts.length;
    this.starts.push({ sup, id: sup.dynamic ? '' : child.id });
    this.alive.push(true);
    this.exits.push(undefined);
    if (child.sub) child.sub.seq = child.seq;
  }

  /**
   * The supervisor stops `child` with `reason`: `shutdown` when asked in order, `killed` when its
   * own supervisor was killed. A supervisor child takes its subtree down first.
   */
  #terminate(child: ModelChild, reason: ExitReason = 'shutdown'): void {
    if (child.sub) this.#endSubtree(child.sub, reason, reason);
    this.alive[child.seq!] = false;
    this.exits[child.seq!] = reason;
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
    else if (sup.flags.autoShutdown === 'all_significant' && !sup.children.some((c) => c.template.significant && c.running)) {
      this.#shutdown(sup);
    }
  }

  /** Rules 27–29 and 34–39. */
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
    if (sup.dynamic || sup.flags.strategy === 'one_for_one') {
      this.#start(sup, child);
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
    for (const c of group) if (sup.children.includes(c)) this.#start(sup, c);
  }

  /** Auto-shutdown or intensity reached: the supervisor stops its children and exits `shutdown`. */
  #shutdown(sup: ModelSupervisor): void {
    this.#endSubtree(sup, 'shutdown', 'shutdown');
    // Rule 42 / 64: its parent sees a child exit with `shutdown`.
    if (sup.parent) this.#childExited(sup.parent.sup, sup.parent.child, 'shutdown');
  }
}
