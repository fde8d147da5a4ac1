import { XotpError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';

/**
 * No node serves the pool (`servePool`) right now: the call was not sent to any worker. Fails
 * at once (NATS's "no responders"), never after a timeout.
 */
export class PoolUnreachableError extends XotpError {
  readonly pool: string;
  constructor(pool: string) {
    super('pool_unreachable', `pool '${pool}': no node serves it (servePool) right now; the call was not sent`);
    this.pool = pool;
  }
}

defineErrorCodes({
  // Nothing ran: a node that serves the pool may join or restart shortly.
  pool_unreachable: { category: 'transient', retryable: true },
});

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ pool_unreachable: PoolUnreachableError });
