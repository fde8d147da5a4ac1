/**
 * bench/kernel: the runtime kernel against raw xstate in the same run.
 *
 * - cast throughput to a server vs `actor.send` on a raw `fromTransition` actor (target ≥ 0.7×),
 *   and vs a minimal hand-written ActorLogic (fromTransition spreads its snapshot per event)
 * - call throughput (1000 in flight) vs a raw actor answering a promise-carrying event
 * - spawn time per process for 100k processes vs raw `createActor(...).start()`
 * - heap per idle server process for 100k processes (target ≤ 3 KB) vs a raw actor
 *
 * Run: npm run bench (or node --expose-gc --import tsx bench/kernel.ts)
 */
import { createActor, fromTransition, type AnyActorRef } from 'xstate';
import { createRuntime, defineServer, silentLogger, type Pid } from '../src/index.js';
import { median, timeMs, heapPerItem, report, type Row } from './lib.js';

const CASTS = 200_000;
const CALLS = 50_000;
const IN_FLIGHT = 1000;
const SPAWNS = 100_000;
const ROUNDS = 5;

const counterServer = defineServer<number, number, 'get', number, 'inc'>({
  name: 'counter',
  init: (n) => ({ state: n }),
  handleCast: (_msg, n) => ({ state: n + 1 }),
  handleCall: (_req, _from, n) => ({ reply: n }),
});

type RawEvent = { type: 'inc' } | { type: 'get'; resolve: (n: number) => void };
const rawCounter = fromTransition((n: number, event: RawEvent) => {
  if (event.type === 'inc') return n + 1;
  if (event.type === 'get') event.resolve(n);
  return n;
}, 0);

// fromTransition copies its snapshot with a spread on every event; this minimal logic does not,
// so it shows what xstate's send path alone costs (a stricter baseline than the issue's).
const minimalCounter = {
  config: undefined,
  transition: (s: { status: 'active'; output: undefined; error: undefined; context: number }, e: { type: string }) =>
    e.type === 'inc' ? { status: 'active' as const, output: undefined, error: undefined, context: s.context + 1 } : s,
  getInitialSnapshot: () => ({ status: 'active' as const, output: undefined, error: undefined, context: 0 }),
  getPersistedSnapshot: (s: unknown) => s,
};

/** Casts per second to a server, and `actor.send` per second to a raw actor of `baseline`. */
async function castAgainst(baseline: typeof rawCounter): Promise<[number, number]> {
  const runtime = createRuntime({ name: 'bench', logger: silentLogger });
  const pid = runtime.spawn(counterServer, { input: 0 });
  const raw = createActor(baseline).start();
  const inc = { type: 'inc' } as const;
  const rate = async (send: () => void) =>
    median(ROUNDS, async () => {
      const ms = await timeMs(() => {
        for (let i = 0; i < CASTS; i++) send();
      });
      return CASTS / (ms / 1000);
    });
  const xotp = await rate(() => runtime.cast(pid, 'inc'));
  const base = await rate(() => raw.send(inc));
  raw.stop();
  await runtime.shutdown();
  return [xotp, base];
}

async function callThroughput(): Promise<[number, number]> {
  const runtime = createRuntime({ name: 'bench', logger: silentLogger });
  const pid = runtime.spawn(counterServer, { input: 0 });
  const raw = createActor(rawCounter).start();
  const xotp = await median(ROUNDS, async () => {
    const ms = await timeMs(async () => {
      for (let done = 0; done < CALLS; done += IN_FLIGHT) {
        const batch: Promise<number>[] = [];
        for (let i = 0; i < IN_FLIGHT; i++) batch.push(runtime.call<number>(pid, 'get'));
        await Promise.all(batch);
      }
    });
    return CALLS / (ms / 1000);
  });
  const base = await median(ROUNDS, async () => {
    const ms = await timeMs(async () => {
      for (let done = 0; done < CALLS; done += IN_FLIGHT) {
        const batch: Promise<number>[] = [];
        for (let i = 0; i < IN_FLIGHT; i++) batch.push(new Promise<number>((resolve) => raw.send({ type: 'get', resolve })));
        await Promise.all(batch);
      }
    });
    return CALLS / (ms / 1000);
  });
  raw.stop();
  await runtime.shutdown();
  return [xotp, base];
}

async function spawnCost(): Promise<[number, number]> {
  const xotp = await median(3, async () => {
    const runtime = createRuntime({ name: 'bench', logger: silentLogger });
    const ms = await timeMs(() => {
      for (let i = 0; i < SPAWNS; i++) runtime.spawn(counterServer, { input: 0 });
    });
    await runtime.shutdown({ timeout: 'infinity' });
    return (ms * 1000) / SPAWNS;
  });
  const base = await median(3, async () => {
    const root = createActor(rawCounter).start();
    const actors: AnyActorRef[] = [];
    const ms = await timeMs(() => {
      for (let i = 0; i < SPAWNS; i++) actors.push(createActor(rawCounter, { parent: root, id: `bench/raw-${i}` }).start());
    });
    root.stop();
    return (ms * 1000) / SPAWNS;
  });
  return [xotp, base];
}

async function heapCost(): Promise<[number, number]> {
  const runtime = createRuntime({ name: 'bench', logger: silentLogger });
  const xotp = heapPerItem(SPAWNS, (n) => {
    const pids: Pid[] = [];
    for (let i = 0; i < n; i++) pids.push(runtime.spawn(counterServer, { input: 0 }));
    return pids;
  });
  // Pids alone are part of what a caller holds, not of the process; the table keeps them anyway.
  await runtime.shutdown({ timeout: 'infinity' });
  const root = createActor(rawCounter).start();
  const base = heapPerItem(SPAWNS, (n) => {
    const actors: AnyActorRef[] = [];
    for (let i = 0; i < n; i++) actors.push(createActor(rawCounter, { parent: root, id: `bench/raw-${i}` }).start());
    return actors;
  });
  root.stop();
  void xotp.keep;
  void base.keep;
  return [xotp.bytes, base.bytes];
}

const rows: Row[] = [];
const [castX, castB] = await castAgainst(rawCounter);
rows.push({ metric: 'cast throughput', xotp: castX, baseline: castB, unit: 'msg/s', ratio: castX / castB, target: '≥ 0.70×', pass: castX / castB >= 0.7 });
const [castMX, castMB] = await castAgainst(minimalCounter as unknown as typeof rawCounter);
rows.push({ metric: 'cast throughput vs minimal logic', xotp: castMX, baseline: castMB, unit: 'msg/s', ratio: castMX / castMB });
const [callX, callB] = await callThroughput();
rows.push({ metric: `call throughput (${IN_FLIGHT} in flight)`, xotp: callX, baseline: callB, unit: 'call/s', ratio: callX / callB });
const [spawnX, spawnB] = await spawnCost();
rows.push({ metric: `spawn time (${SPAWNS / 1000}k)`, xotp: spawnX, baseline: spawnB, unit: 'µs/proc', ratio: spawnX / spawnB });
const [heapX, heapB] = await heapCost();
rows.push({ metric: `heap per idle process (${SPAWNS / 1000}k)`, xotp: heapX, baseline: heapB, unit: 'B', ratio: heapX / heapB, target: '≤ 3072 B', pass: heapX <= 3072 });
report('kernel', rows);
