/**
 * How many steps a supervisor takes, counted as the snapshots an inspector sees of it: starting,
 * stopping and restarting children whose start and shutdown complete at once must not cost the
 * supervisor a transition per child (issue 13: a supervisor of 50k children ran 100k+ xstate
 * macrosteps, a promise hop per start and a DOWN per kill, and its cost per child grew with N).
 */
import test from 'ava';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { dynamicSupervisor, startChild, supervisor, whichChildren, type Pid } from '../../src/index.js';
import { startSup, workerSpec } from '../helpers/otpSupervisorHelpers.js';

/** Starts a supervisor of `n` brutal_kill workers, then stops it: its snapshots in each phase. */
async function stepsFor(n: number): Promise<{ start: number; stop: number; alive: number }> {
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  const children = Array.from({ length: n }, (_, i) => workerSpec(`c${i}`, { shutdown: 'brutal_kill' }));
  const sup = await startSup(rt, supervisor({ children }), 'top');
  const actor = rt.actorOf(sup)!;
  const snapshots = () => events.filter((e) => e.type === '@xstate.snapshot' && e.actorRef === actor).length;
  const start = snapshots();
  const alive = rt.stats().alive;
  await rt.stop(sup, 'shutdown');
  return { start, stop: snapshots() - start, alive };
}

test('regression: a supervisor took a transition per child to start and to stop its children, so its cost grew with their number', async (t) => {
  const few = await stepsFor(3);
  const many = await stepsFor(300);
  t.is(few.alive, 4);
  t.is(many.alive, 301);
  t.is(many.start, few.start);
  t.is(many.stop, few.stop);
});

test('regression: a one_for_one restart of a child whose init returns at once took the supervisor through restarting, its executor and a transition for xstate\'s failure notice', async (t) => {
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  const sup = await startSup(rt, supervisor({ children: [workerSpec('a')] }), 'top');
  const actor: AnyActorRef = rt.actorOf(sup)!;
  const before = (await whichChildren(rt, sup))[0]!.pid as Pid;
  const from = events.length;
  rt.cast(before, 'crash');
  await rt.flush();
  // The transitions it took, as the inspector's microsteps: one, for the EXIT, which restarted
  // the child and stayed in running. (xstate's own notice to the child's xstate parent,
  // `xstate.error.actor.*`, no longer costs it a macrostep either.)
  const steps = events
    .slice(from)
    .filter((e): e is InspectionEvent & { type: '@xstate.microstep' } => e.type === '@xstate.microstep' && e.actorRef === actor)
    .map((e) => [e.event.type, (e.snapshot as { value?: unknown }).value]);
  t.deepEqual(steps, [['xotp.exit', 'running']]);
  const after = (await whichChildren(rt, sup))[0]!.pid as Pid;
  t.not(after.id, before.id);
  t.true(rt.isAlive(after));
  t.deepEqual(rt.trace.of('supervisor.childStarted').filter((e) => e.restart).map((e) => [e.id, e.restarts]), [['a', 1]]);
});

/** A dynamic supervisor with `n` brutal_kill workers, stopped: its snapshots while stopping. */
async function dynamicStopSteps(n: number): Promise<{ steps: number; alive: number }> {
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  const sup = await startSup(rt, dynamicSupervisor({}), 'pool');
  for (let i = 0; i < n; i++) {
    const r = await startChild(rt, sup, workerSpec(`w${i}`, { shutdown: 'brutal_kill', restart: 'temporary' }));
    if (!r.ok) throw new Error(JSON.stringify(r));
  }
  const actor = rt.actorOf(sup)!;
  const from = events.length;
  await rt.stop(sup, 'shutdown');
  const steps = events.slice(from).filter((e) => e.type === '@xstate.snapshot' && e.actorRef === actor).length;
  return { steps, alive: rt.stats().alive };
}

test('regression: a dynamic supervisor stopping N children took a step per child (each EXIT matched against all of them)', async (t) => {
  const few = await dynamicStopSteps(3);
  const many = await dynamicStopSteps(300);
  t.is(few.alive, 0);
  t.is(many.alive, 0);
  t.is(many.steps, few.steps);
});
