/**
 * otp-semantics §1.2 rules 11–13: monitors, and the monitor half of the §5.3 probe
 * "CHECK monitors_links".
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pid, defineServer, type DownMessage, type ExitReason } from '../../src/index.js';
import { idle, recorder, inboxServer } from '../helpers/actors.js';

type Rt = ReturnType<typeof createTestRuntime>;

function exitReasonOf(rt: Rt, pid: Pid): ExitReason {
  return rt.trace.exits().find((e) => Pid.equals(e.pid, pid))?.reason;
}

test('§1.2 rule 11: monitor is unidirectional: the watcher dying does not affect the target, and drops the monitor', async (t) => {
  await using rt = createTestRuntime();
  const targetInbox: unknown[] = [];
  const target = rt.spawn(recorder, { input: targetInbox, trapExit: true });
  const watcher = rt.spawn(idle);
  rt.monitor(target, watcher);
  t.is(rt.info(target)?.monitoredBy, 1);
  t.deepEqual(rt.info(watcher)?.links, [], 'a monitor is not a link');

  rt.exit(watcher, 'boom');
  await rt.flush();
  t.true(rt.isAlive(target));
  t.deepEqual(targetInbox, [], 'the target hears nothing about its watcher');
  t.is(rt.info(target)?.monitoredBy, 0, "the dead watcher's monitor is gone");
  t.is(rt.stats().monitors, 0);

  // And the target exiting later delivers nothing to anybody.
  rt.exit(target, 'kill');
  await rt.flush();
  t.deepEqual(rt.trace.of('down'), []);
});

test('§1.2 rule 11: each monitor call returns a fresh ref; several monitors on one target give one DOWN each', async (t) => {
  await using rt = createTestRuntime();
  const target = rt.spawn(idle);
  const watcher = rt.spawn(inboxServer);
  const ref1 = rt.monitor(target, watcher);
  const ref2 = rt.monitor(target, watcher);
  const fnDowns: DownMessage[] = [];
  const ref3 = rt.monitor(target, (d) => fnDowns.push(d));
  const ref4 = rt.monitor(target, (d) => fnDowns.push(d));
  t.is(new Set([ref1, ref2, ref3, ref4]).size, 4, 'four distinct refs');
  t.is(rt.info(target)?.monitoredBy, 4);

  rt.exit(target, 'boom');
  await rt.flush();
  t.deepEqual(await rt.call(watcher, 'inbox'), [
    { type: 'xotp.down', ref: ref1, pid: target, target, reason: 'boom' },
    { type: 'xotp.down', ref: ref2, pid: target, target, reason: 'boom' },
  ]);
  t.deepEqual(fnDowns, [
    { type: 'xotp.down', ref: ref3, pid: target, target, reason: 'boom' },
    { type: 'xotp.down', ref: ref4, pid: target, target, reason: 'boom' },
  ]);
  t.is(rt.trace.of('down').length, 4);
  t.is(rt.stats().monitors, 0, 'fired monitors are gone');

  // A ref is never reused for a later monitor.
  const later = rt.spawn(idle);
  const ref5 = rt.monitor(later, watcher);
  t.false([ref1, ref2, ref3, ref4].includes(ref5));
  rt.demonitor(ref5);
});

test('§1.2 rule 11: a monitor by name reports the name given and the pid it resolved to', async (t) => {
  await using rt = createTestRuntime();
  const target = rt.spawn(idle, { name: 'svc' });
  const downs: DownMessage[] = [];
  const ref = rt.monitor('svc', (d) => downs.push(d));
  rt.exit(target, 'boom');
  await rt.flush();
  t.deepEqual(downs, [{ type: 'xotp.down', ref, pid: target, target: 'svc', reason: 'boom' }]);
});

test('§1.2 rule 12: monitoring a dead or never-existing process delivers DOWN noproc at once', async (t) => {
  await using rt = createTestRuntime();
  const dead = rt.spawn(idle);
  rt.exit(dead, 'boom');
  await rt.flush();
  const neverExisted = new Pid('test', 777);
  const otherNode = new Pid('elsewhere', 1);

  // A process watcher gets the DOWN before monitor() returns (no clock, no flush needed).
  const inbox: unknown[] = [];
  const watcher = rt.spawn(recorder, { input: inbox });
  const r1 = rt.monitor(dead, watcher);
  t.deepEqual(inbox, [{ type: 'xotp.down', ref: r1, pid: dead, target: dead, reason: 'noproc' }]);
  const r2 = rt.monitor(neverExisted, watcher);
  const r3 = rt.monitor(otherNode, watcher);
  const r4 = rt.monitor('nobody', watcher);
  const r5 = rt.monitor(JSON.parse(JSON.stringify(dead)) as { node: string; id: number }, watcher);
  t.deepEqual(inbox.slice(1), [
    { type: 'xotp.down', ref: r2, pid: neverExisted, target: neverExisted, reason: 'noproc' },
    { type: 'xotp.down', ref: r3, pid: otherNode, target: otherNode, reason: 'noproc' },
    // An unregistered name: no pid to report.
    { type: 'xotp.down', ref: r4, pid: undefined, target: 'nobody', reason: 'noproc' },
    { type: 'xotp.down', ref: r5, pid: dead, target: dead, reason: 'noproc' },
  ]);
  t.is(new Set([r1, r2, r3, r4, r5]).size, 5);

  // A callback watcher learns of it right after monitor() has returned its ref (a microtask),
  // without any clock movement.
  const downs: DownMessage[] = [];
  const ref = rt.monitor(dead, (d) => downs.push(d));
  t.deepEqual(downs, [], 'not re-entrantly inside monitor()');
  await Promise.resolve();
  t.deepEqual(downs, [{ type: 'xotp.down', ref, pid: dead, target: dead, reason: 'noproc' }]);
  t.is(rt.clock.now(), 0);
  t.is(rt.stats().monitors, 0, 'a noproc monitor holds nothing');
  t.false(rt.demonitor(ref), 'it already fired');
});

test('§1.2 rule 13: demonitor removes the monitor (no DOWN later) and tells whether it was still active', async (t) => {
  await using rt = createTestRuntime();
  const target = rt.spawn(idle);
  const watcher = rt.spawn(inboxServer);
  const downs: DownMessage[] = [];
  const procRef = rt.monitor(target, watcher);
  const fnRef = rt.monitor(target, (d) => downs.push(d));
  const keptRef = rt.monitor(target, (d) => downs.push(d));
  t.is(rt.info(target)?.monitoredBy, 3);

  t.true(rt.demonitor(procRef));
  t.true(rt.demonitor(fnRef));
  t.false(rt.demonitor(fnRef), 'a second demonitor finds nothing');
  t.false(rt.demonitor('#Ref<test.9999>'), 'an unknown ref finds nothing');
  t.is(rt.info(target)?.monitoredBy, 1);

  rt.exit(target, 'boom');
  await rt.flush();
  t.deepEqual(await rt.call(watcher, 'inbox'), [], 'no DOWN for a removed monitor');
  t.deepEqual(downs, [{ type: 'xotp.down', ref: keptRef, pid: target, target, reason: 'boom' }]);
  t.false(rt.demonitor(keptRef), 'demonitor after the DOWN fired');
});

test('§1.2 rule 13: a monitor never makes the monitoring process exit', async (t) => {
  await using rt = createTestRuntime();
  const target = rt.spawn(idle);
  const watcher = rt.spawn(inboxServer); // not trapping exits
  const ref = rt.monitor(target, watcher);
  const reason = new Error('crash');
  rt.exit(target, reason);
  await rt.flush();
  t.true(rt.isAlive(watcher));
  t.false(rt.info(watcher)!.trapExit);
  t.deepEqual(await rt.call(watcher, 'inbox'), [{ type: 'xotp.down', ref, pid: target, target, reason }]);
  t.is(exitReasonOf(rt, target), reason);
});

// Rule 13's [flush] clause: "demonitor(Ref, [flush]) removes ... any DOWN message for it already
// in the mailbox". A server that is busy (an awaiting handler) queues incoming events; a DOWN that
// arrived meanwhile waits there, and ctx.demonitor(ref, { flush: true }) drops it.
for (const flush of [true, false]) {
  test(`§1.2 rule 13 (flush clause): demonitor${flush ? ' with flush drops' : ' without flush keeps'} a DOWN already queued for a busy server`, async (t) => {
    await using rt = createTestRuntime();
    const target = rt.spawn(idle);
    const seen: unknown[] = [];
    let demonitorResult: boolean | undefined;
    const watcher = defineServer<{ ref: string | undefined }, undefined, never, never, 'watch' | 'busy'>({
      init: () => ({ state: { ref: undefined } }),
      handleCast: async (msg, state, ctx) => {
        if (msg === 'watch') return { state: { ref: ctx.monitor(target) } };
        // Busy for 100 ms of simulated time, then demonitor.
        await new Promise<void>((resolve) => ctx.runtime.clock.setTimeout(() => resolve(), 100));
        demonitorResult = ctx.demonitor(state.ref!, { flush });
        return undefined;
      },
      handleInfo: (msg) => {
        seen.push(msg);
      },
    });
    const w = rt.spawn(watcher);
    rt.cast(w, 'watch');
    await rt.flush();
    rt.cast(w, 'busy');
    await rt.clock.advance(10); // the handler is now awaiting its 100 ms timer
    rt.exit(target, 'boom'); // the DOWN lands in the busy server's queue
    await rt.clock.advance(100);
    await rt.flush();
    t.false(demonitorResult, 'the monitor had already fired');
    t.deepEqual(
      seen.map((m) => (m as DownMessage).type),
      flush ? [] : ['xotp.down'],
    );
  });
}
