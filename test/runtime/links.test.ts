/**
 * otp-semantics §1.1 rules 7 and 8: links, and the link half of the §5.3 probe
 * "CHECK monitors_links".
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { NoProcessError, Pid, defineServer, type ExitReason, type Target } from '../../src/index.js';
import { idle, recorder } from '../helpers/actors.js';

type Rt = ReturnType<typeof createTestRuntime>;

function exitReasonOf(rt: Rt, pid: Pid): ExitReason {
  return rt.trace.exits().find((e) => Pid.equals(e.pid, pid))?.reason;
}

function linksOf(rt: Rt, pid: Pid): string[] {
  return (rt.info(pid)?.links ?? []).map(String);
}

test('§1.1 rule 7: a link is bidirectional (either end dying signals the other)', async (t) => {
  await using rt = createTestRuntime();
  const a = rt.spawn(idle);
  const b = rt.spawn(idle);
  rt.link(a, b);
  t.deepEqual(linksOf(rt, a), [String(b)]);
  t.deepEqual(linksOf(rt, b), [String(a)]);
  rt.exit(a, 'boom');
  await rt.flush();
  t.is(exitReasonOf(rt, b), 'boom', 'b died when a (the caller of link) died');

  const c = rt.spawn(idle);
  const d = rt.spawn(idle);
  rt.link(c, d);
  rt.exit(d, 'bang');
  await rt.flush();
  t.is(exitReasonOf(rt, c), 'bang', 'c (the caller of link) died when d died');
});

test('§1.1 rule 7: a link is idempotent: at most one link between two processes, one signal on exit', async (t) => {
  await using rt = createTestRuntime();
  const a = rt.spawn(idle);
  const trapped: unknown[] = [];
  const b = rt.spawn(recorder, { input: trapped, trapExit: true });
  rt.link(a, b);
  rt.link(a, b);
  rt.link(b, a);
  t.deepEqual(linksOf(rt, a), [String(b)]);
  t.deepEqual(linksOf(rt, b), [String(a)]);
  t.is(rt.trace.of('link').length, 1);
  rt.exit(a, 'boom');
  await rt.flush();
  t.deepEqual(trapped, [{ type: 'xotp.exit', from: a, reason: 'boom' }], 'exactly one exit signal');
});

test('§1.1 rule 7: linking a process to itself does nothing', async (t) => {
  await using rt = createTestRuntime();
  const a = rt.spawn(idle);
  t.notThrows(() => rt.link(a, a));
  t.deepEqual(linksOf(rt, a), []);
  t.deepEqual(rt.trace.of('link'), []);
  // Also through the spawn option and a server's own ctx.link(self).
  const self = rt.spawn(
    defineServer<null>({
      init: (_args, ctx) => {
        ctx.link(ctx.self);
        return { state: null };
      },
    }),
  );
  await rt.flush();
  t.true(rt.isAlive(self));
  t.deepEqual(linksOf(rt, self), []);
});

test('§1.1 rule 7: unlink removes the link both ways; unlink of a missing link or a dead process does nothing and never throws', async (t) => {
  await using rt = createTestRuntime();
  const a = rt.spawn(idle);
  const b = rt.spawn(idle);
  const c = rt.spawn(idle);
  rt.link(a, b);
  rt.unlink(b, a); // the other order than link: still the same link
  t.deepEqual(linksOf(rt, a), []);
  t.deepEqual(linksOf(rt, b), []);
  t.is(rt.trace.of('unlink').length, 1);
  rt.exit(a, 'boom');
  await rt.flush();
  t.true(rt.isAlive(b), 'no signal after unlink');

  // No link between b and c: nothing happens. (OTP returns true; xotp's unlink returns void.)
  t.notThrows(() => rt.unlink(b, c));
  // A dead process, a never-existing pid, an unknown name: nothing happens, no throw.
  t.notThrows(() => rt.unlink(b, a));
  t.notThrows(() => rt.unlink(a, b));
  t.notThrows(() => rt.unlink(b, new Pid('test', 999)));
  t.notThrows(() => rt.unlink(b, 'no-such-name'));
  t.is(rt.trace.of('unlink').length, 1);
  t.true(rt.isAlive(b));
  t.true(rt.isAlive(c));
});

test('§1.1 rule 8: link(DeadPid) by a trapping caller returns and then delivers {EXIT, DeadPid, noproc}', async (t) => {
  await using rt = createTestRuntime();
  const dead = rt.spawn(idle);
  rt.exit(dead, 'kill');
  await rt.flush();
  const trapped: unknown[] = [];
  const caller = rt.spawn(recorder, { input: trapped, trapExit: true });

  // probe: "link(dead) while trapping -> true then {exit_msg,noproc}"
  t.notThrows(() => rt.link(caller, dead));
  const neverExisted = new Pid('test', 4242);
  t.notThrows(() => rt.link(caller, neverExisted));
  // A pid that went through JSON (a plain object) works the same way.
  const jsonDead = JSON.parse(JSON.stringify(dead)) as { node: string; id: number };
  t.notThrows(() => rt.link(caller, jsonDead));
  await rt.flush();

  t.deepEqual(trapped, [
    { type: 'xotp.exit', from: dead, reason: 'noproc' },
    { type: 'xotp.exit', from: neverExisted, reason: 'noproc' },
    { type: 'xotp.exit', from: dead, reason: 'noproc' },
  ]);
  t.true((trapped[2] as { from: unknown }).from instanceof Pid, 'from is a Pid even when a JSON pid was given');
  t.true(rt.isAlive(caller), 'the noproc EXIT does not kill the trapping caller');
  t.deepEqual(linksOf(rt, caller), [], 'no link was made');
});

test('§1.1 rule 8: link(DeadPid) by a non-trapping caller raises a catchable noproc error and the caller carries on', async (t) => {
  await using rt = createTestRuntime();
  const dead = rt.spawn(idle);
  rt.exit(dead, 'boom');
  await rt.flush();

  // From outside: rt.link(caller, dead) throws NoProcessError.
  const caller = rt.spawn(idle);
  const err = t.throws(() => rt.link(caller, dead), { instanceOf: NoProcessError });
  t.is(err?.code, 'noproc');
  t.is(err?.target, dead);
  t.true(rt.isAlive(caller));
  t.deepEqual(linksOf(rt, caller), []);

  // From inside the caller (OTP probe: "link(dead) not trapping -> returns {'EXIT',{noproc,...}},
  // process ends with normal"): a server catches the error and then stops normally.
  const linker = defineServer<null, undefined, { link: Target }, string>({
    init: () => ({ state: null }),
    handleCall: (req, _from, _state, ctx) => {
      try {
        ctx.link(req.link);
        return { reply: 'linked' };
      } catch (e) {
        return { stop: 'normal', reply: (e as NoProcessError).code };
      }
    },
  });
  const server = rt.spawn(linker);
  t.is(await rt.call(server, { link: dead }), 'noproc');
  await rt.flush();
  t.is(exitReasonOf(rt, server), 'normal');
});
