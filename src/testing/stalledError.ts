import { XotpError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';

/**
 * `flush()` found the runtime quiet while some process still holds work it will never carry
 * out on its own (a supervisor at rest between two steps of a restart, say). Calling that
 * "settled" would hide the hang until some unrelated message happened to move it on. Code
 * `stalled`; `stalls` has one line per stalled process.
 */
export class StalledError extends XotpError {
  readonly stalls: readonly string[];

  constructor(runtime: string, stalls: string[]) {
    super('stalled', `runtime '${runtime}' is quiet but work is left queued:\n  ${stalls.join('\n  ')}`);
    this.stalls = stalls;
  }
}

defineErrorCodes({ stalled: { category: 'permanent', retryable: false } });

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ stalled: StalledError });
