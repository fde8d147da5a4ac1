/**
 * Links and monitors across nodes are requests the other node acknowledges: one that reaches
 * nobody (no node of that name serves) delivers `noconnection` rather than nothing, and one
 * that reaches a node that does not know the pid delivers `noproc`.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { MemoryNetwork, Pid, type DownMessage } from '../../src/index.js';
import { idle, inboxServer } from '../helpers/actors.js';

test('regression: a monitor or link of a pid on a node nobody serves waited forever; it now gets DOWN / EXIT noconnection', async (t) => {
  const net = new MemoryNetwork();
  await using a = createTestRuntime({ name: 'a', transport: net });
  const ghost = new Pid('ghost', 1, 1);
  const downs: DownMessage[] = [];
  const ref = a.monitor(ghost, (d) => downs.push(d));
  const trapper = (await a.start(inboxServer, { input: { trap: true } })) as Pid;
  a.link(trapper, ghost);
  const plain = a.spawn(idle);
  a.link(plain, ghost);
  await a.flush();
  t.deepEqual(downs, [{ type: 'xotp.down', ref, pid: ghost, target: ghost, reason: 'noconnection' }]);
  const inbox = (await a.call(trapper, 'inbox')) as Array<{ type: string; reason?: unknown; from?: unknown }>;
  t.deepEqual(inbox.map((m) => [m.type, m.reason, String(m.from)]), [['xotp.exit', 'noconnection', '<ghost.1>']]);
  t.false(a.isAlive(plain));
  t.is(a.trace.exits().find((e) => String(e.pid) === String(plain))?.reason, 'noconnection');
});

test('a monitor or link of a pid its node does not know gets DOWN / EXIT noproc from that node', async (t) => {
  const net = new MemoryNetwork();
  await using a = createTestRuntime({ name: 'a', transport: net });
  await using b = createTestRuntime({ name: 'b', transport: net });
  const unknown = new Pid('b', 999, b.creation);
  const downs: DownMessage[] = [];
  const ref = a.monitor(unknown, (d) => downs.push(d));
  const trapper = (await a.start(inboxServer, { input: { trap: true } })) as Pid;
  a.link(trapper, unknown);
  for (let i = 0; i < 3; i++) {
    await a.flush();
    await b.flush();
  }
  t.deepEqual(downs, [{ type: 'xotp.down', ref, pid: unknown, target: unknown, reason: 'noproc' }]);
  const inbox = (await a.call(trapper, 'inbox')) as Array<{ type: string; reason?: unknown; from?: unknown }>;
  t.deepEqual(inbox.map((m) => [m.type, m.reason, String(m.from)]), [['xotp.exit', 'noproc', '<b.999>']]);
});

test('an acknowledged monitor and link stay in place and carry the real reason later', async (t) => {
  const net = new MemoryNetwork();
  await using a = createTestRuntime({ name: 'a', transport: net });
  await using b = createTestRuntime({ name: 'b', transport: net });
  const target = b.spawn(idle);
  const downs: DownMessage[] = [];
  a.monitor(target, (d) => downs.push(d));
  const trapper = (await a.start(inboxServer, { input: { trap: true } })) as Pid;
  a.link(trapper, target);
  for (let i = 0; i < 3; i++) {
    await a.flush();
    await b.flush();
  }
  t.deepEqual(downs, []);
  b.exit(target, 'boom');
  for (let i = 0; i < 3; i++) {
    await b.flush();
    await a.flush();
  }
  t.deepEqual(downs.map((d) => d.reason), ['boom']);
  const inbox = (await a.call(trapper, 'inbox')) as Array<{ type: string; reason?: unknown }>;
  t.deepEqual(inbox.map((m) => [m.type, m.reason]), [['xotp.exit', 'boom']]);
});
