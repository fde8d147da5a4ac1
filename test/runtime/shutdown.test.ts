/**
 * runtime.shutdown: stops top-level processes one at a time in reverse start order with reason
 * shutdown, takes linked subtrees and unlinked stragglers down, kills what will not stop in
 * time, and is idempotent.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pid, RuntimeStoppedError, type ExitReason } from '../../src/index.js';
import { idle } from '../helpers/actors.js';
import { probeServer, type TerminateRecord } from '../helpers/probe.js';

test('runtime.shutdown stops processes in reverse start order, one at a time, with reason shutdown', async (t) => {
  await using rt = createTestRuntime();
  const log: TerminateRecord[] = [];
  const a = rt.spawn(probeServer, { name: 'a', input: { log, terminateMs: 100 } });
  const b = rt.spawn(idle, { name: 'b' });
  const c = rt.spawn(probeServer, { name: 'c', input: { log, terminateMs: 100 } });
  const d = rt.spawn(probeServer, { name: 'd', input: { log, terminateMs: 100 } });
  await rt.flush();

  let done = false;
  const shutdown = rt.shutdown().then(() => (done = true));
  await rt.clock.advance(299);
  t.false(done);
  await rt.clock.advance(1);
  await shutdown;

  t.deepEqual(
    rt.trace.exits().map((e) => [String(e.pid), e.reason]),
    [d, c, b, a].map((p) => [String(p), 'shutdown']),
  );
  // Sequential: each terminate starts when the previous process is gone.
  t.deepEqual(
    log.map((l) => [String(l.pid), l.reason, l.at]),
    [
      [String(d), 'shutdown', 0],
      [String(c), 'shutdown', 100],
      [String(a), 'shutdown', 200],
    ],
  );
  t.deepEqual(rt.processes(), []);
  t.is(rt.state, 'stopped');
});

test('runtime.shutdown is idempotent: the same promise, one runtime.shutdown event, and the runtime refuses new work afterwards', async (t) => {
  await using rt = createTestRuntime();
  const shutdownEvents: unknown[] = [];
  rt.events.on('runtime.shutdown', (e) => shutdownEvents.push(e));
  const p = rt.spawn(idle);
  const first = rt.shutdown();
  const second = rt.shutdown();
  t.is(first, second);
  t.is(rt.state, 'stopping');
  await first;
  t.is(rt.shutdown(), first, 'also after it finished');
  await rt.shutdown();
  t.is(rt.state, 'stopped');
  t.deepEqual(shutdownEvents, [{ name: 'test' }]);
  t.false(rt.isAlive(p));
  t.throws(() => rt.spawn(idle), { instanceOf: RuntimeStoppedError });
  await t.throwsAsync(rt.start(idle), { instanceOf: RuntimeStoppedError });
  // Stopping anything after shutdown is still a no-op, not an error (seed errors 6–11).
  t.is(await rt.stop(p), 'noproc');
  t.false(rt.exit(p, 'kill'));
  // (Disposal at the end of the test shuts down once more: still fine.)
});

test('runtime.shutdown takes linked subtrees down with their top-level process and stops unlinked stragglers too', async (t) => {
  await using rt = createTestRuntime();
  const top = rt.spawn(idle, { name: 'top' });
  const linkedChild = rt.spawn(idle, { parent: top, link: top, id: 'linked' });
  const placedChild = rt.spawn(idle, { parent: top, id: 'placed' }); // placed under, not linked
  const second = rt.spawn(idle, { name: 'second' });
  await rt.shutdown();
  const reasons = new Map(rt.trace.exits().map((e) => [String(e.pid), e.reason as ExitReason]));
  t.deepEqual(
    rt.trace.exits().map((e) => String(e.pid)),
    [second, top, linkedChild, placedChild].map(String),
  );
  t.is(reasons.get(String(linkedChild)), 'shutdown', 'through the link');
  t.is(reasons.get(String(placedChild)), 'shutdown', 'as a straggler');
  t.deepEqual(rt.processes(), []);
});

test('runtime.shutdown kills a process that has not stopped within the timeout', async (t) => {
  await using rt = createTestRuntime();
  const log: TerminateRecord[] = [];
  const stubborn = rt.spawn(probeServer, { input: { log, terminateMs: 10_000 } });
  const polite = rt.spawn(probeServer, { input: { log } });
  await rt.flush();
  let done = false;
  const shutdown = rt.shutdown({ timeout: 1000 }).then(() => (done = true));
  await rt.clock.advance(999);
  t.false(done);
  t.true(rt.isAlive(stubborn));
  await rt.clock.advance(1);
  await shutdown;
  const byPid = new Map(rt.trace.exits().map((e) => [String(e.pid), e]));
  t.is(byPid.get(String(polite))?.reason, 'shutdown');
  t.is(byPid.get(String(stubborn))?.reason, 'killed');
  t.deepEqual(
    rt.trace.entries.filter((e) => e.event === 'process.exited').map((e) => e.t),
    [0, 1000],
  );
  t.true(Pid.equals(log[0]!.pid, polite), 'reverse start order: polite first');
  // The killed server's abandoned terminate timer still has to run out before disposal.
  await rt.clock.advance(9000);
  t.is(rt.clock.pending, 0);
});
