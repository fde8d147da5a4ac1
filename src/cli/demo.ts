import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkEnvironment,
  createRuntime,
  pool,
  poolHandle,
  pythonBridge,
  registry,
  supervisor,
  type Logger,
  type PoolStatus,
} from '../index.js';
import { formatTree, inspectTree, serveViewer, type Viewer } from '../inspect/index.js';
import { startChaosMonkey, type ChaosMonkey } from './chaosMonkey.js';
import { demoHandlers, type DemoOps } from './demoOps.js';
import { demoStats, type DemoCounts } from './demoStats.js';
import { DemoView, summaryLine, summaryTable, type DemoOutput, type DemoSummary } from './demoView.js';
import { leftoverPython } from './leftoverPython.js';
import { startLoad } from './loadGenerator.js';

/** The folder of `demo_handlers.py`: `examples/` beside `src/` in a checkout, beside `dist/` when installed. */
export const demoHandlersDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** How long the load runs, real ms. Default 10 000. */
  durationMs?: number;
  /** Pool size. Default 4. */
  workers?: number;
  /** Real ms between two kills of a random worker's Python process; null for no chaos. Default 500. */
  killEveryMs?: number | null;
  /** Serve the live viewer (its URL is printed) until the demo ends. */
  view?: boolean;
  /** Ends the load early (Ctrl-C): the demo still drains, shuts down and prints its summary. */
  signal?: AbortSignal;
  out?: DemoOutput;
}

/** What {@link runDemo} returns: the summary, and whether the environment let it run at all. */
export type DemoResult = { ran: true; summary: DemoSummary } | { ran: false; problems: string[] };

const POOL = 'py';
const REGISTRY = 'Demo';
const STATS = { via: REGISTRY, key: 'stats' } as const;
/** How long the demo waits for requests in flight once the load stops (each has a 5 s deadline). */
const DRAIN_LIMIT_MS = 15_000;

/**
 * The demo: a root supervisor with a registry, a stats server found through it and a pool of
 * Python workers with a retry policy; a load generator with and without sessions; a chaos monkey
 * SIGKILLing a random worker's Python process. Prints progress, then a summary table and, as its
 * last line, `demo: ... lost N ...`.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = options.out ?? process.stdout;
  const durationMs = options.durationMs ?? 10_000;
  const workers = options.workers ?? 4;
  const killEveryMs = options.killEveryMs === undefined ? 500 : options.killEveryMs;

  const env = await checkEnvironment({ module: 'demo_handlers', cwd: demoHandlersDir, handlers: [...demoHandlers] });
  if (!env.ok) return { ran: false, problems: env.problems.map((p) => `${p.message}\n  fix: ${p.hint}`) };

  // Crash reports of killed workers are the point of the demo, not noise to print over the frame.
  const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
  const runtime = createRuntime({ name: 'demo', logger });
  let supervisorRestarts = 0;
  runtime.events.on('supervisor.childStarted', (e) => {
    if (e.restart) supervisorRestarts++;
  });

  let viewer: Viewer | undefined;
  let chaos: ChaosMonkey | undefined;
  const view = new DemoView(out);
  try {
    await runtime.start(
      supervisor({
        strategy: 'one_for_one',
        maxRestarts: 3,
        maxSeconds: 5,
        children: [
          { id: 'names', start: registry({ name: REGISTRY, keys: 'unique', partitions: 1 }) },
          { id: 'stats', start: demoStats, name: STATS },
          {
            id: POOL,
            type: 'supervisor',
            start: pool({
              name: POOL,
              size: workers,
              worker: pythonBridge({ module: 'demo_handlers', cwd: demoHandlersDir, callTimeout: 5000 }),
              sessions: { ttl: 60_000 },
              retry: { maxAttempts: 5, backoff: { kind: 'exponential', baseDelay: 20, maxDelay: 500 } },
            }),
          },
        ],
      }),
      { name: 'demo' },
    );
    const py = poolHandle<DemoOps>(runtime, POOL);
    await py.ready();
    if (options.view) {
      viewer = await serveViewer(runtime);
      if (!out.isTTY) out.write(`viewer: ${viewer.url}\n`);
    }

    const load = startLoad({ runtime, py, stats: STATS, callers: 2 * workers, sessionCallers: workers });
    if (killEveryMs !== null) chaos = startChaosMonkey({ runtime, workers: `${POOL}.workers`, everyMs: killEveryMs });

    const loadStart = performance.now();
    let maxQueue = 0;
    // A killed worker is replaced by the pool (a new worker under `<pool>.workers`, started
    // once its predecessor's exit reached the manager); a crashed supervised child is restarted
    // by its supervisor. Both count as restarts.
    const restartsNow = (status: PoolStatus) => supervisorRestarts + Math.max(0, status.stats.started - workers);
    const frame = async (): Promise<number> => {
      const status = await py.status();
      maxQueue = Math.max(maxQueue, status.queued);
      const counts = await runtime.call<DemoCounts>(STATS, 'counts');
      view.update({
        elapsedMs: performance.now() - loadStart,
        durationMs,
        counts,
        kills: chaos?.kills() ?? 0,
        restarts: restartsNow(status),
        queue: status.queued,
        maxQueue,
        tree: formatTree(inspectTree(runtime)),
        ...(viewer ? { viewerUrl: viewer.url } : {}),
      });
      return restartsNow(status);
    };
    await runUntil(durationMs, options.signal, async () => void (await frame()));

    load.stop();
    await chaos?.stop();
    await settleWithin(load.drained, DRAIN_LIMIT_MS);
    const restarts = await frame();
    view.close();

    const status = await py.status();
    const counts = await runtime.call<DemoCounts>(STATS, 'counts');
    const neverSettled = load.inFlight();
    const summary: DemoSummary = {
      ...counts,
      lost: counts.lost + neverSettled + load.unreported(),
      anomalies: neverSettled > 0 ? [...counts.anomalies, `${neverSettled} request(s) never settled`] : counts.anomalies,
      workers,
      seconds: (performance.now() - loadStart) / 1000,
      retried: status.recovery?.succeeded ?? 0,
      retries: status.recovery?.retries ?? 0,
      kills: chaos?.kills() ?? 0,
      restarts,
      maxQueue,
      pythonLeft: 0,
    };
    await viewer?.close();
    viewer = undefined;
    await runtime.shutdown();
    summary.pythonLeft = leftoverPython([]).length;
    return { ran: true, summary };
  } finally {
    view.close();
    await chaos?.stop();
    await viewer?.close();
    await runtime.shutdown();
  }
}

/** Prints the summary table and, last, the `demo:` line. */
export function printSummary(summary: DemoSummary, out: DemoOutput = process.stdout): void {
  out.write(`\n${summaryTable(summary)}\n${summaryLine(summary)}\n`);
}

/** Calls `tick` every 100 ms of real time until `ms` have passed or `signal` fires. */
async function runUntil(ms: number, signal: AbortSignal | undefined, tick: () => Promise<void>): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end && !signal?.aborted) {
    await tick();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(100, Math.max(0, end - performance.now())));
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** Waits for `p`, at most `ms` of real time (requests that never settle must not hang the demo). */
async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
