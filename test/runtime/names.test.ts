/**
 * Local names: freed when the process exits (however it exits), kept while it is still exiting,
 * and AlreadyRegisteredError carrying the owner.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { AlreadyRegisteredError, NoProcessError, Pid, type ExitReason } from '../../src/index.js';
import { idle, finisher } from '../helpers/actors.js';
import { probeServer } from '../helpers/probe.js';

test('names are freed on exit, whatever the reason (kill, crash, normal end, stop), and can be taken again', async (t) => {
  await using rt = createTestRuntime();
  const endings: Array<[string, (pid: Pid) => unknown]> = [
    ['kill', (p) => rt.exit(p, 'kill')],
    ['exit boom', (p) => rt.exit(p, new Error('boom'))],
    ['finish (normal)', (p) => rt.send(p, { type: 'finish' })],
    ['crash in an action', (p) => rt.send(p, { type: 'crash' })],
    ['stop', (p) => rt.stop(p, 'shutdown')],
  ];
  for (const [how, end] of endings) {
    const pid = rt.spawn(finisher, { name: 'svc' });
    t.true(Pid.equals(rt.whereis('svc'), pid), how);
    t.deepEqual(rt.registered(), ['svc']);
    end(pid);
    await rt.flush();
    t.false(rt.isAlive(pid), how);
    t.is(rt.whereis('svc'), undefined, `name freed after ${how}`);
    t.deepEqual(rt.registered(), []);
    t.false(rt.isAlive('svc'));
  }
  t.deepEqual(
    rt.trace.of('name.unregistered').map((e) => e.name),
    ['svc', 'svc', 'svc', 'svc', 'svc'],
  );
  t.is(rt.stats().names, 0);

  // A name given with register() is freed the same way.
  const p = rt.spawn(idle);
  rt.register('late', p);
  t.true(Pid.equals(rt.whereis('late'), p));
  rt.exit(p, 'kill');
  await rt.flush();
  t.is(rt.whereis('late'), undefined);
  // unregister: true once, then false.
  const q = rt.spawn(idle, { name: 'q' });
  t.true(rt.unregister('q'));
  t.false(rt.unregister('q'));
  t.is(rt.info(q)?.name, undefined);
  t.throws(() => rt.send('q', { type: 'x' }), { instanceOf: NoProcessError }, 'send to an unregistered name throws');
});

test('a name stays registered while its process is still exiting (slow terminate), and is freed when it is gone', async (t) => {
  await using rt = createTestRuntime();
  const slow = rt.spawn(probeServer, { name: 'slow', input: { terminateMs: 500 } });
  await rt.flush();
  const stopped = rt.stop('slow');
  await rt.clock.advance(499);
  t.true(Pid.equals(rt.whereis('slow'), slow));
  t.is(rt.info('slow')?.status, 'exiting');
  t.throws(() => rt.spawn(idle, { name: 'slow' }), { instanceOf: AlreadyRegisteredError });
  await rt.clock.advance(1);
  t.is(await stopped, 'ok');
  t.is(rt.whereis('slow'), undefined);
  t.notThrows(() => rt.spawn(idle, { name: 'slow' }));
});

test('AlreadyRegisteredError carries the owner: spawn/start with a taken name, register of a taken name, a second name for one process', async (t) => {
  await using rt = createTestRuntime();
  const owner = rt.spawn(idle, { name: 'svc' });
  const before = rt.processes().length;

  const e1 = t.throws(() => rt.spawn(idle, { name: 'svc' }), { instanceOf: AlreadyRegisteredError });
  t.is(e1?.code, 'already_registered');
  t.is(e1?.registeredName, 'svc');
  t.true(Pid.equals(e1?.owner as Pid, owner));
  t.regex(e1!.message, /svc/);
  t.regex(e1!.message, /<test\.1>|"id":1/);
  t.is(rt.processes().length, before, 'nothing was spawned');
  t.is(rt.trace.of('process.spawned').length, 1);

  const e2 = await t.throwsAsync(rt.start(probeServer, { name: 'svc' }), { instanceOf: AlreadyRegisteredError });
  t.true(Pid.equals(e2?.owner as Pid, owner));

  const other = rt.spawn(idle);
  const e3 = t.throws(() => rt.register('svc', other), { instanceOf: AlreadyRegisteredError });
  t.true(Pid.equals(e3?.owner as Pid, owner));
  t.is(rt.info(other)?.name, undefined);

  // A process has at most one name.
  const e4 = t.throws(() => rt.register('second', owner), { instanceOf: AlreadyRegisteredError });
  t.true(Pid.equals(e4?.owner as Pid, owner));
  t.regex(e4!.message, /already registered as 'svc'/);
  t.is(rt.whereis('second'), undefined);

  // Registering a dead process is a NoProcessError, not a name clash.
  rt.exit(other, 'kill');
  await rt.flush();
  t.throws(() => rt.register('free', other), { instanceOf: NoProcessError });
  t.is(rt.whereis('free'), undefined);
  const reasons: ExitReason[] = rt.trace.exits().map((e) => e.reason);
  t.deepEqual(reasons, ['killed']);
});
