import type { ProcessMachineEvent } from '../runtime/processMachine.js';
import type { StartOutcome } from './childStart.js';

/** The supervisor's first step, sent to itself (see `processMachine`). @internal */
export const INIT = 'xotp.supervisor.init';
/** A child start finished. @internal */
export const STARTED = 'xotp.supervisor.started';
/** Try a failed restart again (OTP's `try_again_restart`, a cast to itself). @internal */
export const RETRY = 'xotp.supervisor.retry';
/** A terminate step's shutdown timeout ran out. @internal */
export const KILL_TIMEOUT = 'xotp.supervisor.shutdownTimeout';
/** Re-checks what running should do next, after a message was handled outside xstate. @internal */
export const CONTINUE = 'xotp.supervisor.continue';

/** A child start finished: sent by the supervisor to itself. @internal */
export interface StartedMessage {
  readonly type: typeof STARTED;
  /** Which start this answers, so an outcome can never be taken for another start's. */
  readonly token: number;
  readonly outcome: StartOutcome;
}

/** Queued by the supervisor for itself after a restart failed: try it again. @internal */
export interface RetryMessage {
  readonly type: typeof RETRY;
  /** The child's key in the supervisor's table. */
  readonly key: string;
}

/** Raised (delayed) by a terminate step: kill the children with this shutdown time still up. @internal */
export interface KillTimeoutMessage {
  readonly type: typeof KILL_TIMEOUT;
  readonly ms: number;
}

/**
 * Everything a supervisor receives: the kernel's messages (calls, exit signals, DOWNs, stop
 * requests), its init event, and what it sends itself. It and its parts are exported because
 * they are in the type of the logic `supervisor()` returns, which declaration files must name.
 *
 * @internal
 */
export type SupervisorMessage = ProcessMachineEvent<typeof INIT> | StartedMessage | RetryMessage | KillTimeoutMessage | { readonly type: typeof CONTINUE };
