/**
 * Distribution on the in-memory transport: two or three runtimes joined to one `MemoryNetwork`,
 * each on its own simulated clock. Remote pids work with send/cast/call/stop/link/monitor; a
 * node that leaves delivers `noconnection`; a pid of a departed node answers `noproc`.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { MemoryNetwork, NoProcessError, NotSerializableError, ProcessExitError, TimeoutError, createRuntime, defineServer, type DownMessage, type Pid } from '../../src/index.js';
import { idle, inboxServer } from '../helpers/actors.js';

/** Answers `['echo', x]` with x, `['whoami']` with its pid's node, `['never']` never. */
const echo = defineServer<number, undefined, [string, unknown?], unknown>({
  name: 'echo',
  init: () => ({ state: 0 }),
  handleCall: (req, _from, state, ctx) => {
    if (req[0] === 'echo') return { reply: req[1], state: state + 1 };
    if (req[0] === 'whoami') return { reply: ctx.self.node, state };
    if (req[0] === 'bad') return { reply: new Map([[1, 2]]), state };
    return { noreply: true, state };
  },
  handleCast: (msg, state) => ({ state: state + (msg as number) }),
});

function pair(net = new MemoryNetwork()) {
  const a = createTestRuntime({ name: 'a', transport: net });
  const b = createTestRuntime({ name: 'b', transport: net });
  return { net, a, b };
}

test('a remote call works both ways, and a cast arrives', async (t) => {
  const { a, b } = pair();
  await using _a = a;
  await using _b = b;
  const onA = (await a.start(echo)) as Pid;
  const onB = (await b.start(echo)) as Pid;
  t.is(await a.call(onB, ['whoami']), 'b');
  t.is(await b.call(onA, ['whoami']), 'a');
  t.deepEqual(await a.call(onB, ['echo', { list: [1, 'two', null], pid: onA }]), { list: [1, 'two', null], pid: onA.toJSON() });
  b.cast(onA, 41);
  t.is(await b.call(onA, ['echo', 'x']), 'x', 'the cast arrived first (one subject per node keeps order)');
});

test('a remote call times out on the caller clock with TimeoutError; a dead remote pid gives NoProcessError', async (t) => {
  const { a, b } = pair();
  await using _a = a;
  await using _b = b;
  const onB = (await b.start(echo)) as Pid;
  const pending = a.call(onB, ['never'], { timeout: 1000 });
  const outcome = t.throwsAsync(pending, { instanceOf: TimeoutError });
  await a.flush();
  await b.advance(1000);
  await a.advance(1000);
  await outcome;
  await b.stop(onB);
  await t.throwsAsync(a.call(onB, ['whoami']), { instanceOf: NoProcessError });
});

test('remote stop: ok for a live pid, noproc for a dead one', async (t) => {
  const { a, b } = pair();
  await using _a = a;
  await using _b = b;
  const onB = (await b.start(echo)) as Pid;
  t.is(await a.stop(onB, 'shutdown'), 'ok');
  t.false(b.isAlive(onB));
  t.is(await a.stop(onB), 'noproc');
});

test('a payload that cannot travel as JSON is refused with NotSerializableError before it leaves; a reply that cannot is refused too', async (t) => {
  const { a, b } = pair();
  await using _a = a;
  await using _b = b;
  const onB = (await b.start(echo)) as Pid;
  const err = await t.throwsAsync(a.call(onB, ['echo', { when: new Date(0) }]), { instanceOf: NotSerializableError });
  t.is(err?.path, '$[1].when');
  t.is(err?.code, 'not_serializable');
  t.throws(() => a.cast(onB, () => 1), { instanceOf: NotSerializableError });
  t.throws(() => a.send(onB, { type: 'x', n: 10n } as never), { instanceOf: NotSerializableError });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await t.throwsAsync(a.call(onB, cyclic), { instanceOf: NotSerializableError });
  // Regression: an error the other node answered came back as a plain XotpError with its name
  // copied; it is rebuilt as the same class, as the README says.
  const replyErr = await t.throwsAsync(a.call(onB, ['bad']), { instanceOf: NotSerializableError });
  t.is((replyErr as { code?: string }).code, 'not_serializable');
  t.is(await a.call(onB, ['echo', 'still fine']), 'still fine');
});

test('a remote monitor gets the real exit reason; a remote link carries the exit signal both ways', async (t) => {
  const { a, b } = pair();
  await using _a = a;
  await using _b = b;
  const target = b.spawn(idle);
  const downs: DownMessage[] = [];
  const ref = a.monitor(target, (d) => downs.push(d));
  const watcher = (await a.start(inboxServer, { input: { trap: true } })) as Pid;
  a.link(watcher, target);
  await a.flush();
  await b.flush();
  b.exit(target, 'boom');
  await b.flush();
  await a.flush();
  t.deepEqual(downs, [{ type: 'xotp.down', ref, pid: target, target, reason: 'boom' }]);
  const inbox = (await a.call(watcher, 'inbox')) as Array<{ type: string; reason?: unknown; from?: unknown }>;
  t.deepEqual(inbox.map((m) => [m.type, m.reason, String(m.from)]), [['xotp.exit', 'boom', String(target)]]);

  // And the other way: the local process dies, the remote linked one (not trapping) dies too.
  const victim = b.spawn(idle);
  const local = a.spawn(idle);
  b.link(victim, local);
  await b.flush();
  await a.flush();
  a.exit(local, 'crash');
  await a.flush();
  await b.flush();
  t.false(b.isAlive(victim));
  t.is(b.trace.exits().find((e) => String(e.pid) === String(victim))?.reason, 'crash');
});

test('a node that leaves delivers noconnection to every remote monitor and link; its pids then answer noproc', async (t) => {
  const net = new MemoryNetwork();
  const { a, b } = pair(net);
  const c = createTestRuntime({ name: 'c', transport: net });
  await using _a = a;
  await using _b = b;
  await using _c = c;
  const onB = (await b.start(echo)) as Pid;
  const onC = (await c.start(echo)) as Pid;
  const downs: DownMessage[] = [];
  a.monitor(onB, (d) => downs.push(d));
  a.monitor(onC, (d) => downs.push(d));
  const trapper = (await a.start(inboxServer, { input: { trap: true } })) as Pid;
  a.link(trapper, onB);
  const plain = a.spawn(idle);
  a.link(plain, onB);
  const pendingCall = a.call(onB, ['never'], { timeout: 60_000 });
  const callOutcome = t.throwsAsync(pendingCall, { instanceOf: ProcessExitError });
  await a.flush();
  await b.flush();

  net.disconnect('b');
  await a.flush();
  t.deepEqual(
    downs.map((d) => [String(d.pid), d.reason]),
    [[String(onB), 'noconnection']],
    'only the monitor on the departed node fires',
  );
  const inbox = (await a.call(trapper, 'inbox')) as Array<{ type: string; reason?: unknown }>;
  t.deepEqual(inbox.map((m) => [m.type, m.reason]), [['xotp.exit', 'noconnection']]);
  t.false(a.isAlive(plain), 'a non-trapping linked process dies with noconnection');
  t.is(a.trace.exits().find((e) => String(e.pid) === String(plain))?.reason, 'noconnection');
  const exitErr = await callOutcome;
  t.is((exitErr as ProcessExitError).reason, 'noconnection');
  t.is(String((exitErr as ProcessExitError).pid), String(onB), 'the error names the process the call waited on');

  await t.throwsAsync(a.call(onB, ['whoami']), { instanceOf: NoProcessError });
  t.is(await a.stop(onB), 'noproc');
  const late: DownMessage[] = [];
  a.monitor(onB, (d) => late.push(d));
  await a.flush();
  t.deepEqual(late.map((d) => d.reason), ['noconnection']);
  t.is(await a.call(onC, ['whoami']), 'c', 'the third node is unaffected');
  await b.dispose();
});

test('a call to a node that never joined answers NoProcessError at once', async (t) => {
  const { a, b } = pair();
  await using _a = a;
  await using _b = b;
  await t.throwsAsync(a.call({ node: 'nowhere', id: 1 }, 'x'), { instanceOf: NoProcessError });
});

test('a runtime that shuts down leaves the network: its peers see noconnection', async (t) => {
  const { a, b } = pair();
  await using _a = a;
  const onB = b.spawn(idle);
  const downs: DownMessage[] = [];
  a.monitor(onB, (d) => downs.push(d));
  await a.flush();
  await b.flush();
  await b.dispose();
  await a.flush();
  t.deepEqual(downs.map((d) => d.reason), ['shutdown'], 'the process stopped (and said so) before its node left');
});

test('without a transport, a pid of another node is dropped on send and answers noproc on call, as before', async (t) => {
  await using rt = createTestRuntime({ name: 'solo' });
  rt.send({ node: 'other', id: 1 }, { type: 'x' });
  await t.throwsAsync(rt.call({ node: 'other', id: 1 }, 'x'), { instanceOf: NoProcessError });
  t.is(await rt.stop({ node: 'other', id: 1 }), 'noproc');
});

test('createRuntime refuses a transport that is not one, naming the key', (t) => {
  t.throws(() => createRuntime({ transport: {} as never }), { message: /transport/ });
});

test('regression: link and unlink refused a name standing for a process on another node (a cluster name), where call, monitor and exit took it — they take it too', async (t) => {
  const { a, b } = pair();
  await using _a = a;
  await using _b = b;
  const leader = b.spawn(idle);
  // A name service on `a` whose names stand for processes of other nodes (as clusterNames' do).
  a.registerNameService({ name: 'cluster', kind: 'unique', whereis: (key) => (key === 'leader' ? leader : undefined), registerName: () => undefined, unregisterName: () => undefined });
  const trapper = (await a.start(inboxServer, { input: { trap: true } })) as Pid;
  a.link(trapper, { via: 'cluster', key: 'leader' });
  await a.flush();
  await b.flush();
  b.exit(leader, 'boom');
  await b.flush();
  await a.flush();
  const inbox = (await a.call(trapper, 'inbox')) as Array<{ type: string; reason?: unknown; from?: unknown }>;
  t.deepEqual(inbox.map((m) => [m.type, m.reason, String(m.from)]), [['xotp.exit', 'boom', String(leader)]]);

  const leader2 = b.spawn(idle);
  a.registerNameService({ name: 'cluster2', kind: 'unique', whereis: () => leader2, registerName: () => undefined, unregisterName: () => undefined });
  const other = a.spawn(idle);
  a.link(other, { via: 'cluster2', key: 'x' });
  await a.flush();
  await b.flush();
  a.unlink(other, { via: 'cluster2', key: 'x' });
  await a.flush();
  await b.flush();
  b.exit(leader2, 'boom');
  await b.flush();
  await a.flush();
  t.true(a.isAlive(other), 'unlinked through the name: the exit did not reach it');
});

test('regression: linking to a pid the other node does not know delivered noproc, then noconnection when that node left — one signal, the link never stood', async (t) => {
  const net = new MemoryNetwork();
  const { a, b } = pair(net);
  await using _a = a;
  await using _b = b;
  const trapper = (await a.start(inboxServer, { input: { trap: true } })) as Pid;
  await b.start(echo); // b is up
  a.link(trapper, { node: 'b', id: 998 } as never);
  await a.flush();
  await b.flush();
  await a.flush();
  net.disconnect('b');
  await a.flush();
  const inbox = (await a.call(trapper, 'inbox')) as Array<{ type: string; reason?: unknown }>;
  t.deepEqual(inbox.map((m) => [m.type, m.reason]), [['xotp.exit', 'noproc']]);
  await b.dispose();
});

test("regression: a transport that failed on its own (NATS's connection closed) rejected a remote call with the client's untyped error — ProcessExitError 'noconnection'; stop answers noproc", async (t) => {
  const net = new MemoryNetwork();
  let broken = false;
  // a's connection "closes": every request it makes fails as a NATS client's would.
  const flaky = {
    join: (node: string, options: { clock: never }) => {
      const endpoint = net.join(node, options);
      return new Proxy(endpoint, {
        get(target, key, receiver) {
          if (key === 'request') return (...args: Parameters<typeof endpoint.request>) => (broken ? Promise.reject(new Error('closed connection')) : endpoint.request(...args));
          const value = Reflect.get(target, key, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
  const a = createTestRuntime({ name: 'a', transport: flaky });
  const b = createTestRuntime({ name: 'b', transport: net });
  await using _a = a;
  await using _b = b;
  const onB = (await b.start(echo)) as Pid;
  t.is(await a.call(onB, ['whoami']), 'b');
  broken = true;
  const err = await t.throwsAsync(a.call(onB, ['whoami']), { instanceOf: ProcessExitError });
  t.is(err?.reason, 'noconnection');
  t.is(await a.stop(onB), 'noproc');
  broken = false;
});

test("a call in flight when the serving node shuts down cleanly gets the process's own exit reason, answered before the node leaves", async (t) => {
  const { a, b } = pair();
  await using _a = a;
  const onB = (await b.start(echo)) as Pid;
  const pending = a.call(onB, ['never'], { timeout: 60_000 });
  const outcome = t.throwsAsync(pending, { instanceOf: ProcessExitError });
  await a.flush();
  await b.flush();
  await b.shutdown();
  await a.flush();
  const err = await outcome;
  t.is(err?.reason, 'shutdown');
  await b.dispose();
});
