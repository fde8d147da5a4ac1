import test from 'ava';
import { createMachine, type Actor, type AnyActorLogic, type AnyActorRef, type InspectionEvent } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { defineServer, runtimeOf, type Pid } from '../../src/index.js';

/**
 * The one send path records the sender: every message the runtime delivers reaches the
 * inspector as an `@xstate.event` whose `sourceRef` is the sending process's actor (none when
 * the sender is outside any process) and whose `actorRef` is the target's.
 */

type Sent = { source: string | undefined; target: string; type: string; event: Record<string, unknown> };

/** The `@xstate.event`s of `types`, as (source id, target id, type). */
function sent(events: InspectionEvent[], ...types: string[]): Sent[] {
  const out: Sent[] = [];
  for (const e of events) {
    if (e.type !== '@xstate.event' || !types.includes(e.event.type)) continue;
    // xstate types sourceRef loosely (ActorRefLike); every actor here is a full ActorRef.
    const source = e.sourceRef as AnyActorRef | undefined;
    out.push({ source: source?.id, target: (e.actorRef as AnyActorRef).id, type: e.event.type, event: e.event as Record<string, unknown> });
  }
  return out;
}

/** A server that forwards every cast to the pid in its state, and answers calls with its count. */
const forwarder = defineServer<{ to: Pid | undefined; n: number }, Pid | undefined, 'count' | { ask: Pid }, unknown, string>({
  name: 'forwarder',
  init: (to) => ({ state: { to, n: 0 } }),
  handleCast: (msg, s, ctx) => {
    if (s.to) ctx.runtime.cast(s.to, `${msg}!`);
    return { state: { ...s, n: s.n + 1 } };
  },
  handleCall: async (req, _from, s, ctx) => {
    if (req === 'count') return { reply: s.n };
    // A call made from inside this server: its reply is drawn back to this server.
    return { reply: await ctx.runtime.call(req.ask, 'count') };
  },
});

test('a server casting to another server: the cast is sent by the first server to the second', async (t) => {
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  const b = rt.spawn(forwarder, { input: undefined, id: 'b' });
  const a = rt.spawn(forwarder, { input: b, id: 'a' });
  await rt.flush();
  events.length = 0;
  rt.cast(a, 'hi');
  await rt.flush();
  t.deepEqual(
    sent(events, 'xotp.cast').map(({ source, target, event }) => ({ source, target, message: event['message'] })),
    [
      { source: undefined, target: 'test/a', message: 'hi' }, // from the test: outside any process
      { source: 'test/a', target: 'test/b', message: 'hi!' },
    ],
  );
  t.is(sent(events, 'xotp.cast')[1]!.event['type'], 'xotp.cast');
  const actorA = rt.actorOf(a)!;
  const forwarded = events.find((e): e is InspectionEvent & { type: '@xstate.event' } => e.type === '@xstate.event' && e.event.type === 'xotp.cast' && e.actorRef === rt.actorOf(b));
  t.is(forwarded?.sourceRef, actorA);
});

test("a call's reply is shown from the replier: to the root for a caller outside any process, to the calling server from inside one", async (t) => {
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  const b = rt.spawn(forwarder, { input: undefined, id: 'b' });
  const a = rt.spawn(forwarder, { input: undefined, id: 'a' });
  await rt.flush();
  events.length = 0;
  t.is(await rt.call(a, { ask: b }), 0);
  t.deepEqual(
    sent(events, 'xotp.call', 'xotp.reply').map(({ source, target, type }) => ({ source, target, type })),
    [
      { source: undefined, target: 'test/a', type: 'xotp.call' },
      { source: 'test/a', target: 'test/b', type: 'xotp.call' },
      { source: 'test/b', target: 'test/a', type: 'xotp.reply' },
      { source: 'test/a', target: 'test', type: 'xotp.reply' }, // `test` is the runtime root
    ],
  );
  const replies = sent(events, 'xotp.reply').map((r) => r.event);
  t.deepEqual(replies.map((r) => [r['ok'], r['value']]), [[true, 0], [true, 0]]);
});

test('exit signals, DOWNs and stop requests carry their sender: the dead process for links and monitors, none from outside', async (t) => {
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  const watcher = rt.spawn(forwarder, { input: undefined, id: 'watcher', trapExit: true });
  const doomed = rt.spawn(forwarder, { input: undefined, id: 'doomed' });
  rt.link(watcher, doomed);
  rt.monitor(doomed, watcher);
  await rt.flush();
  events.length = 0;
  rt.exit(doomed, 'boom');
  await rt.flush();
  rt.exit(watcher, 'custom', watcher);
  await rt.stop(watcher);
  t.deepEqual(
    sent(events, 'xotp.exit', 'xotp.down', 'xotp.stop').map(({ source, target, type }) => ({ source, target, type })),
    [
      { source: 'test/doomed', target: 'test/watcher', type: 'xotp.exit' },
      { source: 'test/doomed', target: 'test/watcher', type: 'xotp.down' },
      { source: 'test/watcher', target: 'test/watcher', type: 'xotp.exit' }, // `from` given
      { source: undefined, target: 'test/watcher', type: 'xotp.stop' },
    ],
  );
});

test("a plain machine's action that sends through the runtime is recorded as sent by that machine", async (t) => {
  const events: InspectionEvent[] = [];
  await using rt = createTestRuntime({ inspect: (e) => events.push(e) });
  const target = rt.spawn(forwarder, { input: undefined, id: 'target' });
  const relay = createMachine({
    id: 'relay',
    on: {
      poke: { actions: ({ self }: { self: AnyActorRef }) => runtimeOf(self).cast(target, 'poked') },
    },
    entry: ({ self }: { self: AnyActorRef }) => runtimeOf(self).cast(target, 'started'),
  });
  const pid = rt.spawn(relay, { id: 'relay' });
  rt.send(pid, { type: 'poke' });
  await rt.flush();
  t.deepEqual(
    sent(events, 'xotp.cast', 'poke').map(({ source, target: to, event }) => ({ source, to, what: event['message'] ?? event['type'] })),
    [
      { source: 'test/relay', to: 'test/target', what: 'started' }, // entry actions run as the process
      { source: undefined, to: 'test/relay', what: 'poke' },
      { source: 'test/relay', to: 'test/target', what: 'poked' },
    ],
  );
  t.is(await rt.call(target, 'count'), 2);
});

test('regression: an inspector that throws never affects a process: cast does not throw, the target handles it and answers; logged once', async (t) => {
  let calls = 0;
  await using rt = createTestRuntime({
    inspect: (e) => {
      calls++;
      // Throws while a cast is delivered and while the target finishes handling it.
      if ((e.type === '@xstate.event' || e.type === '@xstate.snapshot') && e.event.type === 'xotp.cast') throw new Error('inspector bug');
    },
  });
  const pid = rt.spawn(forwarder, { input: undefined });
  await rt.flush();
  t.notThrows(() => rt.cast(pid, 'one'));
  t.notThrows(() => rt.cast(pid, 'two'));
  t.is(await rt.call(pid, 'count'), 2);
  t.true(calls > 0);
  const reports = rt.logs.at('error').filter((r) => r.message.includes('an inspector threw'));
  t.is(reports.length, 1);
  t.true(reports[0]!.message.includes('inspector bug'));
});

test('without an inspector, sends from processes work the same (no source is tracked for other logic)', async (t) => {
  await using rt = createTestRuntime();
  const b = rt.spawn(forwarder, { input: undefined });
  const a = rt.spawn(forwarder, { input: b });
  rt.cast(a, 'x');
  t.is(await rt.call(a, { ask: b }), 1);
  t.is((rt.actorOf(a) as Actor<AnyActorLogic>).logic, forwarder);
});
