/**
 * bench/supervisor: restarts against a bare xstate parent in the same run.
 *
 * - crash → restarted latency: crash a child, wait for its DOWN, wait until whichChildren shows
 *   the new pid; p50/p99 over many restarts (real OTP 25 takes ~160 µs per restart in this loop)
 * - restarts per second in that loop
 * - time to start a supervisor with 10k children
 * Baseline: a bare xstate parent machine doing stopChild + spawnChild of the same child, and
 * spawning 10k children in one action.
 *
 * Run: npm run bench -- supervisor
 */
import { createActor, setup, spawnChild, stopChild, type AnyActorRef } from 'xstate';
import {
  createRuntime,
  defineServer,
  silentLogger,
  supervisor,
  whichChildren,
  type Pid,
} from '../src/index.js';
import { percentile, report, timeMs, type Row } from './lib.js';

const RESTARTS = 3000;
const WARMUP = 300;
const CHILDREN = 10_000;

const crasher = defineServer<null, undefined, 'ping', string, 'crash'>({
  name: 'crasher',
  init: () => ({ state: null }),
  handleCall: () => ({ reply: 'pong' }),
  handleCast: () => {
    throw new Error('crashed_on_demand');
  },
});

async function xotpRestartLatencies(n: number): Promise<number[]> {
  const rt = createRuntime({ name: 'bench', logger: silentLogger });
  await rt.start(
    supervisor({ maxRestarts: 1_000_000_000, maxSeconds: 1, children: [{ id: 'crasher', start: crasher }] }),
    { name: 'sup' },
  );
  const out: number[] = [];
  let current = (await whichChildren(rt, 'sup'))[0]!.pid as Pid;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const down = new Promise<void>((resolve) => rt.monitor(current, () => resolve()));
    const started = new Promise<void>((resolve) => rt.events.once('supervisor.childStarted', () => resolve()));
    rt.cast(current, 'crash');
    await down;
    await started;
    const row = (await whichChildren(rt, 'sup'))[0]!;
    if (row.pid === undefined || row.pid === 'restarting' || row.pid.id === current.id) throw new Error('not restarted');
    current = row.pid;
    out.push((performance.now() - t0) * 1000);
  }
  await rt.shutdown();
  return out;
}

const rawChild = setup({}).createMachine({ id: 'child' });
const rawParent = setup({ actors: { rawChild } }).createMachine({
  id: 'parent',
  entry: spawnChild('rawChild', { id: 'c' }),
  on: { restart: { actions: [stopChild('c'), spawnChild('rawChild', { id: 'c' })] } },
});

function rawRestartLatencies(n: number): number[] {
  const parent = createActor(rawParent).start();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = parent.getSnapshot().children.c as AnyActorRef;
    const t0 = performance.now();
    parent.send({ type: 'restart' });
    const after = parent.getSnapshot().children.c as AnyActorRef;
    if (after === before) throw new Error('raw child not restarted');
    out.push((performance.now() - t0) * 1000);
  }
  parent.stop();
  return out;
}

async function xotpStartMany(): Promise<number> {
  const rt = createRuntime({ name: 'bench', logger: silentLogger });
  const children = Array.from({ length: CHILDREN }, (_, i) => ({ id: `c${i}`, start: crasher }));
  const logic = supervisor({ children });
  const ms = await timeMs(() => rt.start(logic));
  await rt.shutdown({ timeout: 'infinity' });
  return ms;
}

const rawMany = setup({ actors: { rawChild } }).createMachine({
  id: 'many',
  entry: Array.from({ length: CHILDREN }, (_, i) => spawnChild('rawChild', { id: `c${i}` })),
});

async function rawStartMany(): Promise<number> {
  const ms = await timeMs(() => {
    const a = createActor(rawMany).start();
    a.stop();
  });
  return ms;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
await xotpRestartLatencies(WARMUP);
rawRestartLatencies(WARMUP);
const x = sorted(await xotpRestartLatencies(RESTARTS));
const r = sorted(rawRestartLatencies(RESTARTS));
const xMean = x.reduce((a, b) => a + b, 0) / x.length;
const rMean = r.reduce((a, b) => a + b, 0) / r.length;
await xotpStartMany();
await rawStartMany();
const startX = Math.min(await xotpStartMany(), await xotpStartMany());
const startR = Math.min(await rawStartMany(), await rawStartMany());

const rows: Row[] = [
  { metric: 'crash → restarted p50', xotp: percentile(x, 50), baseline: percentile(r, 50), unit: 'µs', ratio: percentile(x, 50) / percentile(r, 50), target: '≤ 160 µs (OTP 25)', pass: percentile(x, 50) <= 160 },
  { metric: 'crash → restarted p99', xotp: percentile(x, 99), baseline: percentile(r, 99), unit: 'µs', ratio: percentile(x, 99) / percentile(r, 99) },
  { metric: 'restarts per second', xotp: 1e6 / xMean, baseline: 1e6 / rMean, unit: '/s', ratio: rMean / xMean },
  { metric: `start supervisor with ${CHILDREN / 1000}k children`, xotp: startX, baseline: startR, unit: 'ms', ratio: startX / startR },
];
report('supervisor', rows, { restarts: RESTARTS, children: CHILDREN });
