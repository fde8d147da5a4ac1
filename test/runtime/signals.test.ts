/**
 * otp-semantics §1.1 rules 1–6, 9 and 10: exit signals and trap_exit, plus the §5.3 probe
 * "CHECK signals" of real OTP 25.
 *
 * Raw processes (`idle`, `recorder`) are used where OTP's probe used plain `spawn`ed processes.
 * A trapping *server* is avoided as a plain signal target: as in gen_server, a trapped exit
 * signal from its parent (the runtime root for top-level servers, which is also `rt.exit`'s
 * default sender) makes it terminate instead of reaching `handleInfo`.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { fromCallback } from 'xstate';
import { InvalidOptionError, Pid, Registry, isCleanExit, registry, type DownMessage, type ExitMessage, type ExitReason } from '../../src/index.js';
import { idle, recorder, finisher, inboxServer } from '../helpers/actors.js';
import { probeServer, type TerminateRecord } from '../helpers/probe.js';

type Rt = ReturnType<typeof createTestRuntime>;

/** The exit reason the trace recorded for `pid` (`undefined` if it has not exited). */
function exitReasonOf(rt: Rt, pid: Pid): ExitReason {
  return rt.trace.exits().find((e) => Pid.equals(e.pid, pid))?.reason;
}

function hasExited(rt: Rt, pid: Pid): boolean {
  return rt.trace.exits().some((e) => Pid.equals(e.pid, pid));
}

test('§1.1 rule 1: when P terminates with R, every linked process gets an exit signal R and every monitor gets DOWN R', async (t) => {
  await using rt = createTestRuntime();
  const p = rt.spawn(idle);
  const trapped: unknown[] = [];
  const trapping = rt.spawn(recorder, { input: trapped, trapExit: true, link: p });
  const plain = rt.spawn(idle, { link: p });
  const watcher = rt.spawn(inboxServer);
  const procRef = rt.monitor(p, watcher);
  const downs: DownMessage[] = [];
  const fnRef = rt.monitor(p, (down) => downs.push(down));

  const reason = new Error('boom');
  t.true(rt.exit(p, reason));
  await rt.flush();

  t.is(exitReasonOf(rt, p), reason);
  // The trapping linked process got the signal as a message, with the same reason object.
  t.deepEqual(trapped, [{ type: 'xotp.exit', from: p, reason } satisfies ExitMessage]);
  t.is((trapped[0] as ExitMessage).reason, reason);
  t.true(rt.isAlive(trapping));
  // The non-trapping linked process died with R.
  t.false(rt.isAlive(plain));
  t.is(exitReasonOf(rt, plain), reason);
  // Each monitor got {DOWN, Ref, process, P, R}.
  t.deepEqual(await rt.call(watcher, 'inbox'), [{ type: 'xotp.down', ref: procRef, pid: p, target: p, reason }]);
  t.deepEqual(downs, [{ type: 'xotp.down', ref: fnRef, pid: p, target: p, reason }]);
  t.true(rt.isAlive(watcher));
});

test('§1.1 rule 2: exit(P, normal) is ignored by a non-trapping P; a trapping P gets {EXIT, From, normal}; exit(self, normal) ends the caller with normal', async (t) => {
  await using rt = createTestRuntime();
  // Non-trapping: ignored (probe: "exit(P,normal) non-trapping alive=true").
  const plain = rt.spawn(idle);
  t.true(rt.exit(plain, 'normal'));
  await rt.flush();
  t.true(rt.isAlive(plain));
  t.deepEqual(
    rt.trace.of('signal').map((s) => [String(s.to), s.reason, s.outcome]),
    [[String(plain), 'normal', 'ignored']],
  );

  // Trapping: the message {EXIT, From, normal}, From = the sender (probe: "trapping receives {'EXIT',<0.9.0>,normal}").
  const trapped: unknown[] = [];
  const trapping = rt.spawn(recorder, { input: trapped, trapExit: true });
  const sender = rt.spawn(idle);
  rt.exit(trapping, 'normal'); // from the runtime root
  rt.exit(trapping, 'normal', sender); // from another process
  await rt.flush();
  t.true(rt.isAlive(trapping));
  t.deepEqual(trapped, [
    { type: 'xotp.exit', from: rt.self, reason: 'normal' },
    { type: 'xotp.exit', from: sender, reason: 'normal' },
  ]);

  // exit(self(), normal): the caller terminates with normal (probe: "exit(self(),normal) -> normal").
  const self = rt.spawn(idle);
  rt.exit(self, 'normal', self);
  await rt.flush();
  t.false(rt.isAlive(self));
  t.is(exitReasonOf(rt, self), 'normal');

  // The same from inside a server (its own handler calls exit(self(), normal)).
  const server = rt.spawn(probeServer);
  await rt.flush();
  t.true(rt.exit(server, 'normal', server));
  await rt.flush();
  t.is(exitReasonOf(rt, server), 'normal');
  t.true(rt.isAlive(plain));
});

test('§1.1 rule 3: exit(P, kill) is untrappable and P dies with killed, trapping or not', async (t) => {
  await using rt = createTestRuntime();
  const trapped: unknown[] = [];
  const trapping = rt.spawn(recorder, { input: trapped, trapExit: true });
  const plain = rt.spawn(idle);
  const log: TerminateRecord[] = [];
  const trappingServer = rt.spawn(probeServer, { input: { trap: true, log } });
  await rt.flush();
  t.true(rt.info(trappingServer)?.trapExit);

  t.true(rt.exit(trapping, 'kill'));
  t.true(rt.exit(plain, 'kill'));
  t.true(rt.exit(trappingServer, 'kill'));
  await rt.flush();

  // probe: "exit(trapping,kill) alive=false"
  t.false(rt.isAlive(trapping));
  t.false(rt.isAlive(plain));
  t.false(rt.isAlive(trappingServer));
  t.is(exitReasonOf(rt, trapping), 'killed');
  t.is(exitReasonOf(rt, plain), 'killed');
  t.is(exitReasonOf(rt, trappingServer), 'killed');
  // Nothing was delivered as a message, and a killed server does not run terminate.
  t.deepEqual(trapped, []);
  t.deepEqual(log, []);
  t.deepEqual(
    rt.trace.of('signal').map((s) => s.outcome),
    ['exit', 'exit', 'exit'],
  );
});

test('§1.1 rule 4: processes linked to a killed process get the ordinary, trappable reason killed', async (t) => {
  await using rt = createTestRuntime();
  const victim = rt.spawn(idle);
  const trapped: unknown[] = [];
  const trapping = rt.spawn(recorder, { input: trapped, trapExit: true, link: victim });
  const plain = rt.spawn(idle, { link: victim });
  // A chain: victim - plain - farTrapping. plain dies with killed, so farTrapping hears killed from plain.
  const farTrapped: unknown[] = [];
  rt.spawn(recorder, { input: farTrapped, trapExit: true, link: plain });
  const downs: DownMessage[] = [];
  rt.monitor(victim, (d) => downs.push(d));

  rt.exit(victim, 'kill');
  await rt.flush();

  t.is(exitReasonOf(rt, victim), 'killed');
  // probe: "linked to killed process dies with killed"
  t.false(rt.isAlive(plain));
  t.is(exitReasonOf(rt, plain), 'killed');
  // A trapping linked process gets {EXIT, P, killed} and survives.
  t.true(rt.isAlive(trapping));
  t.deepEqual(trapped, [{ type: 'xotp.exit', from: victim, reason: 'killed' }]);
  t.deepEqual(farTrapped, [{ type: 'xotp.exit', from: plain, reason: 'killed' }]);
  t.deepEqual(downs.map((d) => d.reason), ['killed']);
});

test('§1.1 rule 5: a process ending itself with exit(kill) has reason kill, and its links get a trappable kill', async (t) => {
  await using rt = createTestRuntime();
  // exit(kill) (exit/1) = a server handler returning { stop: 'kill' }.
  const self = rt.spawn(probeServer);
  const trapped: unknown[] = [];
  const trapping = rt.spawn(recorder, { input: trapped, trapExit: true, link: self });
  const plain = rt.spawn(idle, { link: self });
  const downs: DownMessage[] = [];
  rt.monitor(self, (d) => downs.push(d));
  await rt.flush();

  rt.cast(self, { stop: 'kill' });
  await rt.flush();

  t.is(exitReasonOf(rt, self), 'kill');
  // The trapping linked process gets {EXIT, P, kill} and is NOT killed by it.
  t.true(rt.isAlive(trapping));
  t.deepEqual(trapped, [{ type: 'xotp.exit', from: self, reason: 'kill' }]);
  // A non-trapping linked process dies with kill (not killed).
  t.false(rt.isAlive(plain));
  t.is(exitReasonOf(rt, plain), 'kill');
  t.deepEqual(downs.map((d) => d.reason), ['kill']);

  // Contrast: exit(self(), kill) (exit/2 on oneself) is the untrappable kill: reason killed.
  const selfKiller = rt.spawn(idle);
  const trapped2: unknown[] = [];
  rt.spawn(recorder, { input: trapped2, trapExit: true, link: selfKiller });
  rt.exit(selfKiller, 'kill', selfKiller);
  await rt.flush();
  t.is(exitReasonOf(rt, selfKiller), 'killed');
  t.deepEqual(trapped2, [{ type: 'xotp.exit', from: selfKiller, reason: 'killed' }]);
});

test('§1.1 rule 6: any other reason R ends a non-trapping target with R and reaches a trapping one as {EXIT, From, R}', async (t) => {
  await using rt = createTestRuntime();
  const sender = rt.spawn(idle);
  const reasons: ExitReason[] = ['custom', new Error('boom'), { shutdown: 'x' }, 'shutdown', ['tuple', 1]];
  const trapped: unknown[] = [];
  const trapping = rt.spawn(recorder, { input: trapped, trapExit: true });
  for (const reason of reasons) {
    // probe: "exit(P,custom) alive=false"
    const plain = rt.spawn(idle);
    t.true(rt.exit(plain, reason, sender));
    t.true(rt.exit(trapping, reason, sender));
    await rt.flush();
    t.false(rt.isAlive(plain), `non-trapping target of ${JSON.stringify(reason)} is dead`);
    t.is(exitReasonOf(rt, plain), reason, 'with the very same reason value');
  }
  t.true(rt.isAlive(trapping));
  t.deepEqual(
    trapped,
    reasons.map((reason) => ({ type: 'xotp.exit', from: sender, reason })),
  );
  t.true(rt.isAlive(sender), 'sending an exit signal does not affect the sender');
});

test('§1.1 rule 9: a process that exits normally does not kill the non-trapping processes linked to it', async (t) => {
  await using rt = createTestRuntime();
  // A machine reaching its final state exits normal.
  const fin = rt.spawn(finisher);
  const plain = rt.spawn(idle, { link: fin });
  const trapped: unknown[] = [];
  const trapping = rt.spawn(recorder, { input: trapped, trapExit: true, link: fin });
  const downs: DownMessage[] = [];
  rt.monitor(fin, (d) => downs.push(d));
  // A server stopping itself with normal.
  const server = rt.spawn(probeServer);
  const plain2 = rt.spawn(idle, { link: server });
  await rt.flush();

  rt.send(fin, { type: 'finish' });
  rt.cast(server, { stop: 'normal' });
  await rt.flush();

  t.is(exitReasonOf(rt, fin), 'normal');
  t.is(exitReasonOf(rt, server), 'normal');
  // probe: "linked to normally-exiting process alive=true"
  t.true(rt.isAlive(plain));
  t.true(rt.isAlive(plain2));
  t.deepEqual(trapped, [{ type: 'xotp.exit', from: fin, reason: 'normal' }]);
  t.deepEqual(downs.map((d) => d.reason), ['normal']);
  t.deepEqual(
    rt.trace.of('signal').map((s) => [String(s.to), s.outcome]),
    [
      [String(plain), 'ignored'],
      [String(trapping), 'trapped'],
      [String(plain2), 'ignored'],
    ],
  );
});

test('§1.1 rule 10: normal, shutdown and {shutdown, _} are clean (no crash report); shutdown and {shutdown, _} still kill non-trapping links, normal does not', async (t) => {
  await using rt = createTestRuntime();
  const cases: Array<{ reason: ExitReason; clean: boolean; killsLinks: boolean }> = [
    { reason: 'normal', clean: true, killsLinks: false },
    { reason: 'shutdown', clean: true, killsLinks: true },
    { reason: { shutdown: 'x' }, clean: true, killsLinks: true },
    { reason: new Error('boom'), clean: false, killsLinks: true },
  ];
  for (const c of cases) {
    const label = c.reason instanceof Error ? 'Error(boom)' : JSON.stringify(c.reason);
    const before = rt.logs.at('error').length;
    const server = rt.spawn(probeServer);
    const linked = rt.spawn(idle, { link: server });
    await rt.flush();
    rt.cast(server, { stop: c.reason }); // the process ends itself with this reason
    await rt.flush();
    t.deepEqual(exitReasonOf(rt, server), c.reason, label);
    t.is(isCleanExit(c.reason), c.clean, `isCleanExit(${label})`);
    const reports = rt.logs.at('error').slice(before);
    if (c.clean) t.deepEqual(reports, [], `no crash report for ${label}`);
    else t.true(reports.length === 1 && reports[0]!.message.includes('crashed'), `a crash report for ${label}`);
    t.is(rt.isAlive(linked), !c.killsLinks, `linked non-trapping process after ${label}`);
    if (c.killsLinks) t.deepEqual(exitReasonOf(rt, linked), c.reason);
    else t.false(hasExited(rt, linked));
  }
});

test('regression: trapExit(pid, flag) stored any value as the flag, and exit(target, reason, from) refused a via name as from — badarg for a non-boolean, via names work as names do', async (t) => {
  await using rt = createTestRuntime();
  const p = rt.spawn(idle);
  for (const flag of ['yes', 1, undefined, null]) {
    const err = t.throws(() => rt.trapExit(p, flag as never), { instanceOf: InvalidOptionError });
    t.is(err?.key, 'trapExit.flag');
  }
  t.false(rt.info(p)?.trapExit, 'the flag is unchanged');
  t.false(rt.trapExit(p, true));
  t.true(rt.info(p)?.trapExit);

  await rt.start(registry({ name: 'Reg', keys: 'unique' }));
  const sender = rt.spawn(idle);
  Registry.register(rt, 'Reg', 'sender', null, sender);
  const seen: unknown[] = [];
  const trapper = rt.spawn(
    fromCallback(({ receive }) => receive((e: { type: string; from?: unknown }) => void seen.push(e.from))),
    { trapExit: true },
  );
  t.true(rt.exit(trapper, 'bye', { via: 'Reg', key: 'sender' }));
  await rt.flush();
  t.is(String(seen[0]), String(sender), 'the signal came from the process the via name names');
});
