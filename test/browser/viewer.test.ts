import test from 'ava';
import { mkdirSync } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { createTestRuntime } from '../../src/testing/index.js';
import { defineServer, dynamicSupervisor, startChild, supervisor, type Pid } from '../../src/index.js';
import { serveViewer } from '../../src/inspect/index.js';
import { launchChromium } from './chromium.js';

const worker = defineServer<null, undefined, 'get', null, 'crash'>({
  name: 'worker',
  init: () => ({ state: null }),
  handleCall: (_req, _from, s) => ({ reply: s }),
  handleCast: () => {
    throw new Error('boom');
  },
});

/** What the page keeps in `window.__xotpViewer` (see viewerPage.ts). */
interface PageState {
  updates: number;
  times: number[];
}

// Real browser, real HTTP server: every wait below is for a condition on the page, with a
// generous timeout, never a guessed delay.
const WAIT = { timeout: 60_000, polling: 50 } as const;

test.serial('in headless Chromium the viewer draws 50 workers under their parent, shows a restart badge change, and a crash loop of ~1000 restarts/s arrives as at most 10 updates a second', async (t) => {
  t.timeout(180_000);
  await using rt = createTestRuntime({ name: 'app' });
  await rt.start(
    supervisor({
      children: [
        { id: 'jobs', name: 'jobs', start: dynamicSupervisor({ label: 'jobs', maxRestarts: 1_000_000, maxSeconds: 1 }) },
        { id: 'loop', name: 'loop', start: dynamicSupervisor({ label: 'loop', maxRestarts: 1_000_000, maxSeconds: 1 }) },
      ],
    }),
    { name: 'app' },
  );
  const pids: Pid[] = [];
  for (let i = 0; i < 50; i++) pids.push(((await startChild(rt, 'jobs', { start: worker })) as { pid: Pid }).pid);

  const viewer = await serveViewer(rt);
  t.teardown(() => viewer.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.goto(viewer.url);

  // Every node, each under its right parent.
  await page.waitForFunction("document.querySelectorAll('.node').length === 54", undefined, WAIT);
  const nodes = await page.$$eval('.node', (els) => els.map((e) => [e.getAttribute('data-id'), e.getAttribute('data-parent'), e.getAttribute('data-pid')]));
  const expected = [
    ['app', '', '<app.0>'],
    ['app/app', 'app', String(rt.whereis('app'))],
    ['app/app/jobs', 'app/app', String(rt.whereis('jobs'))],
    ...pids.map((p) => [`app/app/jobs/worker-${p.id}`, 'app/app/jobs', String(p)]),
    ['app/app/loop', 'app/app', String(rt.whereis('loop'))],
  ];
  t.deepEqual(
    nodes.sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    expected.sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );

  // A crash: the child comes back under the same id, and its badge says so; a second crash changes it.
  const crashed = `app/app/jobs/worker-${pids[7]!.id}`;
  t.is(await page.locator(`.node[data-id="${crashed}"] .badge`).count(), 0, 'no badge before any restart');
  let current = pids[7]!;
  for (const n of [1, 2]) {
    const restarted = rt.trace.next('supervisor.childStarted', (e) => e.restart && e.restarts === n && e.id === `worker-${pids[7]!.id}`);
    rt.cast(current, 'crash');
    current = (await restarted).pid;
    await page.waitForSelector(`.node[data-id="${crashed}"][data-pid="${String(current)}"] .badge[data-restarts="${n}"]`, { timeout: 60_000 });
    t.is(await page.locator(`.node[data-id="${crashed}"] .badge text`).textContent(), `↻ ${n}`);
  }
  // Its details: state, links, recent exits with their reasons, lifecycle history.
  await page.locator(`.node[data-id="${crashed}"] circle`).click();
  await page.waitForSelector('#detail-table', { timeout: 60_000 });
  const details = await page.locator('#details').innerText();
  t.regex(details, /state\s+running/);
  t.regex(details, new RegExp(`links\\s+${String(rt.whereis('jobs')).replace(/[.<>]/g, '\\$&')}`));
  t.regex(details, /recent exits[\s\S]*Error: boom[\s\S]*Error: boom/);
  t.regex(details, /history[\s\S]*restarted <app\.\d+>: restart 2, replaces <app\.\d+>/);
  mkdirSync('.artifacts', { recursive: true });
  await page.screenshot({ path: '.artifacts/viewer.png', fullPage: true });

  // A crash loop at about 1000 restarts a second for 2 seconds.
  const looper = ((await startChild(rt, 'loop', { start: worker })) as { pid: Pid }).pid;
  const loopId = `app/app/loop/worker-${looper.id}`;
  await page.waitForSelector(`.node[data-id="${loopId}"]`, { timeout: 60_000 });
  const before = await page.evaluate<number>('window.__xotpViewer.updates');
  const startedAt = performance.now();
  let restarts = 0;
  let pid = looper;
  while (performance.now() - startedAt < 2000) {
    // Paced, not as fast as possible: one restart per elapsed millisecond.
    if (restarts >= performance.now() - startedAt) {
      await turn();
      continue;
    }
    const restarted = rt.trace.next('supervisor.childStarted', (e) => e.restart && e.restarts === restarts + 1 && e.id === `worker-${looper.id}`);
    rt.cast(pid, 'crash');
    pid = (await restarted).pid;
    restarts++;
  }
  const loopMs = performance.now() - startedAt;
  await page.waitForSelector(`.node[data-id="${loopId}"] .badge[data-restarts="${restarts}"]`, { timeout: 60_000 });
  const seen = await page.evaluate<PageState>('({ updates: window.__xotpViewer.updates, times: window.__xotpViewer.times })');
  // Updates that arrived after the one the page had before the loop, over the time between them.
  const times = seen.times.slice(before - 1);
  const updates = times.length - 1;
  const spanMs = times[times.length - 1]! - times[0]!;
  t.log(`${restarts} restarts in ${loopMs.toFixed(0)} ms (${((restarts * 1000) / loopMs).toFixed(0)}/s) reached the page as ${updates} updates over ${spanMs.toFixed(0)} ms`);
  t.true(updates >= 1);
  t.true(updates <= Math.floor((10 * spanMs) / 1000) + 1, `${updates} updates in ${spanMs.toFixed(0)} ms`);
  t.deepEqual(pageErrors, []);
});
