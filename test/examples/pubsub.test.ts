import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Registry, whichChildren, type Pid } from '../../src/index.js';
import { main, pubsubApp, publish, subscribe, subscribersOf, PUBSUB, type Delivery } from '../../examples/pubsub.js';

test('examples/pubsub: the walkthrough runs on a test runtime', async (t) => {
  await using rt = createTestRuntime({ name: 'pubsub' });
  const lines: string[] = [];
  const summary = await main(rt, (l) => lines.push(l));
  t.deepEqual(summary.delivered, { news: 2, sports: 1, weather: 1, tech: 0 });
  t.deepEqual(summary.received.alice!.map((d) => d.topic), ['news', 'sports']);
  t.deepEqual(summary.received.bob, [{ topic: 'news', payload: 'xotp 0.1 released' }]);
  t.deepEqual(summary.received.carol, [{ topic: 'weather', payload: 'sunny' }]);
  t.deepEqual(summary.newsAfterRestart, ['alice', 'bob'], 'the restarted bob subscribed again');
  t.deepEqual(summary.newsAfterUnsubscribe, ['alice']);
  t.true(lines.some((l) => l.includes('publish tech: reached 0')));
});

for (const partitions of [1, 8]) {
  test(`examples/pubsub: a publish reaches each current subscriber of the topic exactly once [${partitions} partition(s)]`, async (t) => {
    await using rt = createTestRuntime();
    await rt.start(pubsubApp({ partitions }));
    const labels = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const subs = new Map<string, Pid>();
    for (const [i, label] of labels.entries()) subs.set(label, await subscribe(rt, label, i % 2 === 0 ? ['even', 'all'] : ['odd', 'all']));
    t.is(Registry.count(rt, PUBSUB), 20);

    t.is(publish(rt, 'all', 1), 10);
    t.is(publish(rt, 'even', 2), 5);
    t.is(publish(rt, 'nobody', 3), 0, 'a topic without subscribers: nothing sent');
    await rt.flush();
    for (const [i, label] of labels.entries()) {
      const got = await rt.call<Delivery[]>(subs.get(label)!, 'received');
      t.deepEqual(got, i % 2 === 0 ? [{ topic: 'all', payload: 1 }, { topic: 'even', payload: 2 }] : [{ topic: 'all', payload: 1 }], label);
    }
  });
}

test('examples/pubsub: subscribe and unsubscribe at run time; subscribing twice follows a topic once', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pubsubApp());
  const a = await subscribe(rt, 'a', []);
  t.deepEqual(await rt.call(a, 'topics'), []);
  await rt.call(a, { subscribe: 'news' });
  await rt.call(a, { subscribe: 'news' });
  t.deepEqual(await rt.call(a, 'topics'), ['news']);
  t.is(publish(rt, 'news', 'one'), 1);
  await rt.call(a, { unsubscribe: 'news' });
  t.is(publish(rt, 'news', 'two'), 0);
  t.deepEqual(await rt.call(a, 'received'), [{ topic: 'news', payload: 'one' }]);
});

test('examples/pubsub: a subscriber that exits is dropped at once; its supervisor restarts it and it subscribes again', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pubsubApp({ partitions: 4 }));
  const a = await subscribe(rt, 'a', ['news']);
  await subscribe(rt, 'b', ['news']);
  const gone = rt.exited(a);
  rt.exit(a, 'kill');
  t.is(await gone, 'killed');
  await rt.flush();
  t.deepEqual(subscribersOf(rt, 'news'), ['a', 'b'], 'the restarted a is back');
  const newA = Registry.lookup<string>(rt, PUBSUB, 'news').find((e) => e.value === 'a')!.pid;
  t.not(String(newA), String(a));
  t.is(publish(rt, 'news', 'x'), 2, 'the dead pid is not dispatched to');
  await rt.flush();
  t.deepEqual(await rt.call(newA, 'received'), [{ topic: 'news', payload: 'x' }]);
});

test("examples/pubsub: rest_for_one: when the registry restarts, the subscribers' supervisor restarts after it (empty) and the fresh registry works", async (t) => {
  await using rt = createTestRuntime();
  const app = (await rt.start(pubsubApp())) as Pid;
  await subscribe(rt, 'a', ['news']);
  const before = await whichChildren(rt, app);
  const reg = before.find((c) => c.id === 'pubsub')!.pid as Pid;
  rt.exit(reg, 'kill');
  await rt.flush();
  const after = await whichChildren(rt, app);
  t.not(String(after.find((c) => c.id === 'pubsub')!.pid), String(reg), 'a new registry');
  t.not(String(after.find((c) => c.id === 'subscribers')!.pid), String(before.find((c) => c.id === 'subscribers')!.pid), 'and new subscribers supervisor');
  // A dynamic supervisor restarted by its parent starts empty (OTP), so subscribers are gone; the
  // registry is usable and empty.
  t.deepEqual(subscribersOf(rt, 'news'), []);
  t.is(publish(rt, 'news', 'x'), 0);
  await subscribe(rt, 'a', ['news']);
  t.is(publish(rt, 'news', 'y'), 1);
});
