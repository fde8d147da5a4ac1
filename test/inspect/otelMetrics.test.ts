/**
 * The OpenTelemetry adapter (issue 12): the runtime's telemetry events recorded as metrics through
 * a meter — a recording stand-in here, or `@opentelemetry/api`'s global meter by default. The
 * runtime never needs `@opentelemetry/api`: only src/inspect/otelMetrics.ts names it, and imports
 * it only when no meter is passed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { createTestRuntime, pythonService, Service } from '../../src/testing/index.js';
import { recordOtelMetrics, type MeterLike } from '../../src/inspect/index.js';
import { InvalidOptionError, Pid } from '../../src/index.js';

type Row = [string, string, number, Record<string, unknown>];

function recordingMeter(rows: Row[]): MeterLike {
  return {
    createHistogram: (name) => ({ record: (value, attributes = {}) => void rows.push([name, 'histogram', value, attributes]) }),
    createCounter: (name) => ({ add: (value, attributes = {}) => void rows.push([name, 'counter', value, attributes]) }),
  };
}

test('pool, session, breaker and service events become histograms and counters; stop() removes every listener', async (t) => {
  await using rt = createTestRuntime();
  const rows: Row[] = [];
  const before = rt.events.eventNames().length;
  const otel = await recordOtelMetrics(rt, { meter: recordingMeter(rows) });
  const worker = new Pid('t', 7);
  rt.events.emit('pool.checkout', { pool: 'p', worker, session: undefined, waitMs: 12 });
  rt.events.emit('pool.call', { pool: 'p', worker, op: 'embed', session: 's', durationMs: 30, outcome: 'error', code: 'timeout' });
  rt.events.emit('pool.workerStarted', { pool: 'p', worker, startupMs: 250 });
  rt.events.emit('pool.workerExited', { pool: 'p', worker, reason: 'killed', ready: true, uptimeMs: 9, operations: 1 });
  rt.events.emit('pool.sessionLost', { pool: 'p', session: 's', worker, reason: 'its worker exited' });
  rt.events.emit('pool.orphansSwept', { pool: 'p', runs: ['p:x'], killed: [11, 12] });
  rt.events.emit('breaker.transition', { pool: 'p', breaker: 'p.breaker', from: 'closed', to: 'open' });
  await rt.start(pythonService({ name: 'svc', backend: 'fake', fake: { handlers: { echo: (a: unknown) => a } } }));
  await Service.run(rt, 'svc', 'echo', 1);
  t.deepEqual(rows, [
    ['xotp.pool.checkout.wait', 'histogram', 12, { pool: 'p' }],
    ['xotp.pool.call.duration', 'histogram', 30, { pool: 'p', op: 'embed', outcome: 'error', code: 'timeout' }],
    ['xotp.pool.worker.startup', 'histogram', 250, { pool: 'p' }],
    ['xotp.pool.worker.exits', 'counter', 1, { pool: 'p', ready: true }],
    ['xotp.pool.sessions', 'counter', 1, { pool: 'p', event: 'lost' }],
    ['xotp.pool.orphans.killed', 'counter', 2, { pool: 'p' }],
    ['xotp.breaker.transitions', 'counter', 1, { pool: 'p', breaker: 'p.breaker', from: 'closed', to: 'open' }],
    ['xotp.service.call.duration', 'histogram', 0, { service: 'svc', backend: 'fake', op: 'echo', outcome: 'ok' }],
  ]);
  otel.stop();
  t.is(rt.events.eventNames().length, before, 'no listener left: the events cost nothing again');
  rt.events.emit('pool.checkout', { pool: 'p', worker, session: undefined, waitMs: 1 });
  t.is(rows.length, 8);
});

test("without a meter it records through @opentelemetry/api's global meter (a no-op until an SDK is registered)", async (t) => {
  await using rt = createTestRuntime();
  const otel = await recordOtelMetrics(rt);
  t.is(rt.events.listenerCount('pool.call'), 1);
  otel.stop();
  t.is(rt.events.listenerCount('pool.call'), 0);
});

test('only src/inspect/otelMetrics.ts names @opentelemetry/api: the runtime and xotp itself never load it', (t) => {
  const src = fileURLToPath(new URL('../../src/', import.meta.url));
  const naming: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && readFileSync(path, 'utf8').includes('@opentelemetry/api')) naming.push(path.slice(src.length));
    }
  };
  walk(src);
  t.deepEqual(naming, ['inspect/otelMetrics.ts']);
  t.false(readFileSync(join(src, 'index.ts'), 'utf8').includes('otelMetrics'));
  const pkg = JSON.parse(readFileSync(join(src, '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }> };
  t.false('@opentelemetry/api' in pkg.dependencies);
  t.true(pkg.peerDependenciesMeta['@opentelemetry/api']?.optional);
});

test('regression: recordOtelMetrics took a misspelt option or a Map and recorded to the global meter — refused naming the key', async (t) => {
  await using rt = createTestRuntime();
  for (const [options, key] of [
    [{ metre: {} }, 'recordOtelMetrics.metre'],
    [new Map(), 'recordOtelMetrics'],
    [{ meter: {} }, 'recordOtelMetrics.meter'],
  ] as const) {
    const err = await t.throwsAsync(recordOtelMetrics(rt, options as never), { instanceOf: InvalidOptionError });
    t.is(err?.key, key);
  }
});
