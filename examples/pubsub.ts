/**
 * Local pub/sub with a duplicate Registry and `dispatch` (the example from Elixir's Registry
 * docs): subscribers are servers that register themselves under each topic they follow; a
 * publisher dispatches to whoever is registered under the topic right now. A subscriber that
 * exits is dropped from every topic by the registry; its supervisor restarts it and it
 * subscribes again in its `init`.
 *
 * The tree (rest_for_one: if the registry itself restarts, the subscribers' supervisor is
 * restarted after it, empty as a restarted dynamic supervisor is, so no subscriber is left
 * believing it is registered in a registry that has forgotten it):
 *
 *   pubsub-app
 *   ├── pubsub        registry({ name: 'PubSub', keys: 'duplicate' })
 *   └── subscribers   dynamicSupervisor, named 'Subscribers'
 *
 * Run: npx tsx examples/pubsub.ts
 */
import {
  createRuntime,
  consoleLogger,
  defineServer,
  dynamicSupervisor,
  registry,
  startChild,
  supervisor,
  Registry,
  type Pid,
  type Runtime,
} from '../src/index.js';

/** The registry's name. */
export const PUBSUB = 'PubSub';
/** The dynamic supervisor's name. */
export const SUBSCRIBERS = 'Subscribers';

/** What a subscriber receives. */
export interface Delivery {
  topic: string;
  payload: unknown;
}

export interface SubscriberInput {
  /** A label, stored as the value of each registration (what `dispatch` sees). */
  label: string;
  topics: string[];
}

interface SubscriberState {
  label: string;
  received: Delivery[];
}

export type SubscriberCall = 'received' | 'topics' | { subscribe: string } | { unsubscribe: string };

/**
 * A subscriber: registers under its topics in `init`, keeps what it receives, and answers
 * `'received'`, `'topics'`, `{ subscribe }` and `{ unsubscribe }` calls.
 */
export const subscriber = defineServer<SubscriberState, SubscriberInput, SubscriberCall, unknown, Delivery>({
  name: 'subscriber',
  init: ({ label, topics }, ctx) => {
    for (const topic of topics) Registry.register(ctx.runtime, PUBSUB, topic, label, ctx.self);
    return { state: { label, received: [] } };
  },
  handleCall: (req, _from, state, ctx) => {
    if (req === 'received') return { reply: state.received };
    if (req === 'topics') return { reply: Registry.keys(ctx.runtime, PUBSUB, ctx.self) };
    if ('subscribe' in req) {
      // A topic is followed once, however often one subscribes to it.
      if (Registry.values(ctx.runtime, PUBSUB, req.subscribe, ctx.self).length === 0) {
        Registry.register(ctx.runtime, PUBSUB, req.subscribe, state.label, ctx.self);
      }
      return { reply: 'ok' };
    }
    Registry.unregister(ctx.runtime, PUBSUB, req.unsubscribe, ctx.self);
    return { reply: 'ok' };
  },
  handleCast: (delivery, state) => ({ state: { ...state, received: [...state.received, delivery] } }),
});

/** The application: the registry, then a dynamic supervisor for the subscribers. */
export function pubsubApp(options: { partitions?: number } = {}) {
  return supervisor({
    strategy: 'rest_for_one',
    children: [
      { id: 'pubsub', start: registry({ name: PUBSUB, keys: 'duplicate', partitions: options.partitions ?? 1 }) },
      { id: 'subscribers', start: dynamicSupervisor(), name: SUBSCRIBERS },
    ],
  });
}

/** Starts a (permanent) subscriber under the app's dynamic supervisor; resolves with its pid. */
export async function subscribe(rt: Runtime, label: string, topics: string[]): Promise<Pid> {
  const res = await startChild(rt, SUBSCRIBERS, { start: subscriber, input: { label, topics } satisfies SubscriberInput });
  if (!res.ok || res.pid === undefined) throw new Error(`subscriber ${label} did not start: ${JSON.stringify(res)}`);
  return res.pid;
}

/**
 * Publishes `payload` on `topic` to every current subscriber (one `dispatch`; the callback runs
 * once per registry partition holding subscribers). Returns how many subscribers it reached.
 */
export function publish(rt: Runtime, topic: string, payload: unknown): number {
  let delivered = 0;
  Registry.dispatch<string>(rt, PUBSUB, topic, (subscribers) => {
    for (const { pid } of subscribers) {
      rt.cast(pid, { topic, payload } satisfies Delivery);
      delivered++;
    }
  });
  return delivered;
}

/** The labels subscribed to `topic`, sorted. */
export function subscribersOf(rt: Runtime, topic: string): string[] {
  return Registry.lookup<string>(rt, PUBSUB, topic)
    .map((e) => e.value)
    .sort();
}

/** What `main` did, for the test. */
export interface PubSubSummary {
  delivered: Record<string, number>;
  received: Record<string, Delivery[]>;
  newsAfterRestart: string[];
  newsAfterUnsubscribe: string[];
}

/**
 * The walkthrough. Runs on `runtime` if given (a test runtime), else on a fresh one that it shuts
 * down at the end.
 */
export async function main(runtime?: Runtime, log: (line: string) => void = console.log): Promise<PubSubSummary> {
  const rt = runtime ?? createRuntime({ name: 'pubsub', logger: consoleLogger('error', '  [log]') });
  await rt.start(pubsubApp({ partitions: 4 }), { name: 'pubsub-app' });

  const alice = await subscribe(rt, 'alice', ['news', 'sports']);
  const bob = await subscribe(rt, 'bob', ['news']);
  const carol = await subscribe(rt, 'carol', ['weather']);
  log(`subscribers: news=${subscribersOf(rt, 'news')} sports=${subscribersOf(rt, 'sports')} weather=${subscribersOf(rt, 'weather')}`);

  const delivered: Record<string, number> = {};
  for (const [topic, payload] of [['news', 'xotp 0.1 released'], ['sports', '3-2'], ['weather', 'sunny'], ['tech', 'nobody listens']] as const) {
    delivered[topic] = publish(rt, topic, payload);
    log(`publish ${topic}: reached ${delivered[topic]} subscriber(s)`);
  }
  const received: Record<string, Delivery[]> = {};
  for (const [label, pid] of [['alice', alice], ['bob', bob], ['carol', carol]] as const) {
    received[label] = await rt.call<Delivery[]>(pid, 'received');
    log(`  ${label} got ${received[label]!.map((d) => `${d.topic}: ${String(d.payload)}`).join(', ')}`);
  }

  log('killing bob: the registry drops him, his supervisor restarts him, he subscribes again');
  const restarted = new Promise<void>((resolve) => {
    const onStarted = (e: { restart: boolean }) => {
      if (!e.restart) return;
      rt.events.off('supervisor.childStarted', onStarted);
      resolve();
    };
    rt.events.on('supervisor.childStarted', onStarted);
  });
  rt.exit(bob, 'kill');
  await restarted;
  const newsAfterRestart = subscribersOf(rt, 'news');
  log(`  news subscribers: ${newsAfterRestart}`);

  const newBob = Registry.lookup<string>(rt, PUBSUB, 'news').find((e) => e.value === 'bob')!.pid;
  await rt.call(newBob, { unsubscribe: 'news' });
  const newsAfterUnsubscribe = subscribersOf(rt, 'news');
  log(`bob unsubscribed from news: ${newsAfterUnsubscribe}; publish news reaches ${publish(rt, 'news', 'bob misses this')}`);

  if (runtime === undefined) {
    await rt.shutdown();
    log(`shut down; ${rt.stats().alive} processes alive`);
  }
  return { delivered, received, newsAfterRestart, newsAfterUnsubscribe };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
