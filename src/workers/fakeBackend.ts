import type { Pid } from '../runtime/pid.js';
import { AbortError, InvalidOptionError, NotSerializableError, TimeoutError } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { validateOptions, optional, integer, isPlainObject, isTimeout, notPlain } from '../runtime/validate.js';
import { defineServer } from '../server/defineServer.js';
import { PythonError } from '../bridge/bridgeErrors.js';
import { SessionTable, type SessionState } from './sessionTable.js';
import { SessionExpiredError, SessionLostError, SessionsDisabledError } from './poolErrors.js';

/** What a fake handler knows of its call, as a Python handler's `ctx`. */
export interface FakeCallContext {
  readonly op: string;
  /** The caller's session, or undefined. */
  readonly session: string | undefined;
  /**
   * An object private to the session (undefined without one): what a Python handler keeps in
   * `ctx.state`. Ending or expiring the session drops it.
   */
  readonly state: Record<string, unknown> | undefined;
  /** Aborted when the call's deadline passes or its caller aborts. */
  readonly signal: AbortSignal;
}

/** A fake operation: gets the call's args (as JSON would carry them) and returns its result. */
export type FakeHandler = (args: any, ctx: FakeCallContext) => unknown;

/** Options of `fakeBackend`. */
export interface FakeBackendOptions {
  /** Operation name → handler. */
  handlers: Record<string, FakeHandler>;
  /**
   * Sessions as a pool has them: `{ ttl }` (ms on the runtime clock), `true` (never expire;
   * the default) or `false` (a session call fails with SessionsDisabledError, as on a pool
   * without sessions).
   */
  sessions?: boolean | { ttl: number };
  /**
   * ms a call may run when it names no `timeout`, as a bridge's `callTimeout` (default 30000, the
   * bridge's default; a `pythonService` passes its bridge's). `'infinity'`: no deadline.
   */
  callTimeout?: number | 'infinity';
}

/** What `Service.status` shows of a fake backend. */
export interface FakeStatus {
  handlers: string[];
  calls: number;
  errors: number;
  /** Absent when sessions are off, as in a pool's status. */
  sessions?: { ttl: number | 'infinity'; bound: number; expired: number; lost: number };
}

/** Options of one fake call. */
export interface FakeRunOptions {
  session?: string;
  timeout?: number | 'infinity';
  signal?: AbortSignal;
}

function parse(options: unknown): { handlers: Record<string, FakeHandler>; ttl: number | undefined; callTimeout: number } {
  const o = validateOptions('fakeBackend', options, {
    handlers: (v, key) => {
      if (!isPlainObject(v)) throw notPlain(key, 'an object of handler functions', v);
      for (const [op, fn] of Object.entries(v)) if (typeof fn !== 'function') throw new InvalidOptionError(`${key}.${op}`, 'a function (args, ctx) => result', fn);
      return v as Record<string, FakeHandler>;
    },
    sessions: optional((v, key) => (typeof v === 'boolean' ? v : validateOptions(key, v, { ttl: integer(1) })), true as boolean | { ttl: number }),
    callTimeout: optional(isTimeout, 30_000),
  });
  return { handlers: { ...o.handlers }, ttl: o.sessions === false ? undefined : o.sessions === true ? Infinity : o.sessions.ttl, callTimeout: o.callTimeout };
}

/**
 * JSON in, JSON out, as over the bridge's pipe: a test cannot pass what Python would never get,
 * and what JSON refuses (a cycle, a BigInt) is the bridge's NotSerializableError.
 */
function overTheWire(value: unknown, op: string, what: 'args' | 'result'): unknown {
  if (value === undefined) return null;
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw NotSerializableError.forPython(`fake call '${op}'`, `$.${what}`, err);
  }
  return json === undefined ? null : JSON.parse(json);
}

/**
 * The fake backend's state: its handlers, sessions (bound, expired, ended as in a pool, with
 * per-session state) and counters. Calls run in the caller, as a pool's do.
 *
 * @internal
 */
export class FakeCore {
  readonly name: string;
  readonly handlers: Record<string, FakeHandler>;
  readonly sessions: SessionTable | undefined;
  readonly #state = new Map<string, Record<string, unknown>>();
  readonly #self: Pid;
  calls = 0;
  errors = 0;

  /** The deadline of a call that names none (ms; Infinity for none). */
  readonly callTimeout: number;

  constructor(name: string, self: Pid, handlers: Record<string, FakeHandler>, ttl: number | undefined, callTimeout = 30_000) {
    this.name = name;
    this.callTimeout = callTimeout;
    this.#self = self;
    this.handlers = handlers;
    if (ttl !== undefined) {
      this.sessions = new SessionTable(ttl);
      // Like a worker told by its pool: a session that ends or expires loses its state.
      this.sessions.onDrop = (session) => void this.#state.delete(session);
    }
  }

  /**
   * Runs `op`. Throws as a pool would: SessionsDisabledError, SessionExpiredError,
   * SessionLostError, PythonError (the handler threw, or no handler: `UnknownOperation`),
   * TimeoutError, AbortError.
   */
  async run<R>(runtime: Runtime, op: string, args: unknown, options: FakeRunOptions = {}): Promise<R> {
    const { session } = options;
    const now = runtime.clock.now();
    if (session !== undefined) {
      if (!this.sessions) throw new SessionsDisabledError(this.name);
      const st = this.sessions.lookup(session, now);
      if (st.state === 'expired') throw new SessionExpiredError(this.name, session);
      if (st.state === 'lost') throw new SessionLostError(this.name, session, st.reason);
      if (st.state === 'unknown') this.sessions.bind(session, this.#self, now);
      this.sessions.acquire(session, now);
    }
    this.calls++;
    try {
      const fn = this.handlers[op];
      if (fn === undefined) {
        throw new PythonError(op, 'UnknownOperation', `no handler for '${op}'; handlers: ${Object.keys(this.handlers).sort().join(', ')}`, '');
      }
      let state: Record<string, unknown> | undefined;
      if (session !== undefined) {
        state = this.#state.get(session);
        if (!state) this.#state.set(session, (state = {}));
      }
      return (await this.#call(runtime, op, fn, overTheWire(args, op, 'args'), session, state, options)) as R;
    } catch (err) {
      this.errors++;
      throw err;
    } finally {
      if (session !== undefined) this.sessions?.release(session, runtime.clock.now());
    }
  }

  async #call(runtime: Runtime, op: string, fn: FakeHandler, args: unknown, session: string | undefined, state: Record<string, unknown> | undefined, options: FakeRunOptions): Promise<unknown> {
    const controller = new AbortController();
    const ctx: FakeCallContext = { op, session, state, signal: controller.signal };
    const outer = options.signal;
    if (outer?.aborted) throw new AbortError(`fake call '${op}'`, outer.reason);
    let timer: unknown;
    let onAbort: (() => void) | undefined;
    const ended = new Promise<never>((_, reject) => {
      const timeout = options.timeout === undefined ? this.callTimeout : options.timeout === 'infinity' ? Infinity : options.timeout;
      if (Number.isFinite(timeout)) {
        timer = runtime.clock.setTimeout(() => {
          controller.abort();
          reject(new TimeoutError(`fake call '${op}'`, timeout, this.name));
        }, timeout);
      }
      if (outer) {
        onAbort = () => {
          controller.abort();
          reject(new AbortError(`fake call '${op}'`, outer.reason));
        };
        outer.addEventListener('abort', onAbort, { once: true });
      }
    });
    try {
      const running = (async () => {
        try {
          return overTheWire(await fn(args, ctx), op, 'result');
        } catch (err) {
          if (err instanceof PythonError) throw err;
          const e = err instanceof Error ? err : new Error(String(err));
          // As a Python exception: only this call fails, with the handler's type and message.
          throw new PythonError(op, e.name, e.message, e.stack ?? '');
        }
      })();
      return timer === undefined && onAbort === undefined ? await running : await Promise.race([running, ended]);
    } finally {
      if (timer !== undefined) runtime.clock.clearTimeout(timer);
      if (onAbort) outer?.removeEventListener('abort', onAbort);
    }
  }

  session(id: string, now: number): SessionState {
    if (!this.sessions) throw new SessionsDisabledError(this.name);
    return this.sessions.lookup(id, now);
  }

  endSession(id: string): boolean {
    if (!this.sessions) throw new SessionsDisabledError(this.name);
    return this.sessions.end(id);
  }

  status(now: number): FakeStatus {
    const status: FakeStatus = { handlers: Object.keys(this.handlers).sort(), calls: this.calls, errors: this.errors };
    if (this.sessions) {
      const { bound, expired, lost } = this.sessions.stats(now);
      status.sessions = { ttl: this.sessions.ttl === Infinity ? 'infinity' : this.sessions.ttl, bound, expired, lost };
    }
    return status;
  }
}

/**
 * An in-process stand-in for a Python service: operations are JavaScript functions
 * `(args, ctx) => result` (sync or async), called with the same `run(op, args, { session,
 * timeout, signal })` as a pool, with the same errors and the same session semantics —
 * `ctx.session`, `ctx.state` private to the session, expiry on the runtime clock, state dropped
 * when a session ends or expires. Args and results pass through JSON as over the bridge's pipe.
 * For unit tests that must run without Python; `pythonService({ backend: 'fake', fake })` runs
 * it as a service's backend.
 *
 * @example
 * ```ts
 * const fake = fakeBackend({ handlers: { embed: ({ text }) => ({ vector: [text.length] }) } });
 * await runtime.start(fake, { name: 'py.fake' });
 * ```
 * @throws InvalidOptionError naming the key for bad options.
 */
export function fakeBackend(options: FakeBackendOptions) {
  const { handlers, ttl, callTimeout } = parse(options);
  return defineServer<FakeCore, { name?: string } | undefined, { fake: 'status' } | { fake: 'endSession'; id: string } | { fake: 'session'; id: string }>({
    name: 'fake',
    init: (input, ctx) => ({ state: new FakeCore(input?.name ?? String(ctx.self), ctx.self, handlers, ttl, callTimeout) }),
    handleCall: (request, from, core, ctx) => {
      const now = ctx.runtime.clock.now();
      try {
        switch (request?.fake) {
          case 'status':
            return { reply: core.status(now) };
          case 'session':
            return { reply: core.session(request.id, now) };
          case 'endSession':
            return { reply: core.endSession(request.id) };
          default:
            throw new InvalidOptionError('fakeBackend request', 'a request of the Service API', request);
        }
      } catch (err) {
        // A typed answer to the caller; the fake itself carries on, as a pool manager does.
        ctx.runtime.replyError(from, err);
        return { noreply: true };
      }
    },
  });
}

/** The running fake backend's core, read in the caller (undefined if none runs there). @internal */
export function fakeCoreOf(runtime: Runtime, target: string): FakeCore | undefined {
  let actor;
  try {
    actor = runtime.actorOf(target);
  } catch {
    return undefined;
  }
  const state = (actor?.getSnapshot() as { context?: unknown } | undefined)?.context;
  return state instanceof FakeCore ? state : undefined;
}
