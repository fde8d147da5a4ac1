import { XotpError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';

/**
 * The circuit is open: recent calls failed often enough that this one was refused at once,
 * without reaching a worker. `retryIn` says when the breaker will let a probe through (ms).
 */
export class CircuitOpenError extends XotpError {
  readonly circuit: string;
  readonly retryIn: number;
  constructor(circuit: string, retryIn: number, state: 'open' | 'halfOpen' = 'open', cause?: unknown) {
    const why =
      state === 'open'
        ? `it opened after repeated failures; a probe is let through in ${Math.max(0, Math.round(retryIn))} ms`
        : 'it is half-open and its probe calls are all in flight';
    super('circuit_open', `circuit '${circuit}' is open: ${why}`, { cause });
    this.circuit = circuit;
    this.retryIn = retryIn;
  }
}

/**
 * Too many failed operations are being recovered at once (`maxConcurrent`). Checked before
 * anything else about the failure, so a storm of failures cannot queue unbounded retries
 * (the seed system checked the operation first and admitted one recovery too many: its
 * error 20). `cause` is the failure that was not recovered.
 */
export class RecoveryCapacityExceededError extends XotpError {
  readonly maxConcurrent: number;
  constructor(where: string, maxConcurrent: number, cause: unknown) {
    super('recovery_capacity_exceeded', `${where}: ${maxConcurrent} recoveries are already in progress (maxConcurrent); this failure is not retried`, { cause });
    this.maxConcurrent = maxConcurrent;
  }
}

defineErrorCodes({
  circuit_open: { category: 'overload', retryable: false },
  recovery_capacity_exceeded: { category: 'overload', retryable: false },
});

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ circuit_open: CircuitOpenError, recovery_capacity_exceeded: RecoveryCapacityExceededError });
