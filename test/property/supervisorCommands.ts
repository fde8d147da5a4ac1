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
  type ExitReason as XotpExitReason,
  type Pid,
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

function logicOf(flags: SupervisorFlags): AnyActorLogic {
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
    children: flags.children.map(specOf),
  });
}

function specOf(t: ChildTemplate): ChildSpec {
  const common = { id: t.id, restart: t.restart, ...(t.significant ? { significant: true } : {}) };
  return t.kind === 'worker' ? { ...common, start: worker, input: { id: t.id }, shutdown: 1000 } : { ...common, start: logicOf(t.flags) };
}

/** The xotp side: a test runtime with the tree started at its top. */
export class RealTree {
  readonly rt: TestRuntime;
  readonly top: Pid;

  private constructor(rt: TestRuntime, top: Pid) {
    this.rt = rt;
    this.top = top;
  }

  static async start(flags: SupervisorFlags): Promise<RealTree> {
    const rt = createTestRuntime();
    const top = await rt.start(logicOf(flags), { name: 'top' });
    if (top === 'ignore') throw new Error('the top supervisor was ignored');
    await rt.flush();
    return new RealTree(rt, top);
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
  deepStrictEqual(
    starts.map((e, i) => `#${i} ${seqOf(e.supervisor)}:${e.id}`),
    model.starts.map((s, i) => `#${i} ${s.sup.seq}:${s.id}`),
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

/** Runs `act` on the real tree, lets it settle, compares the call's result, then everything else. */
async function step(model: SupervisorModel, real: RealTree, act: () => Promise<unknown> | undefined, expected: ModelResult | undefined, what = 'the call') {
  const pending = act();
  if (pending === undefined) {
    await real.rt.flush();
  } else {
    const result = await answered(real, pending, what);
    const seqByPid = new Map(real.starts().map((e, i) => [e.pid.id, i]));
    deepStrictEqual(asModelResult(result, (p) => seqByPid.get(p.id) ?? `unknown pid ${String(p)}`), expected, `${what}: result`);
  }
  await verify(model, real);
}

/** A running child ends: a worker stops itself (or is killed); a supervisor is stopped (or killed). */
export class CrashCommand implements Cmd {
  constructor(
    readonly target: number,
    readonly reason: CrashReason,
  ) {}
  check = () => true;
  async run(model: SupervisorModel, real: RealTree): Promise<void> {
    const running = model.runningChildren();
    if (running.length === 0) return;
    const { sup, child } = running[this.target % running.length]!;
    const pid = real.pid(child.seq!);
    const reason = this.reason;
    model.crash(sup, child, reason);
    await step(model, real, () => {
      if (reason === 'kill') real.rt.exit(pid, 'kill');
      else if (child.template.kind === 'worker') real.rt.cast(pid, { exit: reason as XotpExitReason });
      else void real.rt.stop(pid, reason as XotpExitReason);
      return undefined;
    }, undefined);
  }
  toString = () => `crash(running child #${this.target}, ${reasonText(this.reason)})`;
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
 * does not have. `other`: the wrong kind of reference (static: a pid; dynamic: an id).
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
      ref = dynamic ? real.pid(p.child.seq!) : p.child.id;
      expected = model.terminateChild(p.sup, p.child);
    } else if (this.how === 'other' && p.child?.running) {
      ref = dynamic ? p.child.id || 'a' : real.pid(p.child.seq!);
      expected = model.terminateChild(p.sup, undefined);
    } else {
      // Dynamic: a pid that was once a child (now dead) is not_found too (rule 70).
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
    const expected = model.restartChild(p.sup, child);
    await step(model, real, () => restartChild(real.rt, real.supPid(p.sup), child?.id ?? 'nope'), expected, 'restartChild');
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
    const expected = model.deleteChild(p.sup, child);
    await step(model, real, () => deleteChild(real.rt, real.supPid(p.sup), child?.id ?? 'nope'), expected, 'deleteChild');
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
    const expected = model.startChild(p.sup, template);
    const spec: ChildSpec = p.sup.dynamic
      ? { start: worker, input: { id: 'dyn' }, restart: this.restart, shutdown: 1000 }
      : { id: this.id, start: worker, input: { id: this.id }, restart: this.restart, shutdown: 1000, ...(significant ? { significant } : {}) };
    await step(model, real, () => startChild(real.rt, real.supPid(p.sup), spec), expected, 'startChild');
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
    if (this.what === 'countChildren') {
      deepStrictEqual({ ...(await answered(real, countChildren(real.rt, pid), 'countChildren')) }, model.countChildren(p.sup), 'countChildren');
    } else {
      const seqByPid = new Map(real.starts().map((e, i) => [e.pid.id, i]));
      const rows = (await answered(real, whichChildren(real.rt, pid), 'whichChildren')).map((r) => ({
        id: r.id,
        pid: r.pid === undefined || r.pid === 'restarting' ? r.pid : (seqByPid.get(r.pid.id) ?? String(r.pid)),
        type: r.type,
      }));
      deepStrictEqual(rows, model.whichChildren(p.sup), 'whichChildren');
    }
  }
  toString = () => `${this.what}(supervisor #${this.sup})`;
}

const nat = fc.nat({ max: 15 });
const crashReasonArb = fc.constantFrom<CrashReason>('normal', 'shutdown', { shutdown: 'x' }, 'error', 'kill');

export const commandArbs: Array<fc.Arbitrary<Cmd>> = [
  fc.tuple(nat, crashReasonArb).map(([t, r]) => new CrashCommand(t, r)),
  fc.tuple(nat, crashReasonArb).map(([t, r]) => new CrashCommand(t, r)),
  fc.constantFrom(1, 400, 1000, 2500, 5000, 6000).map((ms) => new AdvanceCommand(ms)),
  fc.tuple(nat, nat, fc.constantFrom<Pick>('child', 'child', 'child', 'unknown', 'other')).map(([s, c, h]) => new TerminateChildCommand(s, c, h)),
  fc.tuple(nat, nat, fc.boolean()).map(([s, c, u]) => new RestartChildCommand(s, c, u)),
  fc.tuple(nat, nat, fc.boolean()).map(([s, c, u]) => new DeleteChildCommand(s, c, u)),
  fc.tuple(nat, fc.constantFrom(...START_IDS), restartArb, fc.boolean()).map(([s, id, r, sig]) => new StartChildCommand(s, id, r, sig)),
  fc.tuple(nat, fc.constantFrom('whichChildren' as const, 'countChildren' as const)).map(([s, w]) => new QueryCommand(s, w)),
];
