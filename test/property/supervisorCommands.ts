/**
 * The model-based supervisor test's pieces: arbitraries for supervision trees and commands, the
 * real tree they run against (xotp supervisors in a test runtime), and the check made after
 * every command that the real tree agrees with the reference model (supervisorModel.ts).
 */
import { inspect, isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { AnyActorLogic } from 'xstate';
import {
  countChildren,
  deleteChild,
  dynamicSupervisor,
  restartChild,
  startChild,
  supervisor,
  terminateChild,
  whichChildren,
  type ChildSpec,
  type ChildStartContext,
  type ExitReason as XotpExitReason,
  type Pid,
  type StartFunctionResult,
} from '../../src/index.js';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import { worker } from '../helpers/otpWorkers.js';
import {
  SupervisorModel,
  type AutoShutdown,
  type ChildTemplate,
  type CrashReason,
  type ModelChild,
  type ModelResult,
  type ModelSupervisor,
  type RestartType,
  type SupervisorFlags,
  type WorkerTemplate,
} from './supervisorModel.js';

/** Fails with both values in full (assert's diff leaves lines out of long lists). */
function deepStrictEqual(actual: unknown, expected: unknown, what: string): void {
  if (isDeepStrictEqual(actual, expected)) return;
  const show = (v: unknown) => inspect(v, { depth: 6, breakLength: 120, maxArrayLength: 200 });
  throw new Error(`${what}:\n  xotp:  ${show(actual)}\n  model: ${show(expected)}`);
}

// --- trees ------------------------------------------------------------------------------------

const restartArb = fc.constantFrom<RestartType>('permanent', 'transient', 'temporary');
const TOP_IDS = ['a', 'b', 'c', 'd', 'e'];
const NESTED_IDS = ['x', 'y', 'z'];
/** Ids `startChild` picks from: some clash with the tree's own (already_started / already_present). */
export const START_IDS = ['a', 'b', 'c', 'f', 'g', 'x'];

/** Significant only where OTP allows it (rule 60): auto-shutdown on, and not permanent. */
const significantOk = (autoShutdown: AutoShutdown, restart: RestartType) => autoShutdown !== 'never' && restart !== 'permanent';

const flagsArb = (mode: 'static' | 'dynamic') =>
  fc.record({
    strategy: mode === 'static' ? fc.constantFrom('one_for_one' as const, 'one_for_all' as const, 'rest_for_one' as const) : fc.constant('one_for_one' as const),
    maxRestarts: fc.constantFrom(0, 1, 2, 3, 5, 10),
    maxSeconds: fc.constantFrom(1, 5),
    autoShutdown: mode === 'static' ? fc.constantFrom<AutoShutdown>('never', 'any_significant', 'all_significant') : fc.constant<AutoShutdown>('never'),
    maxChildren: mode === 'dynamic' ? fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }) : fc.constant(undefined),
  });

/** Child templates for the given ids under a supervisor with `autoShutdown`; nested supervisors only if `nest`. */
function childrenArb(ids: string[], autoShutdown: AutoShutdown, nest: boolean): fc.Arbitrary<ChildTemplate[]> {
  const one = (id: string): fc.Arbitrary<ChildTemplate> => {
    const common = fc.record({ restart: restartArb, significant: fc.boolean() }).map(({ restart, significant }) => ({
      id,
      restart,
      significant: significant && significantOk(autoShutdown, restart),
    }));
    const workerT = common.map((c): ChildTemplate => ({ kind: 'worker', ...c }));
    if (!nest) return workerT;
    const nestedT = fc
      .tuple(common, fc.constantFrom<'static' | 'dynamic'>('static', 'dynamic'))
      .chain(([c, mode]) =>
        flagsArb(mode).chain((f) =>
          (mode === 'static' ? fc.integer({ min: 0, max: 3 }) : fc.constant(0))
            .chain((n) => childrenArb(NESTED_IDS.slice(0, n), f.autoShutdown, false))
            .map((children): ChildTemplate => ({ kind: 'supervisor', ...c, flags: { mode, ...f, children } })),
        ),
      );
    return fc.oneof({ weight: 3, arbitrary: workerT }, { weight: 1, arbitrary: nestedT });
  };
  return fc.tuple(...ids.map(one));
}

/** A top supervisor: static (1–5 children, some of them supervisors with workers) or dynamic (empty). */
export const treeArb: fc.Arbitrary<SupervisorFlags> = fc
  .constantFrom<'static' | 'dynamic'>('static', 'static', 'static', 'dynamic')
  .chain((mode) =>
    flagsArb(mode).chain((f) =>
      (mode === 'static' ? fc.integer({ min: 1, max: 5 }) : fc.constant(0))
        .chain((n) => childrenArb(TOP_IDS.slice(0, n), f.autoShutdown, true))
        .map((children): SupervisorFlags => ({ mode, ...f, children })),
    ),
  );

/** The tree as one readable line (for the counterexample). */
export function describeTree(flags: SupervisorFlags): string {
  const sup = (f: SupervisorFlags): string => {
    const opts = [
      f.mode === 'static' ? f.strategy : 'dynamic',
      `${f.maxRestarts}/${f.maxSeconds}s`,
      ...(f.autoShutdown !== 'never' ? [f.autoShutdown] : []),
      ...(f.maxChildren !== undefined ? [`max ${f.maxChildren}`] : []),
    ];
    return `${opts.join(' ')} [${f.children.map(child).join(', ')}]`;
  };
  const child = (c: ChildTemplate): string =>
    `${c.id} ${c.restart}${c.significant ? ' significant' : ''}${c.kind === 'supervisor' ? ` sup(${sup(c.flags)})` : ''}`;
  return sup(flags);
}

// --- the real tree ----------------------------------------------------------------------------

/** How many of a worker's next starts fail, per template (the real side of `model.poison`). */
type Controls = Map<ChildTemplate, { failNext: number }>;

/** A worker's start: it fails while its template is poisoned, else starts `worker` under the supervisor. */
function workerStart(t: ChildTemplate, controls: Controls) {
  const control = controls.get(t) ?? { failNext: 0 };
  controls.set(t, control);
  return async (ctx: ChildStartContext): Promise<StartFunctionResult> => {
    if (control.failNext > 0) {
      control.failNext--;
      throw 'poisoned';
    }
    const pid = await ctx.runtime.start(worker, {
      parent: ctx.supervisor,
      link: ctx.supervisor,
      input: { id: t.id || 'dyn' },
      ...(ctx.id ? { id: ctx.id } : {}),
    });
    return pid as Pid;
  };
}

function logicOf(flags: SupervisorFlags, controls: Controls): AnyActorLogic {
  if (flags.mode === 'dynamic') {
    return dynamicSupervisor({
      maxRestarts: flags.maxRestarts,
      maxSeconds: flags.maxSeconds,
      ...(flags.maxChildren !== undefined ? { maxChildren: flags.maxChildren } : {}),
    });
  }
  return supervisor({
    strategy: flags.strategy,
    maxRestarts: flags.maxRestarts,
    maxSeconds: flags.maxSeconds,
    autoShutdown: flags.autoShutdown,
    children: flags.children.map((t) => specOf(t, controls)),
  });
}

function specOf(t: ChildTemplate, controls: Controls): ChildSpec {
  const common = { id: t.id, restart: t.restart, ...(t.significant ? { significant: true } : {}) };
  return t.kind === 'worker'
    ? { ...common, start: workerStart(t, controls), shutdown: 1000 }
    : { ...common, start: logicOf(t.flags, controls) };
}

/** The xotp side: a test runtime with the tree started at its top. */
export class RealTree {
  readonly rt: TestRuntime;
  readonly top: Pid;
  readonly controls: Controls;

  private constructor(rt: TestRuntime, top: Pid, controls: Controls) {
    this.rt = rt;
    this.top = top;
    this.controls = controls;
  }

  static async start(flags: SupervisorFlags): Promise<RealTree> {
    const rt = createTestRuntime();
    const controls: Controls = new Map();
    const top = await rt.start(logicOf(flags, controls), { name: 'top' });
    if (top === 'ignore') throw new Error('the top supervisor was ignored');
    await rt.flush();
    return new RealTree(rt, top, controls);
  }

  /** A worker spec for startChild: its start fails while `template` is poisoned. */
  spec(template: WorkerTemplate): ChildSpec {
    const { id, ...spec } = specOf(template, this.controls);
    return template.id === '' ? spec : { id, ...spec };
  }

  poison(template: ChildTemplate, n: number): void {
    const control = this.controls.get(template);
    if (control === undefined) throw new Error(`no start function for ${template.id}`);
    control.failNext += n;
  }

  /** Every child start so far, in order (incarnation n is entry n). */
  starts() {
    return this.rt.trace.of('supervisor.childStarted');
  }

  /** The pid of incarnation `seq`. */
  pid(seq: number): Pid {
    const e = this.starts()[seq];
    if (e === undefined) throw new Error(`no start #${seq} happened (the model expects one)`);
    return e.pid;
  }

  supPid(sup: ModelSupervisor): Pid {
    return sup.seq === 'top' ? this.top : this.pid(sup.seq!);
  }
}

// --- the check after every step ---------------------------------------------------------------

/**
 * The answer of a call to a supervisor, which must come once the runtime has settled: a call
 * left waiting then is a supervisor stuck with work queued, and the test says so rather than
 * hang.
 */
async function answered<T>(real: RealTree, call: Promise<T>, what: string): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  void call.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  await real.rt.flush();
  if (outcome === undefined) throw new Error(`${what} got no answer once the runtime settled: the supervisor is stuck`);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/** How a real result reads once its pids are turned into the incarnations they name. */
function asModelResult(r: unknown, seqOf: (pid: Pid) => number | string): unknown {
  const o = r as Record<string, unknown>;
  const out: Record<string, unknown> = { ok: o.ok };
  if ('error' in o) out.error = o.error;
  if (o.pid !== undefined) out.pid = seqOf(o.pid as Pid);
  return out;
}

/**
 * Compares the real tree with the model. First what can be seen without sending the
 * supervisors anything (the starts, in order and by whom; which incarnations are alive), so a
 * supervisor that stalls is not moved on by the check itself; then whichChildren and
 * countChildren of every live supervisor.
 */
export async function verify(model: SupervisorModel, real: RealTree): Promise<void> {
  const { rt } = real;
  const starts = real.starts();
  const seqByPid = new Map(starts.map((e, i) => [e.pid.id, i]));
  const seqOf = (pid: Pid): number | string => (pid.id === real.top.id ? 'top' : (seqByPid.get(pid.id) ?? `unknown pid ${String(pid)}`));
  // A supervisor whose own start failed (a child of its init did not start) has no incarnation.
  const by = (pid: Pid) => (pid.id === real.top.id ? 'top' : (seqByPid.get(pid.id) ?? 'a supervisor that failed to start'));
  // A dynamic child started without a spec id is named in events by its actor id's last segment
  // (`worker-5`, fixed at its first start and kept across restarts: test/inspect/childIdentity
  // pins that). The model has no pids, so it names such a child ''.
  const idOf = (id: string, i: number) => (model.starts[i]?.id === '' && /^[^/\s]+-\d+$/.test(id) ? '' : id);
  deepStrictEqual(
    starts.map((e, i) => `#${i} ${by(e.supervisor)}:${idOf(e.id, i)}`),
    model.starts.map((s, i) => `#${i} ${s.sup.seq ?? 'a supervisor that failed to start'}:${s.id}`),
    'children started (incarnation, started by, child id)',
  );
  const exits = new Map(rt.trace.exits().map((e) => [e.pid.id, e.reason]));
  const state = (alive: boolean, reason: unknown) => (alive ? 'alive' : `dead (${inspect(reason)})`);
  deepStrictEqual(
    starts.map((e, i) => `#${i} ${state(rt.isAlive(e.pid), exits.get(e.pid.id))}`),
    model.alive.map((a, i) => `#${i} ${state(a, model.exits[i])}`),
    'which incarnations are alive, and how the others ended',
  );
  deepStrictEqual(rt.isAlive(real.top) ? 'alive' : 'dead', model.top.alive ? 'alive' : 'dead', 'the top supervisor');
  if (!model.top.alive) {
    const exit = rt.trace.exits().find((e) => e.pid.id === real.top.id);
    deepStrictEqual(exit?.reason as unknown, model.top.exitReason, 'the top supervisor exit reason');
    deepStrictEqual(rt.processes().map(String), [], 'nothing is left once the top supervisor is gone');
    return;
  }
  for (const sup of model.supervisors()) {
    const pid = real.supPid(sup);
    const where = `supervisor ${sup.seq === 'top' ? 'top' : `#${sup.seq}`}`;
    const rows = (await answered(real, whichChildren(rt, pid), `${where}: whichChildren`)).map((r) => ({
      id: r.id,
      pid: r.pid === undefined || r.pid === 'restarting' ? r.pid : seqOf(r.pid),
      type: r.type,
    }));
    deepStrictEqual(rows, model.whichChildren(sup), `${where}: whichChildren`);
    deepStrictEqual({ ...(await answered(real, countChildren(rt, pid), `${where}: countChildren`)) }, model.countChildren(sup), `${where}: countChildren`);
  }
}

// --- commands ---------------------------------------------------------------------------------

type Cmd = fc.AsyncCommand<SupervisorModel, RealTree>;

const reasonText = (r: CrashReason) => (typeof r === 'string' ? r : '{shutdown: x}');
const seqMap = (real: RealTree) => {
  const seqByPid = new Map(real.starts().map((e, i) => [e.pid.id, i]));
  return (p: Pid) => seqByPid.get(p.id) ?? `unknown pid ${String(p)}`;
};

/**
 * Sends a call, lets the runtime settle, and compares the answer with the model's (a call to a
 * supervisor the model says is gone must fail).
 */
async function compareCall(real: RealTree, call: Promise<unknown>, expected: unknown, what: string): Promise<void> {
  let result: unknown;
  try {
    result = await answered(real, call, what);
  } catch (err) {
    if (expected === 'rejected') return;
    throw err;
  }
  const seqOf = seqMap(real);
  const actual = Array.isArray(result)
    ? result.map((r: { id: unknown; pid: unknown; type: unknown }) => ({
        id: r.id,
        pid: r.pid === undefined || r.pid === 'restarting' ? r.pid : seqOf(r.pid as Pid),
        type: r.type,
      }))
    : 'specs' in (result as object)
      ? { ...(result as object) }
      : asModelResult(result, seqOf);
  deepStrictEqual(actual, expected, `${what}: result`);
}

/** Runs a call on both sides, then the whole check. */
async function step(model: SupervisorModel, real: RealTree, call: () => Promise<unknown>, expected: unknown, what: string) {
  const pending = call();
  model.settle();
  await compareCall(real, pending, expected, what);
  await verify(model, real);
}

/** What a command may ask a supervisor right after killing one of its children. */
type Ask = 'whichChildren' | 'countChildren' | 'restartChild' | 'deleteChild' | 'terminateChild';

/**
 * A running child ends: a worker stops itself (or is killed); a supervisor is stopped (or
 * killed). With `ask` (kill only, whose exit signal is handled at once), a call reaches the
 * child's supervisor while it is restarting the child: it is answered after that restart
 * attempt and before any retry, so a failed restart shows as `restarting` (rule 31).
 */
export class CrashCommand implements Cmd {
  constructor(
    readonly target: number,
    readonly reason: CrashReason,
    readonly ask: Ask | undefined = undefined,
  ) {}
  check = () => true;
  async run(model: SupervisorModel, real: RealTree): Promise<void> {
    const running = model.runningChildren();
    if (running.length === 0) return;
    const { sup, child } = running[this.target % running.length]!;
    const pid = real.pid(child.seq!);
    const supPid = real.supPid(sup);
    const reason = this.reason;
    model.crash(sup, child, reason);
    if (reason === 'kill') real.rt.exit(pid, 'kill');
    else if (child.template.kind === 'worker') real.rt.cast(pid, { exit: reason as XotpExitReason });
    else void real.rt.stop(pid, reason as XotpExitReason);
    if (this.ask !== undefined && reason === 'kill') {
      const { call, expected } = this.#ask(model, real, sup, child, supPid);
      model.settle();
      await compareCall(real, call, expected, `${this.ask} right after the kill`);
    } else {
      model.settle();
      await real.rt.flush();
    }
    await verify(model, real);
  }
  #ask(model: SupervisorModel, real: RealTree, sup: ModelSupervisor, child: ModelChild, supPid: Pid): { call: Promise<unknown>; expected: unknown } {
    const { rt } = real;
    const gone = !sup.alive;
    const oldPid = real.pid(child.lastSeq!);
    switch (this.ask!) {
      case 'whichChildren':
        return { call: whichChildren(rt, supPid), expected: gone ? 'rejected' : model.whichChildren(sup) };
      case 'countChildren':
        return { call: countChildren(rt, supPid), expected: gone ? 'rejected' : model.countChildren(sup) };
      case 'restartChild':
        return { call: restartChild(rt, supPid, child.id), expected: gone ? 'rejected' : model.restartChild(sup, sup.children.includes(child) ? child : undefined) };
      case 'deleteChild':
        return { call: deleteChild(rt, supPid, child.id), expected: gone ? 'rejected' : model.deleteChild(sup, sup.children.includes(child) ? child : undefined) };
      case 'terminateChild': {
        // Dynamic: by the pid that exited, which still names a child being restarted (rule 70).
        const expected = gone ? 'rejected' : sup.dynamic && !child.restarting ? model.terminateChild(sup, undefined) : model.terminateChild(sup, sup.children.includes(child) ? child : undefined);
        return { call: terminateChild(rt, supPid, sup.dynamic ? oldPid : child.id), expected };
      }
    }
  }
  toString = () => `crash(running child #${this.target}, ${reasonText(this.reason)}${this.ask ? `, then ${this.ask}` : ''})`;
}

export class AdvanceCommand implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: SupervisorModel, real: RealTree): Promise<void> {
    model.advance(this.ms);
    await real.rt.advance(this.ms);
    await verify(model, real);
  }
  toString = () => `advance(${this.ms} ms)`;
}

/** The next `n` starts of a worker (any worker of a live supervisor, running or not) fail. */
export class PoisonCommand implements Cmd {
  constructor(
    readonly target: number,
    readonly n: number,
  ) {}
  check = () => true;
  async run(model: SupervisorModel, real: RealTree): Promise<void> {
    const workers = model.supervisors().flatMap((sup) => sup.children.filter((c) => c.template.kind === 'worker'));
    if (workers.length === 0) return;
    const template = workers[this.target % workers.length]!.template;
    model.poison(template, this.n);
    real.poison(template, this.n);
  }
  toString = () => `poison(worker #${this.target}, next ${this.n} start(s) fail)`;
}

type Pick = 'child' | 'unknown' | 'other';

/** The supervisor a command addresses (by index among the live ones) and one of its children. */
function pick(model: SupervisorModel, supIndex: number, childIndex: number): { sup: ModelSupervisor; child: ModelChild | undefined } | undefined {
  const sups = model.supervisors();
  if (sups.length === 0) return undefined;
  const sup = sups[supIndex % sups.length]!;
  const child = sup.children.length === 0 ? undefined : sup.children[childIndex % sup.children.length];
  return { sup, child };
}

/**
 * terminateChild. `child`: a child of it (static: by id; dynamic: by pid). `unknown`: an id it
 * does not have (dynamic: a pid that was once a child). `other`: the wrong kind of reference
 * (static: a pid; dynamic: an id).
 */
export class TerminateChildCommand implements Cmd {
  constructor(
    readonly sup: number,
    readonly child: number,
    readonly how: Pick,
  ) {}
  check = () => true;
  async run(model: SupervisorModel, real: RealTree): Promise<void> {
    const p = pick(model, this.sup, this.child);
    if (!p) return;
    const supPid = real.supPid(p.sup);
    const dynamic = p.sup.dynamic;
    let ref: string | Pid;
    let expected: ModelResult;
    if (this.how === 'child' && p.child) {
      ref = dynamic ? real.pid(p.child.seq ?? p.child.lastSeq!) : p.child.id;
      expected = model.terminateChild(p.sup, p.child);
    } else if (this.how === 'other' && p.child?.running) {
      ref = dynamic ? 'a' : real.pid(p.child.seq!);
      expected = model.terminateChild(p.sup, undefined);
    } else {
      const stale = model.alive.lastIndexOf(false);
      ref = dynamic && stale >= 0 ? real.pid(stale) : 'nope';
      expected = model.terminateChild(p.sup, undefined);
    }
    await step(model, real, () => terminateChild(real.rt, supPid, ref), expected, 'terminateChild');
  }
  toString = () => `terminateChild(supervisor #${this.sup}, ${this.how === 'child' ? `child #${this.child}` : this.how})`;
}

export class RestartChildCommand implements Cmd {
  constructor(
    readonly sup: number,
    readonly child: number,
    readonly unknown: boolean,
  ) {}
  check = () => true;
  async run(model: SupervisorModel, real: RealTree): Promise<void> {
    const p = pick(model, this.sup, this.child);
    if (!p) return;
    const child = this.unknown ? undefined : p.child;
    const supPid = real.supPid(p.sup);
    const expected = model.restartChild(p.sup, child);
    await step(model, real, () => restartChild(real.rt, supPid, child?.id ?? 'nope'), expected, 'restartChild');
  }
  toString = () => `restartChild(supervisor #${this.sup}, ${this.unknown ? 'unknown id' : `child #${this.child}`})`;
}

export class DeleteChildCommand implements Cmd {
  constructor(
    readonly sup: number,
    readonly child: number,
    readonly unknown: boolean,
  ) {}
  check = () => true;
  async run(model: SupervisorModel, real: RealTree): Promise<void> {
    const p = pick(model, this.sup, this.child);
    if (!p) return;
    const child = this.unknown ? undefined : p.child;
    const supPid = real.supPid(p.sup);
    const expected = model.deleteChild(p.sup, child);
    await step(model, real, () => deleteChild(real.rt, supPid, child?.id ?? 'nope'), expected, 'deleteChild');
  }
  toString = () => `deleteChild(supervisor #${this.sup}, ${this.unknown ? 'unknown id' : `child #${this.child}`})`;
}

/** startChild of a worker; its id is one of START_IDS (ignored by dynamic supervisors). */
export class StartChildCommand implements Cmd {
  constructor(
    readonly sup: number,
    readonly id: string,
    readonly restart: RestartType,
    readonly significant: boolean,
  ) {}
  check = () => true;
  async run(model: SupervisorModel, real: RealTree): Promise<void> {
    const p = pick(model, this.sup, 0);
    if (!p) return;
    const significant = this.significant && !p.sup.dynamic && significantOk(p.sup.flags.autoShutdown, this.restart);
    const template: WorkerTemplate = { kind: 'worker', id: p.sup.dynamic ? '' : this.id, restart: this.restart, significant };
    const spec = real.spec(template);
    const supPid = real.supPid(p.sup);
    const expected = model.startChild(p.sup, template);
    await step(model, real, () => startChild(real.rt, supPid, spec), expected, 'startChild');
  }
  toString = () => `startChild(supervisor #${this.sup}, ${this.id} ${this.restart}${this.significant ? ' significant' : ''})`;
}

/** whichChildren / countChildren of one supervisor (the check after every step asks every one). */
export class QueryCommand implements Cmd {
  constructor(
    readonly sup: number,
    readonly what: 'whichChildren' | 'countChildren',
  ) {}
  check = () => true;
  async run(model: SupervisorModel, real: RealTree): Promise<void> {
    const p = pick(model, this.sup, 0);
    if (!p) return;
    const pid = real.supPid(p.sup);
    if (this.what === 'countChildren') await step(model, real, () => countChildren(real.rt, pid), model.countChildren(p.sup), 'countChildren');
    else await step(model, real, () => whichChildren(real.rt, pid), model.whichChildren(p.sup), 'whichChildren');
  }
  toString = () => `${this.what}(supervisor #${this.sup})`;
}

const nat = fc.nat({ max: 15 });
const crashReasonArb = fc.constantFrom<CrashReason>('normal', 'shutdown', { shutdown: 'x' }, 'error', 'kill');
const askArb = fc.constantFrom<Ask>('whichChildren', 'countChildren', 'restartChild', 'deleteChild', 'terminateChild');

export const commandArbs: Array<fc.Arbitrary<Cmd>> = [
  fc.tuple(nat, crashReasonArb).map(([t, r]) => new CrashCommand(t, r)),
  fc.tuple(nat, crashReasonArb).map(([t, r]) => new CrashCommand(t, r)),
  fc.tuple(nat, askArb).map(([t, a]) => new CrashCommand(t, 'kill', a)),
  fc.tuple(nat, fc.integer({ min: 1, max: 3 })).map(([t, n]) => new PoisonCommand(t, n)),
  fc.constantFrom(1, 400, 1000, 2500, 5000, 6000).map((ms) => new AdvanceCommand(ms)),
  fc.tuple(nat, nat, fc.constantFrom<Pick>('child', 'child', 'child', 'unknown', 'other')).map(([s, c, h]) => new TerminateChildCommand(s, c, h)),
  fc.tuple(nat, nat, fc.boolean()).map(([s, c, u]) => new RestartChildCommand(s, c, u)),
  fc.tuple(nat, nat, fc.boolean()).map(([s, c, u]) => new DeleteChildCommand(s, c, u)),
  fc.tuple(nat, fc.constantFrom(...START_IDS), restartArb, fc.boolean()).map(([s, id, r, sig]) => new StartChildCommand(s, id, r, sig)),
  fc.tuple(nat, fc.constantFrom('whichChildren' as const, 'countChildren' as const)).map(([s, w]) => new QueryCommand(s, w)),
];
