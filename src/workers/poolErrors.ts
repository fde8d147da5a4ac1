import { XotpError } from '../runtime/errors.js';

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
