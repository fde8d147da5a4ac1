/**
 * How an xstate actor's end maps to an OTP exit reason: done → normal; error (a fromPromise
 * rejection, a throwing action) → the error itself; runtime.stop → the given reason;
 * exit(kill) → killed. Also what start() reports for each.
 */
import test from 'ava';
import { fromCallback, fromPromise } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pid, StartError, defineServer, type ExitReason } from '../../src/index.js';
import { idle, finisher, rejecting } from '../helpers/actors.js';

type Rt = ReturnType<typeof createTestRuntime>;

function exitReasonOf(rt: Rt, pid: Pid): ExitReason {
  return rt.trace.exits().find((e) => Pid.equals(e.pid, pid))?.reason;
}

test('exit reason: a machine reaching its final state (status done) exits normal', async (t) => {
  await using rt = createTestRuntime();
  const m = rt.spawn(finisher);
  const ended = rt.exited(m);
  t.is(rt.info(m)?.snapshotStatus, 'active');
  rt.send(m, { type: 'finish' });
  t.is(await ended, 'normal');
  // A resolving promise actor is done too.
  const resolved = rt.spawn(fromPromise(async () => 42));
  t.is(await rt.exited(resolved), 'normal');
  t.deepEqual(rt.logs.at('error'), [], 'a normal exit is not crash-reported');
});

test('exit reason: an actor error (fromPromise rejection, throwing action) is the error itself, and is crash-reported', async (t) => {
  await using rt = createTestRuntime();
  const error = new Error('rejected on purpose');
  const p = rt.spawn(rejecting, { input: error });
  t.is(await rt.exited(p), error, 'the very same Error object');

  const m = rt.spawn(finisher);
  const ended = rt.exited(m);
  rt.send(m, { type: 'crash' });
  const reason = await ended;
  t.true(reason instanceof Error);
  t.is((reason as Error).message, 'crashed_on_demand');

  const thrower = rt.spawn(
    fromCallback(() => {
      throw new Error('setup failed');
    }),
  );
  const setupReason = exitReasonOf(rt, thrower) ?? (await rt.exited(thrower));
  t.is((setupReason as Error).message, 'setup failed');

  t.deepEqual(
    rt.logs.at('error').map((r) => r.message.includes('crashed')),
    [true, true, true],
    'one crash report per crash',
  );
});

test('exit reason: runtime.stop gives the reason it was given; exit(kill) gives killed', async (t) => {
  await using rt = createTestRuntime();
  const reasons: ExitReason[] = ['normal', 'shutdown', { shutdown: 'maintenance' }, 'custom', new Error('stop with an error')];
  for (const reason of reasons) {
    const p = rt.spawn(idle);
    const ended = rt.exited(p);
    t.is(await rt.stop(p, reason), 'ok');
    t.is(await ended, reason);
  }
  const k = rt.spawn(finisher);
  const killed = rt.exited(k);
  rt.exit(k, 'kill');
  t.is(await killed, 'killed');
  t.deepEqual(rt.logs.at('error'), [], 'a process stopped or killed by the runtime is not crash-reported');
  t.is(await rt.exited(k), 'noproc', 'exited() of a process that is gone');
});

test('start(): resolves the pid, "ignore", or rejects with StartError carrying the reason', async (t) => {
  await using rt = createTestRuntime();
  const ok = await rt.start(finisher);
  t.true(ok instanceof Pid);
  t.true(rt.isAlive(ok as Pid));

  const server = (init: () => unknown) => defineServer<null>({ init: init as never });
  t.is(await rt.start(server(() => ({ ignore: true }))), 'ignore');
  const refused = await t.throwsAsync(rt.start(server(() => ({ stop: 'no_config' }))), { instanceOf: StartError });
  t.is(refused?.reason, 'no_config');
  const boom = new Error('init threw');
  const threw = await t.throwsAsync(
    rt.start(
      server(() => {
        throw boom;
      }),
    ),
    { instanceOf: StartError },
  );
  t.is(threw?.reason, boom);
  t.deepEqual(
    rt.trace.exits().map((e) => e.reason),
    ['normal', 'no_config', boom],
    'ignore exits normal; a refused or failed init exits with its reason',
  );
});
