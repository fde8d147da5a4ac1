/**
 * Takes the README's screenshot of the viewer (docs/viewer.png) in headless Chromium:
 *
 *     npx tsx test/browser/screenshot.ts [out.png]
 */
import { createRuntime, defineServer, dynamicSupervisor, registry, startChild, supervisor, circuitBreaker, silentLogger, type Pid } from '../../src/index.js';
import { serveViewer } from '../../src/inspect/index.js';
import { launchChromium } from './chromium.js';

const worker = defineServer<null, undefined, unknown, unknown, 'crash'>({
  name: 'worker',
  init: () => ({ state: null }),
  handleCast: () => {
    throw new Error('boom');
  },
});

const out = process.argv[2] ?? 'docs/viewer.png';
const runtime = createRuntime({ name: 'app', logger: silentLogger });
await runtime.start(
  supervisor({
    children: [
      { id: 'services', start: registry({ name: 'Services', keys: 'unique', partitions: 2 }) },
      { id: 'payments', name: 'payments', start: circuitBreaker({ name: 'payments', failureThreshold: 3 }) },
      { id: 'cache', name: 'cache', start: worker },
      { id: 'jobs', name: 'jobs', start: dynamicSupervisor({ label: 'jobs', maxRestarts: 100 }) },
    ],
  }),
  { name: 'app' },
);
const pids: Pid[] = [];
for (let i = 0; i < 8; i++) pids.push(((await startChild(runtime, 'jobs', { start: worker })) as { pid: Pid }).pid);
// Started before the crashes: a node's history is what the viewer saw since it started.
const viewer = await serveViewer(runtime);
let crashed = pids[2]!;
for (let n = 0; n < 2; n++) {
  const restarted = new Promise<Pid>((resolve) => runtime.events.once('supervisor.childStarted', (e) => resolve(e.pid)));
  runtime.cast(crashed, 'crash');
  crashed = await restarted;
}

const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 600 });
  await page.goto(viewer.url);
  const id = runtime.info(crashed)!.id;
  await page.waitForSelector(`.node[data-id="${id}"] .badge[data-restarts="2"]`, { timeout: 60_000 });
  await page.locator(`.node[data-id="${id}"] circle`).click();
  await page.waitForSelector('#detail-table', { timeout: 60_000 });
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await viewer.close();
  await runtime.shutdown();
}
