/**
 * Two child Node processes joined over a real `nats-server` (started here on 127.0.0.1 with
 * JetStream in a temporary folder): remote calls both ways; monitor and link across nodes
 * deliver `noconnection` when a node is SIGKILLed; its pids then answer `noproc`.
 */
import test from 'ava';
import { exited, natsServer, startNats } from './natsServer.js';
import { ChildNode } from './childNode.js';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/natsNode.ts', import.meta.url));

interface Line {
  id?: number;
  ok?: boolean;
  value?: unknown;
  error?: { code?: string; name?: string; message?: string };
  ready?: { node: string; id: number; creation?: number };
  event?: string;
  reason?: unknown;
}

/** A child node running the NATS fixture. */
const nodeProcess = (name: string, url: string) => new ChildNode<Line>(name, fixture, [name, url]);

const natsTest = natsServer === undefined ? test.skip : test;
if (natsServer === undefined) {
  console.log('test/cluster/nats.test.ts: nats-server is not installed (apt-get install nats-server; .ci/run does): the NATS tests are skipped');
}

natsTest('over NATS: a remote call works both ways; monitor and link deliver noconnection when a node is SIGKILLed; its pids then answer noproc', async (t) => {
  t.timeout(45_000);
  const url = await startNats(t, natsServer!);
  const a = nodeProcess('alpha', url);
  const b = nodeProcess('beta', url);
  t.teardown(async () => {
    for (const n of [a, b]) {
      if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
      await exited(n.child);
    }
  });
  const pidA = (await a.next((l) => l.ready !== undefined)).ready!;
  const pidB = (await b.next((l) => l.ready !== undefined)).ready!;
  t.is(pidA.node, 'alpha');
  t.is(pidB.node, 'beta');

  const ab = await a.command('call', { to: pidB, request: { n: 1 } });
  t.deepEqual(ab, { id: 1, ok: true, value: { from: `<beta.${pidB.id}>`, got: { n: 1 } } });
  const ba = await b.command('call', { to: pidA, request: ['x', 2] });
  t.deepEqual(ba, { id: 1, ok: true, value: { from: `<alpha.${pidA.id}>`, got: ['x', 2] } });

  t.deepEqual(await a.command('watch', { to: pidB }), { id: 2, ok: true, value: null });
  b.child.kill('SIGKILL');
  const [down, trapped, linkedDied] = await Promise.all([
    a.next((l) => l.event === 'down'),
    a.next((l) => l.event === 'trapped'),
    a.next((l) => l.event === 'linkedDied'),
  ]);
  t.is(down.reason, 'noconnection');
  t.is(trapped.reason, 'noconnection');
  t.is(linkedDied.reason, 'noconnection');

  const after = await a.command('call', { to: pidB, request: 'anyone?' });
  t.is(after.ok, false);
  t.is(after.error?.code, 'noproc');

  t.deepEqual(await a.command('quit'), { id: 4, ok: true, value: null });
  await exited(a.child);
  t.is(a.child.exitCode, 0);
  t.is(a.lines.filter((l) => l.event !== undefined).length, 3, 'each watcher heard exactly once');
});
