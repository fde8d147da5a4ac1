import { combineSignals } from '../runtime/combineSignals.js';
import { AbortError, InvalidOptionError, NoProcessError, ProcessExitError, TimeoutError, XotpError } from '../runtime/errors.js';
import { distributionOf } from '../runtime/distribution.js';
import { errorClassOf } from '../runtime/errorTaxonomy.js';
import { serializeReason } from '../runtime/serializeReason.js';
import { checkSerializable } from '../runtime/serializable.js';
import { validateOptions, optional, isTimeout, isString, isBoolean, instanceOf, matching, anything } from '../runtime/validate.js';
import type { Runtime } from '../runtime/runtime.js';
import type { TransportEndpoint } from '../runtime/transport.js';
import { Pool, poolSessionTtl, type PoolRunOptions } from '../workers/poolClient.js';
import { SessionRoutes, type SessionRoute } from './sessionRoutes.js';
import { SessionExpiredError, SessionLostError, SessionsDisabledError } from '../workers/poolErrors.js';
import type { OpArgs, OpResult, PoolOps } from '../workers/poolHandle.js';
import { PoolUnreachableError } from './remotePoolErrors.js';

/** A call as it travels to the node that runs it. */
interface RunRequest {
  op: string;
  args: unknown;
  session?: string;
  /** ms; -1 for 'infinity' (JSON has no Infinity). */
  timeout: number;
  checkoutTimeout: number;
  idempotent?: boolean;
  retry?: unknown;
}

/** Ends a session where it is bound (`Pool.endSession` on that node). */
interface EndRequest {
  end: string;
}

/**
 * The answer, naming the node that ran it (a session's calls go there from then on); to a
 * session's call, with the pool's session TTL when it has sessions (see SessionRoutes).
 */
type RunAnswer = ({ node: string; ok: true; value: unknown } | { node: string; ok: false; error: unknown }) & { ttl?: number };

const poolNamePattern = /^[A-Za-z0-9_-]+$/;
const poolName = matching(poolNamePattern, 'a pool name of letters, digits, _ or - (it is part of a NATS subject)');

/** The queue group's subject: one serving node answers. */
function sharedSubject(pool: string): string {
  return `pool.${pool}`;
}

/** One node's own subject for the pool: where the calls of a session bound there go. */
function nodeSubject(node: string, pool: string): string {
  return `${node}.pool.${pool}`;
}

/** Requests cannot wait forever on a real network: 'infinity' waits this long (about 24 days). */
const LONGEST_WAIT = 2 ** 31 - 1;

function endpointOf(runtime: Runtime, where: string): TransportEndpoint {
  const distribution = distributionOf(runtime);
  if (distribution === undefined) throw new InvalidOptionError(`${where}.runtime`, 'a runtime created with a transport', runtime.name);
  return distribution.endpoint;
}

/** What `servePool` returns. */
export interface PoolService {
  /** The pool served. */
  readonly pool: string;
  /**
   * Resolves once the network delivers calls to this node: NATS sets a subscription up
   * asynchronously, and a call from another node before then finds nobody serving
   * (`PoolUnreachableError`). Await it before telling other nodes to call.
   */
  readonly ready: Promise<void>;
  /** Stops serving it to other nodes (calls already running finish and answer). Idempotent. */
  close(): void;
}

/**
 * Serves the pool `pool` of `runtime` to the other nodes of its network: `remotePool(rt, pool)`
 * on any node reaches it. Several nodes serving the same pool name share its calls through one
 * queue group (each call goes to one of them); the calls of a session go to the node that
 * bound it, on that node's own subject. The calls run as `Pool.run` on this node, with its
 * typed errors, which travel back as the same classes.
 *
 * @throws InvalidOptionError when `runtime` has no transport, or `pool` is not a name of
 *   letters, digits, `_` or `-`.
 */
export function servePool(runtime: Runtime, pool: string): PoolService {
  const name = poolName(pool, 'servePool.pool');
  const endpoint = endpointOf(runtime, 'servePool');
  const node = runtime.name;
  const handle = (data: string, respond: ((data: string) => void) | undefined) => {
    if (respond === undefined) return;
    let request: RunRequest | EndRequest;
    try {
      request = JSON.parse(data) as RunRequest | EndRequest;
    } catch {
      runtime.logger.warn(`servePool '${name}': a request from another node was not JSON; dropped`);
      return;
    }
    const ttl = 'end' in request || request.session === undefined ? undefined : poolSessionTtl(runtime, name);
    const answer = (a: RunAnswer) => {
      if (ttl !== undefined) a.ttl = ttl;
      try {
        respond(JSON.stringify(a));
      } catch (err) {
        respond(JSON.stringify({ node, ok: false, error: serializeReason(err) } satisfies RunAnswer));
      }
    };
    const ran = (value: unknown) => answer({ node, ok: true, value });
    const failed = (err: unknown) => answer({ node, ok: false, error: serializeReason(err) });
    if ('end' in request) {
      Pool.endSession(runtime, name, request.end).then(ran, failed);
      return;
    }
    const options: PoolRunOptions = {
      timeout: request.timeout < 0 ? 'infinity' : request.timeout,
      checkoutTimeout: request.checkoutTimeout < 0 ? 'infinity' : request.checkoutTimeout,
      ...(request.session !== undefined ? { session: request.session } : {}),
      ...(request.idempotent !== undefined ? { idempotent: request.idempotent } : {}),
      ...(request.retry !== undefined ? { retry: request.retry as PoolRunOptions['retry'] } : {}),
    };
    Pool.run(runtime, name, request.op, request.args, options).then(ran, failed);
  };
  const offShared = endpoint.queueSubscribe(sharedSubject(name), sharedSubject(name), handle);
  const offOwn = endpoint.subscribe(nodeSubject(node, name), handle);
  let open = true;
  const ready = endpoint.flush();
  ready.catch(() => undefined); // a connection closing meanwhile: nothing to wait for
  return {
    pool: name,
    ready,
    close() {
      if (!open) return;
      open = false;
      offShared();
      offOwn();
    },
  };
}

/** Options of `remotePool`. */
export interface RemotePoolOptions {
  /**
   * A run's call timeout when it passes none, in ms (sent to the serving node, which applies it
   * as `Pool.run`'s `timeout`). Default 30 000.
   */
  timeout?: number | 'infinity';
  /** A run's checkout timeout when it passes none. Default 5000 (a pool's own default). */
  checkoutTimeout?: number | 'infinity';
}

/** Options of a remote `run`: those of `Pool.run`; `signal` only stops this caller's wait. */
export type RemotePoolRunOptions = PoolRunOptions;

/** A pool served by other nodes (or this one), reached over the transport. See {@link remotePool}. */
export interface RemotePool<Ops extends PoolOps<Ops>> {
  readonly runtime: Runtime;
  readonly name: string;
  /** `Pool.run` on a node that serves the pool; throws what `Pool.run` throws, plus PoolUnreachableError. */
  run<K extends keyof Ops & string>(op: K, args: OpArgs<Ops, K>, options?: RemotePoolRunOptions): Promise<OpResult<Ops, K>>;
  /** The node a session is bound to (undefined before its first call, or once ended here). */
  sessionNode(session: string): string | undefined;
  /** Ends a session on its node (`Pool.endSession` there) and forgets where it was; returns whether it was bound. */
  endSession(session: string): Promise<boolean>;
}

type AnyOps = Record<string, readonly [unknown, unknown]>;

/**
 * A pool reached over the runtime's transport, on whichever nodes serve it (`servePool`):
 * `run(op, args, options)` as `Pool.run`, with the same typed errors.
 *
 * - A call without a session goes to the pool's queue group: one serving node takes it.
 * - A session's first call does too; the answer names the node that bound it, and every later
 *   call of the session goes straight to that node (never through the queue group, so it stays
 *   on its worker). If that node goes away (or restarts), the session's calls fail with
 *   SessionLostError, those in flight included.
 * - No node serving the pool: PoolUnreachableError at once.
 * - The caller waits the run's `timeout` plus its `checkoutTimeout` (the serving node answers
 *   within them) and one second more, then fails with TimeoutError: a serving node that dies
 *   mid-call without a session is only noticed so.
 *
 * @throws InvalidOptionError when `runtime` has no transport, or `name` is not a name of
 *   letters, digits, `_` or `-`.
 */
export function remotePool<Ops extends PoolOps<Ops> = AnyOps>(runtime: Runtime, name: string, options: RemotePoolOptions = {}): RemotePool<Ops> {
  const pool = poolName(name, 'remotePool.name');
  const o = validateOptions('remotePool', options, { timeout: optional(isTimeout, 30_000), checkoutTimeout: optional(isTimeout, 5000) });
  const distribution = distributionOf(runtime);
  if (distribution === undefined) throw new InvalidOptionError('remotePool.runtime', 'a runtime created with a transport', runtime.name);
  const endpoint = distribution.endpoint;
  /** Whether a session's node left (or restarted) since it bound the session: its state is gone. */
  const departed = (route: SessionRoute) => route.node !== undefined && distribution.departures(route.node) !== route.departures;
  const sessions = new SessionRoutes(() => runtime.clock.now(), departed);

  const send = async (subject: string, node: string | undefined, message: unknown, wait: number, signal: AbortSignal | undefined): Promise<RunAnswer> => {
    // A session's call ends with its node (noconnection), as a remote call does.
    const { signal: both, release } = combineSignals(node === undefined ? undefined : distribution.nodeSignal(node), signal);
    try {
      return JSON.parse(await endpoint.request(subject, JSON.stringify(message), { timeout: wait, signal: both })) as RunAnswer;
    } finally {
      release();
    }
  };

  const run = async (op: string, args: unknown, options: RemotePoolRunOptions = {}): Promise<unknown> => {
    if (typeof op !== 'string') throw new InvalidOptionError('Pool.run.op', 'an operation name', op);
    const r = validateOptions('Pool.run', options, {
      session: optional(isString),
      timeout: optional(isTimeout),
      checkoutTimeout: optional(isTimeout),
      signal: optional(instanceOf(AbortSignal, 'an AbortSignal')),
      retry: optional(anything),
      idempotent: optional(isBoolean),
    });
    const timeout = r.timeout ?? o.timeout;
    const checkoutTimeout = r.checkoutTimeout ?? o.checkoutTimeout;
    const request: RunRequest = {
      op,
      args,
      timeout: timeout === Infinity ? -1 : timeout,
      checkoutTimeout: checkoutTimeout === Infinity ? -1 : checkoutTimeout,
      ...(r.session !== undefined ? { session: r.session } : {}),
      ...(r.idempotent !== undefined ? { idempotent: r.idempotent } : {}),
      ...(r.retry !== undefined ? { retry: r.retry } : {}),
    };
    checkSerializable(request, 'Pool.run');
    if (r.signal?.aborted) throw new AbortError('Pool.run', r.signal.reason);
    // The serving node answers within its checkout and call deadlines: a second more covers the way.
    const wait = timeout === Infinity || checkoutTimeout === Infinity ? LONGEST_WAIT : Math.min(LONGEST_WAIT, timeout + checkoutTimeout + 1000);
    const session = r.session;
    if (session === undefined) return answered(await sendOrTranslate(sharedSubject(pool), undefined, request, wait, r.signal, session));
    let route = sessions.get(session);
    // The session's first call is in flight: where it lands is where this one must go.
    while (route?.first !== undefined) {
      await route.first;
      route = sessions.get(session);
    }
    if (route?.node !== undefined) {
      if (departed(route)) {
        sessions.retire(session);
        throw new SessionLostError(pool, session, `its node '${route.node}' is gone`);
      }
      return sessionAnswered(session, route, () => sendOrTranslate(nodeSubject(route.node!, pool), route.node, request, wait, r.signal, session));
    }
    let done!: () => void;
    const entry = sessions.open(session, new Promise<void>((resolve) => (done = resolve)));
    let answer: RunAnswer;
    try {
      answer = await sendOrTranslate(sharedSubject(pool), undefined, request, wait, r.signal, session);
      // Bound there whatever the outcome (a Python error does not unbind a session).
      entry.node = answer.node;
      entry.departures = distribution.departures(answer.node);
    } catch (err) {
      // No node took it (or none answered): the next call of the session starts afresh.
      sessions.delete(session);
      throw err;
    } finally {
      entry.first = undefined;
      done();
    }
    return sessionAnswered(session, entry, () => Promise.resolve(answer));
  };

  /** A session call's answer: its route notes it, and is retired when the session is not held there any more. */
  const sessionAnswered = async (session: string, route: SessionRoute, call: () => Promise<RunAnswer>): Promise<unknown> => {
    try {
      const answer = await call();
      // Any answer is a use (a Python error too); one saying the session is gone retires it below.
      sessions.answered(session, route, answer.ttl);
      return answered(answer);
    } catch (err) {
      if (err instanceof SessionLostError || err instanceof SessionExpiredError || err instanceof SessionsDisabledError) sessions.retire(session);
      throw err;
    }
  };

  const sendOrTranslate = async (subject: string, node: string | undefined, message: RunRequest, wait: number, signal: AbortSignal | undefined, session: string | undefined) => {
    try {
      return await send(subject, node, message, wait, signal);
    } catch (err) {
      if (signal?.aborted) throw new AbortError('Pool.run', signal.reason);
      if (node !== undefined && session !== undefined) {
        // The session's node no longer answers (it left, or stopped serving): its state is gone.
        if (err instanceof ProcessExitError) throw new SessionLostError(pool, session, `its node '${node}' is gone`);
        if (err instanceof NoProcessError) throw new SessionLostError(pool, session, `its node '${node}' does not serve the pool any more`);
      }
      if (err instanceof NoProcessError) throw new PoolUnreachableError(pool);
      if (err instanceof TimeoutError) throw new TimeoutError('Pool.run', wait, pool);
      throw err;
    }
  };

  return {
    runtime,
    name: pool,
    run: run as RemotePool<Ops>['run'],
    sessionNode: (session) => sessions.get(session)?.node,
    async endSession(session) {
      const route = sessions.delete(session);
      if (route?.node === undefined || departed(route)) return false;
      const answer = await send(nodeSubject(route.node, pool), route.node, { end: session } satisfies EndRequest, o.timeout === Infinity ? LONGEST_WAIT : o.timeout, undefined).catch(() => undefined);
      return answer?.ok === true && answer.value === true;
    },
  };
}

function answered(answer: RunAnswer): unknown {
  if (answer.ok) return answer.value;
  throw decodeError(answer.error, answer.node);
}

/**
 * The serving node's error as the caller's: the same class (so `instanceof` and `code` work as
 * for a local `Pool.run`), its fields, and `node` naming where it happened.
 */
function decodeError(error: unknown, node: string): Error {
  if (typeof error !== 'object' || error === null) return new Error(String(error));
  const e = error as { name?: string; message?: string; code?: string; stack?: string; [k: string]: unknown };
  // The class each layer declared for the code (defineErrorClasses), as the kernel's calls do.
  const cls = typeof e.code === 'string' ? errorClassOf(e.code) : undefined;
  // A real Error (what test runners and loggers recognise) given the class's prototype: the
  // constructors take arguments of their own that the wire does not carry.
  const out = (typeof e.code === 'string' ? new XotpError(e.code, '') : new Error('')) as Error & Record<string, unknown>;
  if (cls !== undefined) Object.setPrototypeOf(out, cls.prototype);
  for (const [k, v] of Object.entries(e)) {
    if (k !== 'stack') Object.defineProperty(out, k, { value: v, writable: true, enumerable: k !== 'message' && k !== 'name', configurable: true });
  }
  out.message = e.message ?? '';
  Object.defineProperty(out, 'stack', { value: `${e.name ?? 'Error'}: ${out.message}\n    on node '${node}'`, writable: true, configurable: true });
  out.node = node;
  return out;
}
