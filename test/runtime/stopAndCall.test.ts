/**
 * otp-semantics §1.12 rules 73–77: gen_server stop and call, and the §5.3 probe
 * "CHECK gen_server_stop" of real OTP 25.
 *
 * Mapping: gen_server:stop(P, R, T) = rt.stop(P, R, { timeout: T }), which resolves 'ok' or
 * 'noproc' and rejects only with TimeoutError. Deliberate difference from OTP: a dead, dying or
 * unknown target never makes stop throw (OTP exits the caller with noproc).
 *
 * Servers whose handlers wait on the simulated clock are driven with `rt.clock.advance`, which
 * moves simulated time without waiting for in-flight handlers to settle, so a test can look at
 * a process while its handler (a slow terminate) is still waiting.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  AbortError,
  InvalidOptionError,
  NoProcessError,
  Pid,
  ProcessExitError,
  TimeoutError,
  defineServer,
  type ExitReason,
} from '../../src/index.js';
import { idle } from '../helpers/actors.js';
import { probeServer, type TerminateRecord } from '../helpers/probe.js';

type Rt = ReturnType<typeof createTestRuntime>;

function exitReasonOf(rt: Rt, pid: Pid): ExitReason {
  return rt.trace.exits().find((e) => Pid.equals(e.pid, pid))?.reason;
}

/** Tracks how a promise settled, without ever leaving a rejection unhandled. */
function track<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const s: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => Object.assign(s, { state: 'resolved', value }),
    (error: unknown) => Object.assign(s, { state: 'rejected', error }),
  );
  return s;
}

test('§1.12 rule 73: stop(P, R) returns ok once P terminated with that reason; terminate sees R', async (t) => {
  await using rt = createTestRuntime();
  const log: TerminateRecord[] = [];
  // probe: "stop(W,{shutdown,x}) -> ok"
  const w = rt.spawn(probeServer, { input: { log } });
  await rt.flush();
  t.is(await rt.stop(w, { shutdown: 'x' }), 'ok');
  t.false(rt.isAlive(w));
  t.deepEqual(exitReasonOf(rt, w), { shutdown: 'x' });
  t.deepEqual(log.map((l) => l.reason), [{ shutdown: 'x' }]);

  // The default reason is normal.
  const n = rt.spawn(probeServer, { input: { log } });
  await rt.flush();
  t.is(await rt.stop(n), 'ok');
  t.is(exitReasonOf(rt, n), 'normal');
  t.is(log[1]!.reason, 'normal');

  // A non-server process ends with the given reason too.
  const raw = rt.spawn(idle);
  t.is(await rt.stop(raw, 'shutdown'), 'ok');
  t.is(exitReasonOf(rt, raw), 'shutdown');
});

// OTP: if the server terminates with another reason R (say terminate/2 crashes), the caller of
// stop exits with R. xotp's stop only rejects with TimeoutError, so it resolves 'ok' and R is
// only visible through exited()/the trace. Pinned here; reported as a deviation.
test('§1.12 rule 73 (xotp deviation): when P ends with another reason R, stop still resolves ok; R is visible through exited() and the trace', async (t) => {
  await using rt = createTestRuntime();
  const failure = new Error('terminate failed');
  const p = rt.spawn(probeServer, { input: { terminateThrows: failure } });
  await rt.flush();
  const ended = rt.exited(p);
  t.is(await rt.stop(p, 'normal'), 'ok');
  t.is(await ended, failure);
  t.is(exitReasonOf(rt, p), failure);
});

test('§1.12 rule 74: stop of a dead pid, a never-existing pid or an unregistered name resolves noproc (OTP exits the caller with noproc; xotp never throws)', async (t) => {
  await using rt = createTestRuntime();
  const dead = rt.spawn(probeServer, { name: 'gone' });
  await rt.flush();
  await rt.stop(dead);
  // probe: "stop(dead pid) -> {'EXIT',noproc}; stop(unknown name) -> {'EXIT',noproc}"
  t.is(await rt.stop(dead), 'noproc');
  t.is(await rt.stop(dead, 'shutdown', { timeout: 100 }), 'noproc');
  t.is(await rt.stop('gone'), 'noproc', 'the name was freed with the process');
  t.is(await rt.stop('never-registered'), 'noproc');
  t.is(await rt.stop(new Pid('test', 12345)), 'noproc');
  t.is(await rt.stop(new Pid('other-node', 1)), 'noproc');
  // Elixir's "a nil name": no process.
  t.is(await rt.stop(undefined as unknown as string), 'noproc');
  t.is(rt.clock.pending, 0, 'no timer was left behind');
});

// OTP: gen_server:stop(self()) exits with calling_self. xotp's stop does not know who calls it:
// a server awaiting stop(self) from its own handler waits for its own queue, i.e. deadlocks
// until the stop's timeout (forever with the default 'infinity'). Pinned here; reported as a gap.
test('§1.12 rule 75 (xotp gap): stopping yourself gives no calling_self error; awaiting stop(self) in a handler deadlocks until the timeout', async (t) => {
  await using rt = createTestRuntime();
  const selfStopper = defineServer<null, undefined, 'stop-self', string>({
    init: () => ({ state: null }),
    handleCall: async (_req, _from, _state, ctx) => {
      try {
        return { reply: await ctx.runtime.stop(ctx.self, 'normal', { timeout: 1000 }) };
      } catch (e) {
        return { reply: `${(e as Error).name}@${ctx.runtime.clock.now()}` };
      }
    },
  });
  const p = rt.spawn(selfStopper);
  await rt.flush();
  const call = track(rt.call<string>(p, 'stop-self', { timeout: 'infinity' }));
  await rt.clock.advance(999);
  t.is(call.state, 'pending', 'stuck: the xotp.stop request waits behind the handler that awaits it');
  await rt.clock.advance(1);
  await rt.flush();
  t.is(call.state, 'resolved');
  t.is(call.value, 'TimeoutError@1000', 'OTP would raise calling_self at once');
  // After the handler returned, the queued stop request ran.
  t.false(rt.isAlive(p));
  t.is(exitReasonOf(rt, p), 'normal');
});

test('§1.12 rule 76: stop(slow, normal, 300) rejects with a timeout after 300 ms; the target is not killed and finishes terminate later', async (t) => {
  await using rt = createTestRuntime();
  const log: TerminateRecord[] = [];
  const slow = rt.spawn(probeServer, { input: { log, terminateMs: 2000 } });
  await rt.flush();

  const stop = track(rt.stop(slow, 'normal', { timeout: 300 }));
  await rt.clock.advance(299);
  t.is(stop.state, 'pending');
  await rt.clock.advance(1);
  // probe: "stop(slow, normal, 300) -> {'EXIT',timeout} after 299 ms, target alive right after=true"
  t.is(stop.state, 'rejected');
  t.true(stop.error instanceof TimeoutError);
  t.is((stop.error as TimeoutError).timeout, 300);
  t.is((stop.error as TimeoutError).code, 'timeout');
  t.is(rt.clock.now(), 300);
  t.true(rt.isAlive(slow));
  t.is(rt.info(slow)?.status, 'exiting');
  t.deepEqual(log.map((l) => [l.reason, l.at]), [['normal', 0]], 'terminate runs, once');

  // "alive 2 s later=false": terminate finished at 2000 ms and the process ended with normal.
  await rt.clock.advance(1699);
  t.true(rt.isAlive(slow), 'still in terminate at 1999 ms');
  await rt.clock.advance(1);
  await rt.flush();
  t.false(rt.isAlive(slow));
  t.is(exitReasonOf(rt, slow), 'normal', 'not killed');
  t.is(rt.trace.exits().length, 1);
});

test('§1.12 rule 77: call to a missing server rejects with NoProcessError (dead pid, unregistered name, never-existing pid)', async (t) => {
  await using rt = createTestRuntime();
  const dead = rt.spawn(probeServer, { name: 'svc' });
  t.is(await rt.call(dead, 'ping'), 'pong');
  await rt.stop(dead);
  const e1 = await t.throwsAsync(rt.call(dead, 'ping'), { instanceOf: NoProcessError });
  t.is(e1?.code, 'noproc');
  const e2 = await t.throwsAsync(rt.call('svc', 'ping'), { instanceOf: NoProcessError });
  t.is(e2?.target, 'svc');
  await t.throwsAsync(rt.call('nobody', 'ping'), { instanceOf: NoProcessError });
  await t.throwsAsync(rt.call(new Pid('test', 999), 'ping'), { instanceOf: NoProcessError });
  t.is(rt.stats().pendingCalls, 0);
});

test('§1.12 rule 77: call times out with TimeoutError after 5000 ms by default (or the given timeout); the server is unaffected', async (t) => {
  await using rt = createTestRuntime();
  const p = rt.spawn(probeServer);
  await rt.flush();
  const byDefault = track(rt.call(p, 'never'));
  const short = track(rt.call(p, 'never', { timeout: 100 }));
  await rt.clock.advance(100);
  t.is(short.state, 'rejected');
  t.true(short.error instanceof TimeoutError);
  t.is((short.error as TimeoutError).timeout, 100);
  await rt.clock.advance(4899);
  t.is(byDefault.state, 'pending', 'not at 4999 ms');
  await rt.clock.advance(1);
  t.is(byDefault.state, 'rejected', 'at 5000 ms');
  t.true(byDefault.error instanceof TimeoutError);
  t.is((byDefault.error as TimeoutError).timeout, 5000);
  t.true(rt.isAlive(p), 'a caller giving up does not hurt the server');
  t.is(await rt.call(p, 'ping'), 'pong');
  t.deepEqual(rt.stats().pendingCalls, 0);
  t.is(rt.stats().monitors, 0, "the call's internal monitors are gone");
});

test('§1.12 rule 77: a reply arriving after the timeout is dropped and counted as a late reply', async (t) => {
  await using rt = createTestRuntime();
  const p = rt.spawn(probeServer);
  await rt.flush();
  const call = track(rt.call(p, { replyAfter: 200, value: 'late' }, { timeout: 100 }));
  await rt.clock.advance(100);
  t.is(call.state, 'rejected');
  t.true(call.error instanceof TimeoutError);
  t.is(rt.stats().lateReplies, 0);
  await rt.clock.advance(100);
  t.is(call.state, 'rejected', 'the late reply does not resurrect the call');
  t.is(rt.stats().lateReplies, 1);
  t.is(rt.trace.of('call.lateReply').length, 1);
  // runtime.reply on a settled call returns false.
  t.false(rt.reply({ ref: rt.trace.of('call.lateReply')[0]!.ref }, 'again'));
  t.is(rt.stats().lateReplies, 2);
});

test('§1.12 rule 77: call rejects with ProcessExitError (carrying the reason) when the server exits before replying', async (t) => {
  await using rt = createTestRuntime();
  const p = rt.spawn(probeServer);
  await rt.flush();
  const crash = track(rt.call(p, 'never', { timeout: 'infinity' }));
  rt.exit(p, 'boom');
  await rt.flush();
  t.is(crash.state, 'rejected');
  t.true(crash.error instanceof ProcessExitError);
  t.is((crash.error as ProcessExitError).reason, 'boom');
  t.true(Pid.equals((crash.error as ProcessExitError).pid as Pid, p));

  // A normal exit without replying is also an exit for the caller (OTP: {normal, {gen_server, call, ...}}).
  const q = rt.spawn(probeServer);
  await rt.flush();
  const pending = track(rt.call(q, 'never'));
  rt.cast(q, { stop: 'normal' });
  await rt.flush();
  t.true(pending.error instanceof ProcessExitError);
  t.is((pending.error as ProcessExitError).reason, 'normal');

  // A reply sent before stopping is delivered.
  const r = rt.spawn(probeServer);
  t.is(await rt.call(r, { stopWith: 'shutdown' }), 'ok');
  await rt.flush();
  t.is(exitReasonOf(rt, r), 'shutdown');
  t.is(rt.clock.pending, 0);
});

test('§1.12 rule 77: calls pending on a server that exits fail in the order they were made; one answered or timed out meanwhile is not failed again', async (t) => {
  await using rt = createTestRuntime();
  const p = rt.spawn(probeServer);
  await rt.flush();
  const order: number[] = [];
  const calls = [0, 1, 2, 3, 4].map((i) =>
    rt.call(p, 'never', { timeout: i === 2 ? 100 : 'infinity' }).then(
      () => order.push(-i),
      (err: unknown) => order.push(err instanceof ProcessExitError ? i : 100 + i),
    ),
  );
  rt.clock.advance(100); // the third times out first (TimeoutError: 100 + 2)
  await rt.flush();
  rt.exit(p, 'boom');
  await Promise.all(calls);
  t.deepEqual(order, [102, 0, 1, 3, 4]);
  t.is(rt.clock.pending, 0);
});

test('§1.12 rule 77: call rejects with AbortError when its signal aborts (or was already aborted)', async (t) => {
  await using rt = createTestRuntime();
  const p = rt.spawn(probeServer);
  await rt.flush();
  const ac = new AbortController();
  const call = track(rt.call(p, 'never', { signal: ac.signal }));
  await rt.clock.advance(10);
  t.is(call.state, 'pending');
  ac.abort('changed my mind');
  await rt.flush();
  t.is(call.state, 'rejected');
  t.true(call.error instanceof AbortError);
  t.is((call.error as AbortError).cause, 'changed my mind');
  t.is(rt.clock.now(), 10, 'no waiting for the timeout');

  const pre = await t.throwsAsync(rt.call(p, 'ping', { signal: AbortSignal.abort('early') }), { instanceOf: AbortError });
  t.is(pre?.cause, 'early');
  t.deepEqual(rt.stats().pendingCalls, 0);
  t.is(rt.clock.pending, 0, 'the timeout timer was cleared');
  t.true(rt.isAlive(p));
});

test('§1.12 rule 77: bad call options reject with InvalidOptionError naming the key', async (t) => {
  await using rt = createTestRuntime();
  const p = rt.spawn(probeServer);
  await rt.flush();
  const e1 = await t.throwsAsync(rt.call(p, 'ping', { timeout: -1 }), { instanceOf: InvalidOptionError });
  t.is(e1?.key, 'call.timeout');
  const e2 = await t.throwsAsync(rt.call(p, 'ping', { signal: {} as AbortSignal }), { instanceOf: InvalidOptionError });
  t.is(e2?.key, 'call.signal');
  const e3 = await t.throwsAsync(rt.call(p, 'ping', { timout: 5 } as never), { instanceOf: InvalidOptionError });
  t.is(e3?.key, 'call.timout');
  const e4 = await t.throwsAsync(rt.stop(p, 'normal', { timeout: 1.5 }), { instanceOf: InvalidOptionError });
  t.is(e4?.key, 'stop.timeout');
  t.true(rt.isAlive(p), 'a rejected stop did nothing');
});
