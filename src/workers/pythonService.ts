import type { AnyActorLogic } from 'xstate';
import { InvalidOptionError, NoProcessError } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { validateOptions, optional, oneOf, matching, isPlainObject, notPlain, isEmptyOptions } from '../runtime/validate.js';
import { defineServer } from '../server/defineServer.js';
import { supervisor } from '../supervisor/supervisor.js';
import { pythonBridge } from '../bridge/pythonBridge.js';
import { bridgeInfo, callBridge, type BridgeCallOptions } from '../bridge/bridgeClient.js';
import type { BridgeInfo } from '../bridge/bridgeCore.js';
import { pool, type PoolOptions } from './pool.js';
import { Pool, runSchema as poolRunSchema, type PoolRunOptions } from './poolClient.js';
import type { PoolStatus } from './poolTypes.js';
import { fakeBackend, fakeCoreOf, type FakeBackendOptions, type FakeStatus } from './fakeBackend.js';
import { ServiceBackendError, type ServiceBackend } from './serviceErrors.js';
import { codeOf, listening } from './poolTelemetry.js';

export type { ServiceBackend } from './serviceErrors.js';

/** `pythonBridge`'s options. */
type PythonBridgeOptions = Parameters<typeof pythonBridge>[0];

/** A service's pool: `pool()`'s options without its name (`<service>.pool`); the worker defaults to `pythonBridge(bridge)`. */
export type ServicePoolOptions = Omit<PoolOptions, 'name' | 'worker'> & { worker?: AnyActorLogic };

/** Options of `pythonService`. */
export interface PythonServiceOptions {
  /** The service's name: `Service.run(runtime, name, ...)` addresses it. */
  name: string;
  /**
   * Which backend runs. Precedence: this option, then the environment variable `XOTP_BACKEND`
   * (read when the service starts), then `'pool'`. The chosen backend must be configured below.
   */
  backend?: ServiceBackend;
  /** The Python side: the single bridge's options, and the pool's workers unless `pool.worker` is given. */
  bridge?: PythonBridgeOptions;
  /** The pool backend (with `bridge`, or its own `worker`). */
  pool?: ServicePoolOptions;
  /**
   * The in-process fake: JavaScript handlers `(args, ctx) => result`. Its sessions default to
   * the pool's (`pool.sessions`, none when the pool has none), or on when there is no pool.
   */
  fake?: FakeBackendOptions;
}

/** How the backend was chosen. */
export type BackendChoice = 'option' | 'environment' | 'default';

/** What `Service.status` returns. */
export interface ServiceStatus {
  name: string;
  backend: ServiceBackend;
  chosenBy: BackendChoice;
  /** Why, in words: `the backend option`, `XOTP_BACKEND=fake`, `the default`. */
  reason: string;
  /** The backend's own process name: `<name>.pool` (its manager), `<name>.bridge`, `<name>.fake`. */
  target: string;
  /** Whether the backend's process is alive now (false while it restarts). */
  running: boolean;
  /** The backend's own status, under its name; absent while it is not running. */
  pool?: PoolStatus;
  bridge?: BridgeInfo;
  fake?: FakeStatus;
}

/**
 * Options of `Service.run`: `Pool.run`'s, plus `backend` — the backend the caller expects; any
 * other (or none) is a ServiceBackendError. On the bridge and fake backends `checkoutTimeout`,
 * `retry` and `idempotent` have nothing to act on and are ignored.
 */
export interface ServiceRunOptions extends PoolRunOptions {
  backend?: ServiceBackend;
}

/** A service's call ended (any backend). Emitted only while someone listens. */
export interface ServiceCallEvent {
  service: string;
  backend: ServiceBackend;
  op: string;
  session: string | undefined;
  durationMs: number;
  outcome: 'ok' | 'error';
  code?: string;
}

/** A service started and chose its backend (the same news as its one info log line). */
export interface ServiceStartedEvent {
  service: string;
  backend: ServiceBackend;
  chosenBy: BackendChoice;
  reason: string;
}

declare module '../runtime/events.js' {
  interface RuntimeEventMap {
    'service.started': [ServiceStartedEvent];
    'service.call': [ServiceCallEvent];
  }
}

const backends = ['pool', 'bridge', 'fake'] as const;

/** A running service's choice, kept by its `service` process and read by callers in their own turn. @internal */
export class ServiceRecord {
  constructor(
    readonly name: string,
    readonly backend: ServiceBackend,
    readonly chosenBy: BackendChoice,
    readonly reason: string,
    readonly target: string,
  ) {}
}

function choose(name: string, explicit: ServiceBackend | undefined, available: ReadonlySet<ServiceBackend>): ServiceRecord {
  let backend: ServiceBackend;
  let chosenBy: BackendChoice;
  let reason: string;
  const env = process.env.XOTP_BACKEND;
  if (explicit !== undefined) {
    [backend, chosenBy, reason] = [explicit, 'option', 'the backend option'];
  } else if (env !== undefined && env !== '') {
    if (!(backends as readonly string[]).includes(env)) throw new InvalidOptionError('XOTP_BACKEND', "'pool', 'bridge' or 'fake'", env);
    [backend, chosenBy, reason] = [env as ServiceBackend, 'environment', `XOTP_BACKEND=${env}`];
  } else {
    [backend, chosenBy, reason] = ['pool', 'default', 'the default'];
  }
  if (!available.has(backend)) {
    const configured = [...available].map((b) => `'${b}'`).join(', ') || 'none';
    throw new InvalidOptionError(`pythonService.${backend}`, `options for backend '${backend}' (chosen by ${reason}); service '${name}' configures: ${configured}`, undefined);
  }
  return new ServiceRecord(name, backend, chosenBy, reason, `${name}.${backend}`);
}

/** The factories' own option keys, as a service's options spell them. */
const sections: ReadonlyArray<[string, string]> = [
  ['pythonBridge', 'pythonService.bridge'],
  ['pool', 'pythonService.pool'],
  ['fakeBackend', 'pythonService.fake'],
];

/**
 * Builds a backend, naming a bad option by where the service's options hold it
 * (`pythonService.pool.sesions`, not `pool.sesions`): a caller wrote the former.
 */
function within<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof InvalidOptionError) || err.constructor !== InvalidOptionError) throw err;
    for (const [from, to] of sections) {
      if (err.key === from || err.key.startsWith(`${from}.`)) throw new InvalidOptionError(to + err.key.slice(from.length), err.expected, err.received, err.hint);
    }
    throw err;
  }
}

function section<T>(key: string): (v: unknown) => T {
  return (v) => {
    if (!isPlainObject(v)) throw notPlain(key, 'an options object', v);
    return v as T;
  };
}

/**
 * "The Python service" of an application, on one of three backends behind the same
 * `Service.run(runtime, name, op, args, { session })`: a pool of Python bridges, a single bridge,
 * or an in-process fake whose handlers are JavaScript functions (for unit tests without Python).
 * The backend is chosen when the service starts — the `backend` option, else `XOTP_BACKEND`, else
 * `'pool'` — logged once (one info line naming it and why), reported by `Service.status`, and
 * never silently replaced: a caller that expects another backend gets ServiceBackendError.
 *
 * Returns supervisor logic (a child of type `'supervisor'`): a `service` process registered
 * under `name` holding the choice, and the backend (`<name>.pool` — the pool manager's name —,
 * `<name>.bridge` or `<name>.fake`).
 *
 * @example
 * ```ts
 * const py = pythonService({
 *   name: 'py',
 *   bridge: { module: 'my_handlers' },
 *   pool: { size: 4, sessions: { ttl: 300_000 } },
 *   fake: { handlers: { embed: ({ text }) => ({ vector: [text.length] }) } },
 * });
 * await runtime.start(py);                          // XOTP_BACKEND=fake in unit tests
 * await Service.run(runtime, 'py', 'embed', { text: 'hi' }, { session: 's1' });
 * ```
 * @throws InvalidOptionError naming the key for bad options. Starting it fails (StartError, the
 *   InvalidOptionError as its reason) when the chosen backend is not configured or
 *   `XOTP_BACKEND` names no backend.
 */
export function pythonService(options: PythonServiceOptions) {
  const o = validateOptions('pythonService', options, {
    name: matching(/^[^/\s]+$/, "a non-empty name without '/' or spaces"),
    backend: optional(oneOf(...backends)),
    bridge: optional(section<PythonBridgeOptions>('pythonService.bridge')),
    pool: optional(section<ServicePoolOptions>('pythonService.pool')),
    fake: optional(section<FakeBackendOptions>('pythonService.fake')),
  });
  const name = o.name;
  // Every configured backend is built (and so validated) now; only the chosen one runs.
  const logics = new Map<ServiceBackend, AnyActorLogic>();
  if (o.bridge) logics.set('bridge', within(() => pythonBridge({ label: 'bridge', ...o.bridge })));
  if (o.pool) {
    // The service names its pool (`<name>.pool`): a name of its own would be silently replaced.
    if ('name' in o.pool) throw new InvalidOptionError('pythonService.pool.name', `no name (the pool is '${name}.pool')`, (o.pool as { name?: unknown }).name);
    const { worker, ...rest } = o.pool;
    const bridge = o.bridge;
    const w = worker ?? (bridge ? within(() => pythonBridge({ label: 'worker', ...bridge })) : undefined);
    if (w === undefined) throw new InvalidOptionError('pythonService.pool.worker', 'a worker, or bridge options to build the workers from', undefined);
    logics.set('pool', within(() => pool({ ...rest, name: `${name}.pool`, worker: w } as PoolOptions)));
  }
  const fake = o.fake;
  if (fake) {
    const sessions = fake.sessions ?? (o.pool ? (o.pool.sessions ? { ttl: o.pool.sessions.ttl } : false) : true);
    // Deadlines as the bridge's: a call naming no timeout gets the bridge's callTimeout.
    const callTimeout = fake.callTimeout ?? o.bridge?.callTimeout;
    logics.set('fake', within(() => fakeBackend({ ...fake, sessions, ...(callTimeout !== undefined ? { callTimeout } : {}) })));
  }
  if (logics.size === 0) throw new InvalidOptionError('pythonService', 'at least one backend: bridge (with or without pool), or fake', options);
  const available = new Set(logics.keys());

  const service = defineServer<ServiceRecord, undefined>({
    name: 'service',
    init: (_input, ctx) => {
      const record = choose(name, o.backend, available);
      ctx.runtime.logger.info(`service '${name}': backend '${record.backend}' (chosen by ${record.reason})`, { service: name, backend: record.backend, chosenBy: record.chosenBy });
      if (listening(ctx.runtime, 'service.started')) {
        ctx.runtime.events.emit('service.started', { service: name, backend: record.backend, chosenBy: record.chosenBy, reason: record.reason });
      }
      return { state: record };
    },
  });

  return supervisor({
    // The backend follows the choice: if the service process restarts, so does the backend.
    strategy: 'one_for_all',
    label: name,
    children: [
      { id: 'service', name, start: service },
      {
        id: 'backend',
        type: 'supervisor',
        shutdown: 'infinity',
        start: ({ runtime, supervisor: sup }) => {
          const record = serviceRecordOf(runtime, name);
          if (!record) throw new NoProcessError(name, 'pythonService backend start');
          const logic = logics.get(record.backend)!;
          const placement = { parent: sup, link: sup, id: record.backend };
          if (record.backend === 'pool') return runtime.start(logic, placement); // its manager takes `<name>.pool`
          if (record.backend === 'fake') return runtime.start(logic, { ...placement, name: record.target, input: { name: `service '${name}' (fake)` } });
          return runtime.start(logic, { ...placement, name: record.target });
        },
      },
    ],
  });
}

/** The running service's record, read in the caller; undefined when no service runs under `name`. @internal */
export function serviceRecordOf(runtime: Runtime, name: string): ServiceRecord | undefined {
  let actor;
  try {
    actor = runtime.actorOf(name);
  } catch {
    return undefined;
  }
  const state = (actor?.getSnapshot() as { context?: unknown } | undefined)?.context;
  return state instanceof ServiceRecord ? state : undefined;
}

function mustRecord(runtime: Runtime, service: string, expected: ServiceBackend | undefined): ServiceRecord {
  const record = serviceRecordOf(runtime, service);
  if (!record) throw new ServiceBackendError(service, expected, null, `no service '${service}' runs in runtime '${runtime.name}'`);
  if (expected !== undefined && expected !== record.backend) throw new ServiceBackendError(service, expected, record.backend, `chosen by ${record.reason}`);
  return record;
}

/** `Service.run`'s options: `Pool.run`'s and `backend`, checked once whatever the backend. */
const serviceRunSchema = { ...poolRunSchema, backend: optional(oneOf(...backends)) };

/** What the bridge and fake backends use of a run's checked options. */
interface CheckedRun {
  readonly backend?: ServiceBackend | undefined;
  readonly session?: string | undefined;
  readonly timeout?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}
const noOptions: CheckedRun = Object.freeze({});

function dispatch<R>(runtime: Runtime, record: ServiceRecord, op: string, args: unknown, options: ServiceRunOptions, checked: CheckedRun): Promise<R> {
  if (record.backend === 'pool') {
    const { backend: _expected, ...rest } = options;
    return Pool.run<R>(runtime, record.target, op, args, rest);
  }
  // Pool-only options (checkoutTimeout, retry, idempotent) have nothing to act on here.
  const { session, timeout, signal } = checked;
  const call: BridgeCallOptions & { session?: string } = {};
  if (session !== undefined) call.session = session;
  if (timeout !== undefined) call.timeout = timeout;
  if (signal !== undefined) call.signal = signal;
  if (record.backend === 'bridge') return callBridge<R>(runtime, record.target, op, args, call);
  const core = fakeCoreOf(runtime, record.target);
  if (!core) return Promise.reject(new NoProcessError(record.target, `Service.run '${op}'`));
  return core.run<R>(runtime, op, args, call);
}

/** The Python service API: the same calls whichever backend runs. */
export const Service = {
  /**
   * Runs `op` with `args` on the service's backend, with `Pool.run`'s options (`session`,
   * `timeout`, `signal`, ...). With `backend`, the caller states which backend it expects.
   *
   * @throws ServiceBackendError (`backend_not_running`) when no service runs under `name`, or
   *   `backend` names another than the one running; otherwise what the backend throws
   *   (`Pool.run`'s errors, `callBridge`'s, or the fake's, which are the same kinds).
   */
  run<R = unknown>(runtime: Runtime, service: string, op: string, args?: unknown, options: ServiceRunOptions = {}): Promise<R> {
    let record: ServiceRecord;
    let checked: CheckedRun;
    try {
      // Every option is checked here, whichever backend runs: on the bridge and the fake the
      // pool-only ones are ignored, but a typo, a Map or a NaN is not a call with defaults.
      checked = isEmptyOptions(options) ? noOptions : validateOptions('Service.run', options, serviceRunSchema);
      record = mustRecord(runtime, service, checked.backend);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!listening(runtime, 'service.call')) return dispatch<R>(runtime, record, op, args, options, checked);
    const started = runtime.clock.now();
    const base = { service, backend: record.backend, op, session: options.session };
    return dispatch<R>(runtime, record, op, args, options, checked).then(
      (value) => {
        runtime.events.emit('service.call', { ...base, durationMs: runtime.clock.now() - started, outcome: 'ok' });
        return value;
      },
      (err: unknown) => {
        const code = codeOf(err);
        runtime.events.emit('service.call', { ...base, durationMs: runtime.clock.now() - started, outcome: 'error', ...(code !== undefined ? { code } : {}) });
        throw err;
      },
    );
  },

  /**
   * Which backend the service runs.
   * @throws ServiceBackendError when no service runs under `name`.
   */
  backend(runtime: Runtime, service: string): ServiceBackend {
    return mustRecord(runtime, service, undefined).backend;
  },

  /**
   * Asserts that the service runs on `backend` (a test's first line, say).
   * @throws ServiceBackendError naming what was expected and what runs.
   */
  expect(runtime: Runtime, service: string, backend: ServiceBackend): void {
    mustRecord(runtime, service, backend);
  },

  /**
   * The backend, how and why it was chosen, whether its process runs, and its own status.
   * @throws ServiceBackendError when no service runs under `name`.
   */
  async status(runtime: Runtime, service: string): Promise<ServiceStatus> {
    const record = mustRecord(runtime, service, undefined);
    const { name, backend, chosenBy, reason, target } = record;
    const status: ServiceStatus = { name, backend, chosenBy, reason, target, running: runtime.whereis(target) !== undefined };
    if (!status.running) return status;
    try {
      if (backend === 'pool') status.pool = await Pool.status(runtime, target);
      else if (backend === 'bridge') status.bridge = await bridgeInfo(runtime, target);
      else status.fake = await runtime.call<FakeStatus>(target, { fake: 'status' }, { timeout: 'infinity' });
    } catch (err) {
      if (!(err instanceof NoProcessError)) throw err;
      status.running = false; // it ended while we asked
    }
    return status;
  },

  /**
   * Ends a session: its Python state (or the fake's) is dropped. Returns whether it was bound
   * (on a single bridge: whether Python held state for it).
   * @throws ServiceBackendError; SessionsDisabledError on a pool or fake without sessions.
   */
  endSession(runtime: Runtime, service: string, id: string): Promise<boolean> {
    let record: ServiceRecord;
    try {
      record = mustRecord(runtime, service, undefined);
    } catch (err) {
      return Promise.reject(err);
    }
    if (record.backend === 'pool') return Pool.endSession(runtime, record.target, id);
    if (record.backend === 'bridge') return callBridge<boolean>(runtime, record.target, 'xotp.endSession', { session: id });
    return runtime.call<boolean>(record.target, { fake: 'endSession', id }, { timeout: 'infinity' });
  },
};
