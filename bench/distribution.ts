/**
 * bench/distribution: a remote call between two nodes over NATS against NATS itself, in the
 * same run and on the same private `nats-server` (127.0.0.1, started here, stopped at the end).
 *
 * - remote `runtime.call` round trip, node A → a server process on node B (two runtimes in this
 *   process, each on its own NATS connection) vs nats.js `request` against a `subscribe` that
 *   responds, on two connections too, with the same payload (target ≤ 1.3×)
 * - remote `Pool.run` (`remotePool`, a pool of one Python worker served by node B) vs `Pool.run`
 *   on node B itself, the same pool and worker (no target: it is the local run plus one round
 *   trip), and that difference beside the raw NATS round trip
 *
 * Sides take turns call by call (who goes first alternates) within each round (BENCH_ROUNDS,
 * default 3; calls per side BENCH_DIST_CALLS, default 2000, and BENCH_DIST_POOL_CALLS, default
 * 1000): a machine shared with nats-server swings single-sided runs by 1.5×. Each ratio is the median of the per-round ratios, printed
 * with its range. Skipped with a note when nats-server is not installed.
 *
 * Run: npm run bench -- distribution
 */
import { connect } from '@nats-io/transport-node';
import { createRuntime, defineServer, pool, Pool, pythonBridge, silentLogger, type Pid } from '../src/index.js';
import { connectNats, remotePool, servePool } from '../src/cluster/index.js';
import { findNatsServer, startNatsServer } from '../src/testing/index.js';
import { med, percentile, ratioRow, report, type Row } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CALLS = Number(process.env.BENCH_DIST_CALLS ?? 2000);
const POOL_CALLS = Number(process.env.BENCH_DIST_POOL_CALLS ?? 1000);

const bin = findNatsServer();
if (bin === undefined) {
  console.log('bench/distribution: nats-server is not installed (apt-get install nats-server): skipped');
  report('distribution', [], { skipped: 'nats-server not installed' });
  process.exit(0);
}

const nats = await startNatsServer({ bin, jetstream: false });
try {
  const rows: Row[] = [];
  const payload = { text: 'x'.repeat(80), n: 42 };

  // The baseline: the NATS client alone, requester and responder on separate connections.
  const requester = await connect({ servers: nats.url });
  const responder = await connect({ servers: nats.url });
  responder.subscribe('bench.echo', {
    callback: (err, msg) => {
      if (err === null) msg.respond(msg.data);
    },
  });
  await responder.flush();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const raw = async () => JSON.parse(decoder.decode((await requester.request('bench.echo', encoder.encode(JSON.stringify(payload)), { timeout: 5000 })).data)) as unknown;

  const a = createRuntime({ name: 'a', logger: silentLogger, transport: await connectNats({ servers: nats.url, cluster: 'bench' }) });
  const b = createRuntime({ name: 'b', logger: silentLogger, transport: await connectNats({ servers: nats.url, cluster: 'bench' }) });
  const echo = defineServer<null, undefined, unknown, unknown>({ name: 'echo', init: () => ({ state: null }), handleCall: (req, _from, state) => ({ reply: req, state }) });
  const onB = (await b.start(echo)) as Pid;
  const remote = () => a.call(onB, payload, { timeout: 5000 });

  /**
   * One round: `n` calls of each side, taking turns call by call (who goes first alternates),
   * so both see the same moment of a machine shared with nats-server; returns each side's p50 (µs).
   */
  const round = async (x: () => Promise<unknown>, y: () => Promise<unknown>, n: number): Promise<[number, number]> => {
    for (let i = 0; i < 50; i++) await Promise.all([x(), y()]);
    const xs: number[] = [];
    const ys: number[] = [];
    const time = async (call: () => Promise<unknown>, into: number[]) => {
      const t0 = performance.now();
      await call();
      into.push((performance.now() - t0) * 1000);
    };
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) {
        await time(x, xs);
        await time(y, ys);
      } else {
        await time(y, ys);
        await time(x, xs);
      }
    }
    const p50 = (v: number[]) => percentile(v.sort((p, q) => p - q), 50);
    return [p50(xs), p50(ys)];
  };
  const rounds = async (x: () => Promise<unknown>, y: () => Promise<unknown>, n: number) => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const [px, py] = await round(x, y, n);
      xs.push(px);
      ys.push(py);
    }
    return { xs, ys };
  };

  const calls = await rounds(remote, raw, CALLS);
  rows.push(ratioRow('remote call p50 (A → process on B)', calls.xs, calls.ys, 'µs', { text: '≤ 1.3× NATS request', ok: (r) => r <= 1.3 }));

  // A pool on B, served to the cluster; A reaches it through the queue group. The baseline is
  // Pool.run on B itself: the same pool and Python worker, so the ratio is what the trip adds.
  const worker = pythonBridge({ module: 'xotp_bridge.examples', maxPending: 4096 });
  await b.start(pool({ name: 'py', size: 1, worker }));
  await Pool.ready(b, 'py');
  const served = servePool(b, 'py');
  await served.ready;
  const py = remotePool(a, 'py');
  const pools = await rounds(
    () => py.run('echo', payload, { timeout: 5000 }),
    () => Pool.run(b, 'py', 'echo', payload, { timeout: 5000 }),
    POOL_CALLS,
  );
  rows.push(ratioRow('remote Pool.run p50 vs Pool.run on the pool node', pools.xs, pools.ys, 'µs'));
  rows.push({ metric: 'remote Pool.run p50 minus local (the trip)', xotp: med(pools.xs) - med(pools.ys), baseline: med(calls.ys), unit: 'µs', ratio: (med(pools.xs) - med(pools.ys)) / med(calls.ys) });
  served.close();

  report('distribution', rows, { calls: CALLS, poolCalls: POOL_CALLS, rounds: ROUNDS });
  await a.shutdown();
  await b.shutdown();
  await requester.close();
  await responder.close();
} finally {
  await nats.stop();
}
