import { InvalidOptionError } from '../runtime/errors.js';
import { optional, validateOptions } from '../runtime/validate.js';
import type { Runtime } from '../runtime/runtime.js';
import type { RuntimeEventMap } from '../runtime/events.js';
// For their event map augmentations only (erased at runtime).
import type {} from '../workers/poolTelemetry.js';
import type {} from '../workers/poolEvents.js';
import type {} from '../workers/pythonService.js';

/*
 * An OpenTelemetry adapter for the runtime's telemetry events. `@opentelemetry/api` is an
 * optional peer dependency: nothing but this module mentions it, it is imported only when no
 * meter is passed, and the shapes below are structural, so neither xotp nor its type
 * declarations need it installed.
 */

type Attributes = Record<string, string | number | boolean>;

/** What the adapter needs of an OpenTelemetry `Meter` (a real one fits). */
export interface MeterLike {
  createHistogram(name: string, options?: { description?: string; unit?: string }): { record(value: number, attributes?: Attributes): void };
  createCounter(name: string, options?: { description?: string; unit?: string }): { add(value: number, attributes?: Attributes): void };
}

/** Options of `recordOtelMetrics`. */
export interface OtelMetricsOptions {
  /** The meter to record with. Default: `metrics.getMeter('xotp')` from `@opentelemetry/api`. */
  meter?: MeterLike;
}

/** A running adapter: `stop()` removes its listeners (and with them the events' cost). */
export interface OtelMetrics {
  stop(): void;
}

type Listener<K extends keyof RuntimeEventMap> = (...args: RuntimeEventMap[K]) => void;

async function defaultMeter(): Promise<MeterLike> {
  const name = '@opentelemetry/api';
  let api: { metrics: { getMeter(name: string): MeterLike } };
  try {
    api = (await import(name)) as typeof api;
  } catch (err) {
    throw new InvalidOptionError('recordOtelMetrics.meter', 'a Meter, or the optional peer dependency @opentelemetry/api installed', undefined, `npm i @opentelemetry/api (${(err as Error).message})`);
  }
  return api.metrics.getMeter('xotp');
}

/**
 * Records the runtime's pool, worker, session, breaker and service events as OpenTelemetry
 * metrics (ms histograms for waits and durations, counters for the rest):
 *
 * | metric | kind | attributes | from |
 * |---|---|---|---|
 * | `xotp.pool.checkout.wait` | histogram, ms | pool | `pool.checkout` |
 * | `xotp.pool.call.duration` | histogram, ms | pool, op, outcome, code | `pool.call` |
 * | `xotp.pool.worker.startup` | histogram, ms | pool | `pool.workerStarted` |
 * | `xotp.pool.worker.exits` | counter | pool, ready | `pool.workerExited` |
 * | `xotp.pool.worker.start_failures` | counter | pool | `pool.startFailed` |
 * | `xotp.pool.sessions` | counter | pool, event (bound, expired, ended, lost) | `pool.session*` |
 * | `xotp.pool.orphans.killed` | counter | pool | `pool.orphansSwept` |
 * | `xotp.breaker.transitions` | counter | pool, breaker, from, to | `breaker.transition` |
 * | `xotp.service.call.duration` | histogram, ms | service, backend, op, outcome, code | `service.call` |
 *
 * @example
 * ```ts
 * import { recordOtelMetrics } from 'xotp/inspect';
 * const otel = await recordOtelMetrics(runtime);          // or { meter: myMeterProvider.getMeter('app') }
 * // ... later
 * otel.stop();
 * ```
 * @throws InvalidOptionError when no meter is given and `@opentelemetry/api` cannot be imported.
 */
export async function recordOtelMetrics(runtime: Runtime, options: OtelMetricsOptions = {}): Promise<OtelMetrics> {
  // A typo ({ metre }) or a Map would otherwise record to the global meter without a word.
  const o = validateOptions('recordOtelMetrics', options, {
    meter: optional<MeterLike>((v, key) => {
      const m = v as Partial<MeterLike> | null;
      if (typeof m !== 'object' || m === null || typeof m.createHistogram !== 'function' || typeof m.createCounter !== 'function') {
        throw new InvalidOptionError(key, 'a Meter (createHistogram and createCounter)', v);
      }
      return v as MeterLike;
    }),
  });
  const meter = o.meter ?? (await defaultMeter());
  const ms = { unit: 'ms' };
  const checkoutWait = meter.createHistogram('xotp.pool.checkout.wait', { ...ms, description: 'time a caller waited for a pool worker' });
  const callDuration = meter.createHistogram('xotp.pool.call.duration', { ...ms, description: 'duration of a call on a pool worker' });
  const startup = meter.createHistogram('xotp.pool.worker.startup', { ...ms, description: 'spawn to ready handshake of a pool worker' });
  const exits = meter.createCounter('xotp.pool.worker.exits', { description: 'pool workers that exited (each is replaced unless the pool stops)' });
  const startFailures = meter.createCounter('xotp.pool.worker.start_failures', { description: 'failed worker start attempts' });
  const sessions = meter.createCounter('xotp.pool.sessions', { description: 'session events: bound, expired, ended, lost' });
  const orphans = meter.createCounter('xotp.pool.orphans.killed', { description: 'leftover processes of dead earlier runs ended at pool start' });
  const breaker = meter.createCounter('xotp.breaker.transitions', { description: 'circuit breaker state changes' });
  const serviceCall = meter.createHistogram('xotp.service.call.duration', { ...ms, description: 'duration of a Python service call, any backend' });

  const listeners: Array<[keyof RuntimeEventMap, unknown]> = [];
  const on = <K extends keyof RuntimeEventMap>(name: K, fn: Listener<K>) => {
    (runtime.events.on as (n: K, l: Listener<K>) => void)(name, fn);
    listeners.push([name, fn]);
  };
  const withCode = (a: Attributes, code: string | undefined): Attributes => (code === undefined ? a : { ...a, code });

  on('pool.checkout', (e) => checkoutWait.record(e.waitMs, { pool: e.pool }));
  on('pool.call', (e) => callDuration.record(e.durationMs, withCode({ pool: e.pool, op: e.op, outcome: e.outcome }, e.code)));
  on('pool.workerStarted', (e) => startup.record(e.startupMs, { pool: e.pool }));
  on('pool.workerExited', (e) => exits.add(1, { pool: e.pool, ready: e.ready }));
  on('pool.startFailed', (e) => startFailures.add(1, { pool: e.pool }));
  on('pool.sessionBound', (e) => sessions.add(1, { pool: e.pool, event: 'bound' }));
  on('pool.sessionExpired', (e) => sessions.add(1, { pool: e.pool, event: 'expired' }));
  on('pool.sessionEnded', (e) => sessions.add(1, { pool: e.pool, event: 'ended' }));
  on('pool.sessionLost', (e) => sessions.add(1, { pool: e.pool, event: 'lost' }));
  on('pool.orphansSwept', (e) => orphans.add(e.killed.length, { pool: e.pool }));
  on('breaker.transition', (e) => breaker.add(1, { pool: e.pool, breaker: e.breaker, from: e.from, to: e.to }));
  on('service.call', (e) => serviceCall.record(e.durationMs, withCode({ service: e.service, backend: e.backend, op: e.op, outcome: e.outcome }, e.code)));

  return {
    stop() {
      for (const [name, fn] of listeners.splice(0)) (runtime.events.off as (n: string, l: unknown) => void)(name, fn);
    },
  };
}
