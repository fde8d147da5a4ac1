import test from 'ava';
import { request } from 'node:http';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import { defineServer, dynamicSupervisor, startChild, supervisor, InvalidOptionError, type Pid } from '../../src/index.js';
import { serveViewer, type InspectedNode } from '../../src/inspect/index.js';
import { SseClient, find } from './sseClient.js';

const worker = defineServer<null, undefined, 'get', null, 'crash'>({
  name: 'worker',
  init: () => ({ state: null }),
  handleCall: (_req, _from, s) => ({ reply: s }),
  handleCast: () => {
    throw new Error('boom');
  },
});

const app = () =>
  supervisor({
    children: [{ id: 'jobs', name: 'jobs', start: dynamicSupervisor({ label: 'jobs', maxRestarts: 1_000_000, maxSeconds: 1 }) }],
  });

async function startWorkers(rt: TestRuntime, n: number): Promise<Pid[]> {
  await rt.start(app(), { name: 'top' });
  const pids: Pid[] = [];
  for (let i = 0; i < n; i++) pids.push(((await startChild(rt, 'jobs', { start: worker })) as { pid: Pid }).pid);
  return pids;
}

const withPath = (url: string, path: string) => {
  const u = new URL(url);
  u.pathname = path;
  return u.toString();
};

async function get(url: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    })
      .on('error', reject)
      .end();
  });
}

test('every request needs the random token of the URL: without it, or with another, 403', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  const viewer = await serveViewer(rt);
  t.teardown(() => viewer.close());
  const url = new URL(viewer.url);
  t.is(url.hostname, '127.0.0.1');
  t.regex(url.searchParams.get('token')!, /^[\w-]{32}$/);
  for (const path of ['/', '/viewer.js', '/d3-hierarchy.js', '/events', '/tree.json']) {
    t.is((await get(`${url.origin}${path}`)).status, 403, `${path} without a token`);
    t.is((await get(`${url.origin}${path}?token=${'x'.repeat(32)}`)).status, 403, `${path} with a wrong token`);
  }
  const page = await get(viewer.url);
  t.is(page.status, 200);
  t.regex(page.body, /<script src="d3-hierarchy\.js\?token=/);
  t.regex(String(page.headers['content-security-policy']), /script-src 'self'/);
  const d3 = await get(withPath(viewer.url, '/d3-hierarchy.js'));
  t.regex(d3.body, /^\/\/ https:\/\/d3js\.org\/d3-hierarchy\/ v3/);
  t.is((await get(withPath(viewer.url, '/nope'))).status, 404);
  const other = await serveViewer(rt);
  t.not(new URL(other.url).searchParams.get('token'), url.searchParams.get('token'), 'a new token per viewer');
  await other.close();
});

test('a viewer that connects late gets the whole tree at once: every worker under its parent', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  const pids = await startWorkers(rt, 50);
  const viewer = await serveViewer(rt);
  t.teardown(() => viewer.close());
  const client = new SseClient(withPath(viewer.url, '/events'));
  t.teardown(() => client.close());
  t.is(await client.status, 200);
  const first = await client.next(() => true);
  const jobs = find(first.tree, 'app/top/jobs')!;
  t.deepEqual(
    jobs.children.map((c) => [c.id, c.pid]),
    pids.map((p) => [`app/top/jobs/worker-${p.id}`, String(p)]),
  );
  t.is(first.tree.children.length, 1);
  t.is(first.tree.children[0]!.id, 'app/top');
});

test('a crash loop reaches a viewer as at most 10 updates a second, and the last one shows the final restart count', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  const [pid] = await startWorkers(rt, 1);
  const viewer = await serveViewer(rt);
  t.teardown(() => viewer.close());
  const client = new SseClient(withPath(viewer.url, '/events'));
  t.teardown(() => client.close());
  const first = await client.next(() => true);
  const id = `app/top/jobs/worker-${pid!.id}`;

  let current = pid!;
  const restarts = 600;
  for (let i = 1; i <= restarts; i++) {
    const restarted = rt.trace.next('supervisor.childStarted', (e) => e.restart && e.restarts === i);
    rt.cast(current, 'crash');
    current = (await restarted).pid;
  }
  const last = await client.next((m) => find(m.tree, id)?.restarts === restarts);
  t.is(find(last.tree, id)!.pid, String(current));
  const updates = client.messages.filter((m) => m.at > first.at && m.at <= last.at).length;
  const elapsed = last.at - first.at;
  t.true(updates >= 1);
  t.true(updates <= Math.floor(elapsed / 100) + 1, `${updates} updates in ${elapsed.toFixed(0)} ms for ${restarts} restarts`);
  t.log(`${restarts} restarts reached the viewer as ${updates} updates in ${elapsed.toFixed(0)} ms`);
});

test('a viewer that does not read is skipped, not buffered without bound; the others still get every change', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  const pids = await startWorkers(rt, 2000);
  const viewer = await serveViewer(rt);
  t.teardown(() => viewer.close());
  const slow = new SseClient(withPath(viewer.url, '/events'), { paused: true });
  const fast = new SseClient(withPath(viewer.url, '/events'));
  t.teardown(() => {
    slow.close();
    fast.close();
  });
  await fast.next(() => true);
  // Each update is a ~1 MB tree: a reader that does not read fills its socket within a few.
  const target = 40;
  let current = pids[0]!;
  const id = `app/top/jobs/worker-${pids[0]!.id}`;
  for (let i = 1; i <= target; i++) {
    const restarted = rt.trace.next('supervisor.childStarted', (e) => e.restart && e.restarts === i);
    rt.cast(current, 'crash');
    current = (await restarted).pid;
    await fast.next((m) => find(m.tree, id)?.restarts === i);
  }
  const stats = viewer.stats();
  t.is(stats.viewers, 2);
  t.true(stats.skipped > 0, 'the slow viewer was skipped');
  slow.resume();
  const caughtUp = await slow.next((m) => find(m.tree, id)?.restarts === target);
  t.is(find(caughtUp.tree, id)!.pid, String(current), 'once it reads again it gets the latest tree');
  t.true(slow.messages.length < fast.messages.length, `the slow viewer got ${slow.messages.length} trees, the fast one ${fast.messages.length}`);
});

test('maskFields hides fields before a tree leaves the process', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  await startWorkers(rt, 1);
  const byName = await serveViewer(rt, { maskFields: ['links', 'pid', 'id'] });
  const byFunction = await serveViewer(rt, { maskFields: (node: InspectedNode) => ({ ...node, state: 'hidden' }) });
  t.teardown(() => Promise.all([byName.close(), byFunction.close()]));
  const a = JSON.parse((await get(withPath(byName.url, '/tree.json'))).body) as InspectedNode;
  t.false('links' in a || 'pid' in a);
  t.is(a.id, 'app', 'id is kept: the page needs it');
  t.false(JSON.stringify(a).includes('"links"'));
  const b = JSON.parse((await get(withPath(byFunction.url, '/tree.json'))).body) as InspectedNode;
  t.is(find(b, 'app/top/jobs')!.state, 'hidden');
  await t.throwsAsync(serveViewer(rt, { maskFields: 'links' as never }), { instanceOf: InvalidOptionError });
  await t.throwsAsync(serveViewer(rt, { port: 70000 }), { instanceOf: InvalidOptionError });
  await t.throwsAsync(serveViewer(rt, { colour: 'red' } as never), { instanceOf: InvalidOptionError });
});

test('close() ends every connection and frees the port', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  const listeners = rt.events.listenerCount('process.exited');
  const viewer = await serveViewer(rt);
  t.is(rt.events.listenerCount('process.exited'), listeners + 2, 'the viewer and its lifecycle log listen');
  const client = new SseClient(withPath(viewer.url, '/events'));
  await client.next(() => true);
  await viewer.close();
  await client.ended();
  t.is(viewer.stats().viewers, 0);
  const port = Number(new URL(viewer.url).port);
  await t.throwsAsync(get(viewer.url), { code: 'ECONNREFUSED' });
  const again = await serveViewer(rt, { port });
  t.is(Number(new URL(again.url).port), port, 'the port is free again');
  await again.close();
  await viewer.close(); // idempotent
  t.is(rt.events.listenerCount('process.exited'), listeners, 'nothing left listening');
});
