import { XotpError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';

/** No worker became free within the checkout deadline. */
export class CheckoutTimeoutError extends XotpError {
  constructor(pool: string, timeout: number) {
    super('checkout_timeout', `pool '${pool}': no worker became free within ${timeout} ms`);
  }
}

/** The pool's wait queue is full (`maxQueue`): the call fails fast instead of waiting. */
export class PoolBusyError extends XotpError {
  constructor(pool: string, maxQueue: number) {
    super('pool_busy', `pool '${pool}': ${maxQueue} callers are already waiting (maxQueue)`);
  }
}

/** The session's TTL passed: it is no longer bound to a worker. Start a new session. */
export class SessionExpiredError extends XotpError {
  readonly session: string;
  constructor(pool: string, session: string) {
    super('session_expired', `pool '${pool}': session '${session}' expired (its TTL passed without use)`);
    this.session = session;
  }
}

/**
 * The worker the session was bound to died: whatever state it held in Python is gone, and the
 * session is not silently moved to another worker. Start a new session.
 */
export class SessionLostError extends XotpError {
  readonly session: string;
  constructor(pool: string, session: string, why: string) {
    super('session_lost', `pool '${pool}': session '${session}' was lost: ${why}`);
    this.session = session;
  }
}

/** The operation needs sessions but the pool was created without them. */
export class SessionsDisabledError extends XotpError {
  constructor(pool: string) {
    super('sessions_disabled', `pool '${pool}' was created without sessions; pass { sessions: { ttl } } to enable them`);
  }
}

/**
 * The pool's workers cannot start: a worker's process exited before its ready handshake (a
 * module that cannot be imported, a wrong interpreter, a startup timeout) and no other start
 * attempt is in flight. The pool keeps retrying with backoff (see `Pool.status().backoff`);
 * `cause` is the worker's own startup error (usually a `BridgeStartupError`), and when Python
 * printed a traceback, `pythonType`, `pythonMessage` and `traceback` carry it (once).
 */
export class PoolStartError extends XotpError {
  readonly pool: string;
  /** Consecutive failed start attempts (reset by the next successful handshake). */
  readonly failures: number;
  /** ms until the next start attempt, or null when one is already under way. */
  readonly nextAttemptInMs: number | null;
  readonly pythonType: string | undefined;
  readonly pythonMessage: string | undefined;
  readonly traceback: string | undefined;

  constructor(pool: string, failures: number, nextAttemptInMs: number | null, cause: unknown) {
    const python = pythonFailureOf(cause);
    const why = python ? (python.message ? `${python.type}: ${python.message}` : python.type) : firstLine(cause);
    const next = nextAttemptInMs === null ? 'retrying now' : `next attempt in ${nextAttemptInMs} ms`;
    super(
      'pool_start_failed',
      `pool '${pool}': its workers cannot start (${failures} failed start attempt${failures === 1 ? '' : 's'} in a row; ${next}): ${why}`,
      { cause },
    );
    this.pool = pool;
    this.failures = failures;
    this.nextAttemptInMs = nextAttemptInMs;
    this.pythonType = python?.type;
    this.pythonMessage = python?.message;
    this.traceback = python?.traceback;
  }
}

/**
 * The pool stopped (or its manager died) while the caller was still waiting for a worker: the
 * call was never sent to any worker.
 */
export class PoolStoppedError extends XotpError {
  readonly pool: string;
  constructor(pool: string, reason: string) {
    super('pool_stopped', `pool '${pool}' stopped (${reason}) while the caller waited for a worker or a retry; that attempt was not sent`);
    this.pool = pool;
  }
}

/** The first line of an error's message (a startup error's message may carry a stderr tail). */
function firstLine(reason: unknown): string {
  const text = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  return text.split('\n', 1)[0]!;
}

/**
 * Python's exception behind a startup error: from the error's own fields when it has them, else
 * from the last traceback in its stderr tail (Python prints `Traceback (most recent call last):`,
 * the frames, then `Type: message`).
 */
function pythonFailureOf(reason: unknown): { type: string; message: string; traceback: string } | undefined {
  if (typeof reason !== 'object' || reason === null) return undefined;
  const r = reason as { pythonType?: unknown; pythonMessage?: unknown; traceback?: unknown; stderrTail?: unknown };
  if (typeof r.pythonType === 'string') {
    return { type: r.pythonType, message: typeof r.pythonMessage === 'string' ? r.pythonMessage : '', traceback: typeof r.traceback === 'string' ? r.traceback : '' };
  }
  if (!Array.isArray(r.stderrTail)) return undefined;
  const lines = r.stderrTail.filter((l): l is string => typeof l === 'string');
  const start = lines.lastIndexOf('Traceback (most recent call last):');
  if (start < 0) return undefined;
  const last = lines.slice(start + 1).findLast((l) => /^[A-Za-z_][\w.]*(:|$)/.test(l));
  if (last === undefined) return undefined;
  const colon = last.indexOf(':');
  return {
    type: colon < 0 ? last : last.slice(0, colon),
    message: colon < 0 ? '' : last.slice(colon + 1).trim(),
    traceback: lines.slice(start, lines.lastIndexOf(last) + 1).join('\n'),
  };
}

defineErrorCodes({
  // The call was not sent to any worker: waiting less, or later, may succeed.
  checkout_timeout: { category: 'overload', retryable: true },
  pool_busy: { category: 'overload', retryable: true },
  // A session's state cannot come back: start a new session.
  session_expired: { category: 'session', retryable: false },
  session_lost: { category: 'session', retryable: false },
  sessions_disabled: { category: 'bad_input', retryable: false },
  // Like bridge_startup: a module that cannot be imported does not fix itself (the pool retries
  // anyway, and Pool.status().backoff says when).
  pool_start_failed: { category: 'permanent', retryable: false },
  pool_stopped: { category: 'permanent', retryable: false },
});

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ checkout_timeout: CheckoutTimeoutError, pool_busy: PoolBusyError, session_expired: SessionExpiredError, session_lost: SessionLostError, sessions_disabled: SessionsDisabledError, pool_start_failed: PoolStartError, pool_stopped: PoolStoppedError });
