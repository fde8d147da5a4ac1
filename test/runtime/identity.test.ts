/**
 * Process identity: readable ids (`test/<name>`, `test/<label>-N`, nested under a parent), pid
 * printing (`<test.N>`), the JSON round trip of a pid, and pids never being reused.
 */
import test from 'ava';
import { inspect } from 'node:util';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pid, defineServer, isPid, type DownMessage, type ExitMessage } from '../../src/index.js';
import { idle, recorder, finisher, inboxServer } from '../helpers/actors.js';
import { probeServer } from '../helpers/probe.js';

test('readable ids: test/<name> for a named process, test/<label>-N otherwise, test/<id> with the id option', async (t) => {
  await using rt = createTestRuntime();
  const named = rt.spawn(idle, { name: 'svc' });
  const server = rt.spawn(probeServer); // label 'probe'
  const inbox = rt.spawn(inboxServer); // label 'inbox'
  const unnamedServer = rt.spawn(defineServer<null>({ init: () => ({ state: null }) })); // default label 'server'
  const machine = rt.spawn(finisher); // the machine id
  const callback = rt.spawn(idle); // no label: 'proc'
  const custom = rt.spawn(idle, { id: 'custom', name: 'ignored-for-the-id' });
  await rt.flush();

  t.is(rt.info(named)?.id, 'test/svc');
  t.is(rt.info(server)?.id, `test/probe-${server.id}`);
  t.is(rt.info(inbox)?.id, `test/inbox-${inbox.id}`);
  t.is(rt.info(unnamedServer)?.id, `test/server-${unnamedServer.id}`);
  t.is(rt.info(machine)?.id, `test/finisher-${machine.id}`);
  t.is(rt.info(callback)?.id, `test/proc-${callback.id}`);
  t.is(rt.info(custom)?.id, 'test/custom');
  t.deepEqual(
    [server, inbox, unnamedServer, machine, callback].map((p) => rt.info(p)?.id.endsWith(`-${p.id}`)),
    [true, true, true, true, true],
    'N is the pid number',
  );
  // The readable id is also the xstate actor id, and what process.spawned reports.
  t.is(rt.actorOf(server)?.id, rt.info(server)?.id);
  t.deepEqual(
    rt.trace.of('process.spawned').map((e) => e.id),
    [named, server, inbox, unnamedServer, machine, callback, custom].map((p) => rt.info(p)!.id),
  );
  t.true(Pid.equals(rt.info(named)!.parent, rt.self), 'top-level processes sit under the runtime root');
});

test('readable ids: a process spawned with the parent option is nested under its parent (also via a server context)', async (t) => {
  await using rt = createTestRuntime();
  const parent = rt.spawn(idle, { name: 'app' });
  const child = rt.spawn(idle, { parent, name: 'pool' });
  const grandchild = rt.spawn(idle, { parent: 'pool' }); // the parent given by name
  const owner = rt.spawn(
    defineServer<{ kid: Pid }>({
      name: 'owner',
      init: (_args, ctx) => ({ state: { kid: ctx.spawn(idle, { id: 'kid' }) } }),
    }),
    { parent: child },
  );
  await rt.flush();

  t.is(rt.info(child)?.id, 'test/app/pool');
  t.is(rt.info(grandchild)?.id, `test/app/pool/proc-${grandchild.id}`);
  t.is(rt.info(owner)?.id, `test/app/pool/owner-${owner.id}`);
  const kid = rt.processes().find((p) => rt.info(p)?.id === `test/app/pool/owner-${owner.id}/kid`);
  t.truthy(kid, 'ctx.spawn places the new process under the server');
  t.true(Pid.equals(rt.info(kid!)!.parent, owner));
  t.true(Pid.equals(rt.info(child)!.parent, parent));

  const tree = rt.tree();
  t.is(tree.id, 'test');
  t.deepEqual(
    tree.children.map((n) => n.id),
    ['test/app'],
  );
  t.deepEqual(
    tree.children[0]!.children[0]!.children.map((n) => n.id),
    [`test/app/pool/proc-${grandchild.id}`, `test/app/pool/owner-${owner.id}`],
  );
  // Placement is not a link: the parent dying does not take the child with it.
  t.deepEqual(rt.info(child)?.links, []);
});

test('readable ids: a runtime name becomes the root of every id and the node of every pid', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  const p = rt.spawn(idle, { name: 'worker' });
  t.is(rt.info(p)?.id, 'app/worker');
  t.is(String(p), '<app.1>');
  t.is(String(rt.self), '<app.0>');
});

test('pids print as <test.N>, in strings, templates and util.inspect, and Pid.parse reads them back', async (t) => {
  await using rt = createTestRuntime();
  const a = rt.spawn(idle);
  const b = rt.spawn(idle);
  t.is(String(a), '<test.1>');
  t.is(`${b}`, '<test.2>');
  t.is(inspect(a), '<test.1>');
  t.is(inspect({ pid: a }), '{ pid: <test.1> }');
  t.is(String(rt.self), '<test.0>');
  const parsed = Pid.parse(String(b));
  t.true(parsed instanceof Pid);
  t.true(Pid.equals(parsed, b));
  t.true(rt.isAlive(parsed!));
  t.is(Pid.parse('test.2'), undefined);
  t.is(Pid.parse('<test.x>'), undefined);
  t.false(Pid.equals(a, b));
  t.false(Pid.equals(a, undefined));
});

test('pid JSON round trip: a JSON-parsed pid still addresses the process (send, cast, call, info, monitor, link, exit, stop)', async (t) => {
  await using rt = createTestRuntime();
  const server = rt.spawn(probeServer);
  const json = JSON.stringify({ pid: server });
  t.is(json, `{"pid":{"node":"test","id":${server.id},"creation":${rt.creation}}}`);
  const back = (JSON.parse(json) as { pid: { node: string; id: number } }).pid;
  t.false(back instanceof Pid);
  t.true(isPid(back));
  t.true(Pid.equals(Pid.from(back), server));

  t.true(rt.isAlive(back));
  t.true(Pid.equals(rt.info(back)!.pid, server));
  t.is(await rt.call(back, 'ping'), 'pong');
  const inbox: unknown[] = [];
  const rec = rt.spawn(recorder, { input: inbox, trapExit: true });
  const recBack = JSON.parse(JSON.stringify(rec)) as { node: string; id: number };
  rt.send(recBack, { type: 'hello' });
  rt.cast(recBack, 'a cast');
  t.deepEqual(inbox, [{ type: 'hello' }, { type: 'xotp.cast', message: 'a cast' }]);

  const downs: DownMessage[] = [];
  rt.monitor(back, (d) => downs.push(d));
  rt.link(recBack, back);
  t.deepEqual(rt.info(server)!.links.map(String), [String(rec)]);
  t.true(rt.exit(back, 'normal', back) === true);
  await rt.flush();
  t.false(rt.isAlive(server), 'exit(self, normal) via JSON pids');
  t.deepEqual(downs.map((d) => [String(d.pid), d.reason]), [[String(server), 'normal']]);
  t.deepEqual((inbox.at(-1) as ExitMessage).reason, 'normal');

  const another = rt.spawn(idle);
  t.is(await rt.stop(JSON.parse(JSON.stringify(another)) as { node: string; id: number }, 'shutdown'), 'ok');
  t.false(rt.isAlive(another));
});

test('pids are never reused: a stale pid never reaches a newer process, and a pid of another runtime addresses nothing here', async (t) => {
  await using rt = createTestRuntime();
  await using other = createTestRuntime({ name: 'other' });
  const old = rt.spawn(idle, { name: 'svc' });
  await rt.stop(old);
  const fresh = rt.spawn(idle, { name: 'svc' });
  t.is(fresh.id, old.id + 1, 'the next number: pids are numbered in spawn order, never reused');
  t.false(rt.isAlive(old));
  t.true(rt.isAlive('svc'));
  t.true(Pid.equals(rt.whereis('svc'), fresh));
  t.false(rt.exit(old, 'kill'), 'the stale pid does not reach the new holder of the name');
  t.true(rt.isAlive(fresh));

  const foreign = other.spawn(idle);
  t.is(foreign.id, 1);
  t.false(rt.isAlive(foreign), `${foreign} is not a process of runtime 'test'`);
  t.is(rt.info(foreign), undefined);
  t.is(await rt.stop(foreign), 'noproc');
  t.true(other.isAlive(foreign));
});

test('two runtimes with the same name never reach each other\'s processes through a pid (creation)', async (t) => {
  await using a = createTestRuntime();
  await using b = createTestRuntime();
  t.is(a.name, b.name);
  const pa = a.spawn(probeServer);
  const pb = b.spawn(probeServer);
  t.is(String(pa), String(pb), 'both print <test.1>');
  t.false(Pid.equals(pa, pb));
  t.false(a.isAlive(pb));
  t.false(a.exit(pb, 'kill'), 'an exit signal with a foreign pid reaches nothing');
  t.true(a.isAlive(pa));
  t.true(b.isAlive(pb));
  t.is(await a.stop(pb), 'noproc');
  t.true(a.isAlive({ node: 'test', id: pa.id }), 'a hand-written pid without creation still matches by name');
});
