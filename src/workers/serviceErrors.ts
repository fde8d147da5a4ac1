import { XotpError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';

/** The backends a Python service can run on. */
export type ServiceBackend = 'pool' | 'bridge' | 'fake';

/**
 * A caller asked a service for a backend that is not the one running: another one is (the
 * service chose it by its option, `XOTP_BACKEND` or the default), or no service of that name
 * runs at all. Never answered by another backend instead: the seed system's test modes silently
 * ran a mock, a single bridge or a pool in place of the one a test expected (seed errors 1, 12,
 * 19, 22, 23–28).
 */
export class ServiceBackendError extends XotpError {
  readonly service: string;
  /** What the caller expected (undefined: any backend would have done). */
  readonly expected: ServiceBackend | undefined;
  /** What runs, or null when nothing does. */
  readonly running: ServiceBackend | null;

  constructor(service: string, expected: ServiceBackend | undefined, running: ServiceBackend | null, why?: string) {
    const wanted = expected === undefined ? 'a backend' : `backend '${expected}'`;
    const has = running === null ? 'nothing is running' : `'${running}' is running`;
    super('backend_not_running', `service '${service}' expected ${wanted} but ${has}${why ? ` (${why})` : ''}`);
    this.service = service;
    this.expected = expected;
    this.running = running;
  }
}

defineErrorCodes({
  // The service runs another backend, or none: a configuration (or start order) to fix, not a
  // moment to wait out.
  backend_not_running: { category: 'permanent', retryable: false },
});

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ backend_not_running: ServiceBackendError });
