/**
 * Supervisor reports (supervisor.erl's report_error): one shape for every context — start_error,
 * child_terminated, shutdown_error, shutdown — and the supervisor's own messages as an inspector
 * sees them.
 */
import test from 'ava';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import { dynamicSupervisor, startChild, supervisor, type ChildStartContext, type Pid } from '../../src/index.js';
import { worker, type WorkerInput } from '../helpers/otpWorkers.js';
import { livePid, ownReasonStart, startSup, workerSpec } from '../helpers/otpSupervisorHelpers.js';

/** Every supervisor report, as (level, context, id, message). */
function reports(rt: TestRuntime) {
  return rt.logs.records
    .filter((r) => typeof r.meta?.['context'] === 'string' && typeof r.meta?.['supervisor'] === 'string')
    .map((r) => ({ level: r.level, context: r.meta!['context'], id: r.meta!['id'], message: r.message, keys: Object.keys(r.meta!).sort() }));
}

test('every supervisor report has one shape: "supervisor <pid>: <context> <child id> (<pid>): <reason>", with the same facts as meta', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    rt,
    supervisor({
      maxRestarts: 1,
      maxSeconds: 3600,
      // `stubborn` answers the shutdown with its own reason: a shutdown_error.
      children: [{ id: 'stubborn', start: ownReasonStart('other'), shutdown: 1000 }, workerSpec('crasher')],
    }),
  );
  const stubborn = await livePid(rt, sup, 'stubborn');
  // start_error: a child whose init stops.
  await startChild(rt, sup, { id: 'bad', start: worker, input: { init: { stop: 'no_way' } } });
  // child_terminated, once restarted; the second crash is past the intensity: shutdown.
  const crasher = await livePid(rt, sup, 'crasher');
  rt.cast(crasher, 'crash');
  await rt.flush();
  const again = await livePid(rt, sup, 'crasher');
  rt.cast(again, 'crash');
  await rt.flush();
  t.false(rt.isAlive(sup));

  const got = reports(rt);
  t.deepEqual(
    got.map((r) => [r.level, r.context, r.id]),
    [
      ['error', 'start_error', 'bad'],
      ['error', 'child_terminated', 'crasher'],
      ['error', 'child_terminated', 'crasher'],
      ['error', 'shutdown', 'crasher'],
      ['error', 'shutdown_error', 'stubborn'],
    ],
  );
  for (const r of got) t.deepEqual(r.keys, ['context', 'id', 'reason', 'supervisor']);
  const s = String(sup);
  t.is(got[0]!.message, `supervisor ${s}: start_error bad: no_way`);
  t.is(got[1]!.message.startsWith(`supervisor ${s}: child_terminated crasher (${String(crasher)}): `), true, got[1]!.message);
  t.is(got[3]!.message, `supervisor ${s}: shutdown crasher: reached_max_restart_intensity`);
  t.is(got[4]!.message, `supervisor ${s}: shutdown_error stubborn (${String(stubborn)}): other`);
});

test('regression: supervisor reports named a dynamic child by its table key or an empty id, not as its events do', async (t) => {
  // Events name a dynamic child by the readable segment of its actor id (worker-6); the
  // shutdown_error, start_error and intensity reports said '#1' in the text and '' in the meta.
  // One report function names it as the events do.
  await using rt = createTestRuntime();
  const sup = await startSup(rt, dynamicSupervisor());
  // A permanent child that answers the shutdown with its own reason: a shutdown_error.
  const r = await startChild(rt, sup, { start: ownReasonStart('other'), shutdown: 1000 });
  if (!r.ok || r.pid === undefined) throw new Error(JSON.stringify(r));
  rt.exit(sup, 'shutdown');
  await rt.flush();
  const events = rt.trace.of('supervisor.shutdownError');
  t.is(events.length, 1);
  const id = events[0]!.id;
  t.not(id, '');
  t.false(id.startsWith('#'), id);
  const shutdownErrors = reports(rt).filter((x) => x.context === 'shutdown_error');
  t.deepEqual(shutdownErrors.map((x) => x.id), [id]);
  t.is(shutdownErrors[0]!.message, `supervisor ${String(sup)}: shutdown_error ${id} (${String(r.pid)}): other`);
});

/** The sender of each `@xstate.event` of `type` sent to `target`, as actor ids. */
function sendersOf(events: InspectionEvent[], type: string, target: AnyActorRef): Array<string | undefined> {
  return events
    .filter((e): e is InspectionEvent & { type: '@xstate.event' } => e.type === '@xstate.event' && e.event.type === type && e.actorRef === target)
    // xstate types sourceRef loosely (ActorRefLike); every actor here is a full ActorRef.
    .map((e) => (e.sourceRef as AnyActorRef | undefined)?.id);
}

test("regression: a supervisor's own messages reached it with no sender, so an inspector could not draw them", async (t) => {
  // They were sent with `self.send`, which bypasses the kernel's send path: the init event and
  // each child start's outcome showed up as sent from nowhere.
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  // A start that completes at once needs no message; one that finishes later (a start function
  // that awaits) is told to the supervisor by a message to itself.
  const later = (id: string) => ({
    id,
    start: async ({ runtime, supervisor: sup, input }: ChildStartContext) => (await runtime.start(worker, { parent: sup, link: sup, input: input as WorkerInput })) as Pid,
    input: { id },
  });
  const sup: Pid = await startSup(rt, supervisor({ children: [later('a'), later('b')] }), 'top');
  await rt.flush();
  const actor = rt.actorOf(sup)!;
  t.deepEqual(sendersOf(events, 'xotp.supervisor.init', actor), [actor.id]);
  t.deepEqual(sendersOf(events, 'xotp.supervisor.started', actor), [actor.id, actor.id]);
});
