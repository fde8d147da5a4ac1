/**
 * bench/registry: the Registry against a plain Map in the same run.
 *
 * - lookup latency of a unique key vs `Map.get` (target ≤ 3×; interleaved rounds, BENCH_ROUNDS)
 * - register + unregister pairs per second vs Map.set + Map.delete
 * - time to clean 100k entries of one exiting owner vs deleting 100k keys from a Map
 *
 * Run: npm run bench -- registry
 */
import { createRuntime, defineServer, registry, Registry, silentLogger, type Pid } from '../src/index.js';
import { interleaved, median, ratioRow, report, timeMs, type Row } from './lib.js';

const KEYS = 10_000;
const LOOKUPS = 1_000_000;
const PAIRS = 200_000;
const OWNED = 100_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const holder = defineServer<null>({ name: 'holder', init: () => ({ state: null }) });

const rt = createRuntime({ name: 'bench', logger: silentLogger });
await rt.start(registry({ name: 'Services', keys: 'unique' }));
const owners: Pid[] = [];
for (let i = 0; i < 100; i++) owners.push(rt.spawn(holder));
const map = new Map<string, { pid: Pid; value: unknown }>();
const keys = Array.from({ length: KEYS }, (_, i) => `service-${i}`);
keys.forEach((k, i) => {
  Registry.register(rt, 'Services', k, i, owners[i % owners.length]!);
  map.set(k, { pid: owners[i % owners.length]!, value: i });
});

let sink = 0;
const lookupSide = async () => {
  const ms = await timeMs(() => {
    for (let i = 0; i < LOOKUPS; i++) sink += Registry.lookup(rt, 'Services', keys[i % KEYS]!).length;
  });
  return (ms * 1e6) / LOOKUPS;
};
const mapSide = async () => {
  const ms = await timeMs(() => {
    for (let i = 0; i < LOOKUPS; i++) sink += map.get(keys[i % KEYS]!) ? 1 : 0;
  });
  return (ms * 1e6) / LOOKUPS;
};
// One warm-up each, then interleaved rounds: the ratio is the median of per-round ratios.
await lookupSide();
await mapSide();
const lookups = await interleaved(ROUNDS, { registry: lookupSide, map: mapSide });

const owner = owners[0]!;
// Distinct keys: V8's Map degrades to O(size) per operation when one key is deleted and set
// again in a loop, which would make the baseline measure that pathology instead of a Map.
const churnKeys = Array.from({ length: PAIRS }, (_, i) => `churn-${i}`);
const regPerSec = await median(5, async () => {
  const ms = await timeMs(() => {
    for (let i = 0; i < PAIRS; i++) {
      Registry.register(rt, 'Services', churnKeys[i], i, owner);
      Registry.unregister(rt, 'Services', churnKeys[i], owner);
    }
  });
  return PAIRS / (ms / 1000);
});
const mapPerSec = await median(5, async () => {
  const ms = await timeMs(() => {
    for (let i = 0; i < PAIRS; i++) {
      map.set(churnKeys[i]!, { pid: owner, value: i });
      map.delete(churnKeys[i]!);
    }
  });
  return PAIRS / (ms / 1000);
});

async function cleanupMs(): Promise<number> {
  const big = rt.spawn(holder);
  for (let i = 0; i < OWNED; i++) Registry.register(rt, 'Services', `owned-${i}`, i, big);
  const before = Registry.count(rt, 'Services');
  const ms = await timeMs(() => rt.exit(big, 'kill'));
  const after = Registry.count(rt, 'Services');
  if (before - after !== OWNED) throw new Error(`cleanup removed ${before - after}, expected ${OWNED}`);
  return ms;
}
function mapCleanupMs(): number {
  const m = new Map<string, number>();
  for (let i = 0; i < OWNED; i++) m.set(`owned-${i}`, i);
  const start = performance.now();
  for (let i = 0; i < OWNED; i++) m.delete(`owned-${i}`);
  return performance.now() - start;
}
await cleanupMs();
const cleanX = await median(3, cleanupMs);
const cleanB = await median(3, mapCleanupMs);
await rt.shutdown();
if (sink === -1) console.log(sink);

const rows: Row[] = [
  ratioRow('lookup (unique key)', lookups.registry, lookups.map, 'ns', { text: '≤ 3×', ok: (r) => r <= 3 }),
  { metric: 'register + unregister', xotp: regPerSec, baseline: mapPerSec, unit: 'pairs/s', ratio: regPerSec / mapPerSec },
  { metric: `clean ${OWNED / 1000}k entries of one exiting owner`, xotp: cleanX, baseline: cleanB, unit: 'ms', ratio: cleanX / cleanB },
];
report('registry', rows, { keys: KEYS, lookups: LOOKUPS });
