import test from 'ava';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createTestRuntime } from '../../src/testing/index.js';
import type { ProcessTreeNode } from '../../src/index.js';
import { walkthrough } from '../../examples/inspector.js';

interface Received {
  type: string;
  sessionId: string;
  parentId?: string;
  sourceId?: string;
  event?: { type: string; [k: string]: unknown };
  snapshot?: { status?: string; error?: unknown };
}

/** A WebSocket server standing in for the Stately inspector: it keeps what it receives, in order. */
async function receiver() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const got: Received[] = [];
  let waiters: Array<{ test: (m: Received) => boolean; resolve: () => void }> = [];
  server.on('connection', (socket) =>
    socket.on('message', (data) => {
      const m = JSON.parse(String(data)) as Received;
      got.push(m);
      waiters = waiters.filter((w) => (w.test(m) ? (w.resolve(), false) : true));
    }),
  );
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    got,
    until: (t: (m: Received) => boolean) => (got.some(t) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ test: t, resolve }))),
    close: () => {
      for (const c of server.clients) c.terminate();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const mentions = (m: Received, text: string) => JSON.stringify(m.event ?? null).includes(text);

test.serial('examples/inspector: what the Stately WebSocket inspector receives is the tree of runtime.tree(), with readable reasons and senders', async (t) => {
  const ws = await receiver();
  t.teardown(() => ws.close());
  const inspector = createWebSocketInspector({ url: ws.url, maxDeferredEvents: 100_000 });
  t.teardown(() => inspector.stop());
  await using rt = createTestRuntime({ name: 'app', inspect: inspector.inspect });
  const run = await walkthrough(rt, () => undefined);
  // Events arrive in order: once this one is in, so is everything before it.
  rt.cast('log', 'end of walkthrough');
  await ws.until((m) => m.type === '@xstate.event' && mentions(m, 'end of walkthrough'));

  // The live tree, rebuilt from @xstate.actor (parentId) and the last snapshot of each actor.
  const lastStatus = new Map<string, string>();
  const parentOf = new Map<string, string | undefined>();
  for (const m of ws.got) {
    if (m.type === '@xstate.actor') parentOf.set(m.sessionId, m.parentId);
    if ((m.type === '@xstate.snapshot' || m.type === '@xstate.actor') && m.snapshot?.status) lastStatus.set(m.sessionId, m.snapshot.status);
  }
  const live = [...parentOf].filter(([s]) => lastStatus.get(s) === 'active');
  const session = (pid: ProcessTreeNode['pid']) => rt.actorOf(pid)?.sessionId;
  const expected: Array<[string | undefined, string | undefined]> = [];
  const walk = (node: ProcessTreeNode, parent: string | undefined) => {
    const s = session(node.pid) ?? live.find(([, p]) => p === undefined)?.[0];
    expected.push([s, parent]);
    for (const c of node.children) walk(c, s);
  };
  walk(rt.tree(), undefined);
  t.deepEqual(new Map(live), new Map(expected), 'the same processes under the same parents');
  t.is(live.length, 7, 'the root, app, log, workers and its 3 workers (one of them the replacement of the crashed one)');

  // The crash reason reads as an error, not {}.
  const errors = ws.got.filter((m) => m.type === '@xstate.snapshot' && m.snapshot?.status === 'error');
  t.deepEqual(
    errors.map((m) => m.snapshot!.error),
    [{ name: 'Error', message: 'boom' }],
  );

  // The worker's cast to the log names the worker as its sender.
  const toLog = ws.got.filter((m) => m.type === '@xstate.event' && m.sessionId === session(rt.whereis('log')!) && mentions(m, 'hello from a worker'));
  t.deepEqual(
    toLog.map((m) => m.sourceId),
    [session(run.workers[0]!)],
  );
});
