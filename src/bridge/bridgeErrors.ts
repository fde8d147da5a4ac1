import { XotpError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';

/**
 * The bridge is not running (stopped, stopping, or never started): the call was not sent — or,
 * for a call still waiting when a stop began, it was abandoned (`detail` says which).
 */
export class BridgeNotRunningError extends XotpError {
  constructor(bridge: string, state: string, detail = 'the call was not sent') {
    super('bridge_not_running', `bridge ${bridge} is not running (${state}); ${detail}`);
  }
}

/** The OS process exited; every call that was pending fails with this. */
export class BridgeExitedError extends XotpError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The last lines the process wrote to stderr. */
  readonly stderrTail: readonly string[];

  constructor(bridge: string, exitCode: number | null, signal: string | null, stderrTail: readonly string[], why?: string) {
    const how = signal ? `exited with signal ${signal}` : exitCode !== null ? `exited with exit code ${exitCode}` : 'is gone';
    const tail = stderrTail.length > 0 ? `\n  stderr:\n    ${stderrTail.join('\n    ')}` : '';
    super('bridge_exited', `bridge ${bridge}: the Python process ${how}${why ? ` (${why})` : ''}${tail}`);
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
  }
}

/** The Python process did not say `ready` in time, or could not be started at all. */
export class BridgeStartupError extends XotpError {
  readonly stderrTail: readonly string[];
  /**
   * The signal that ended the process before its handshake, if one did (null otherwise). A
   * SIGKILL or SIGTERM from outside says nothing about the module; a pool restarts such a worker
   * at once instead of backing off.
   */
  readonly signal: string | null;
  constructor(bridge: string, why: string, stderrTail: readonly string[] = [], cause?: unknown, signal: string | null = null) {
    const tail = stderrTail.length > 0 ? `\n  stderr:\n    ${stderrTail.join('\n    ')}` : '';
    super('bridge_startup', `bridge ${bridge} failed to start: ${why}${tail}`, { cause });
    this.stderrTail = stderrTail;
    this.signal = signal;
  }
}

/**
 * The protocol broke: the Python side sent garbage bytes, invalid JSON, an oversize or unknown
 * frame (`frame_too_large`, `invalid_json`, `bad_message`), a bad handshake (`bad_handshake`),
 * or it rejected a frame the Node side sent (`rejected`, with Python's own description).
 */
export class ProtocolError extends XotpError {
  readonly kind: 'frame_too_large' | 'invalid_json' | 'bad_message' | 'bad_handshake' | 'rejected';
  constructor(kind: ProtocolError['kind'], message: string) {
    super('protocol', message);
    this.kind = kind;
  }
}

/** The Python handler raised: its exception type, message and traceback. Only that call fails. */
export class PythonError extends XotpError {
  readonly type: string;
  readonly traceback: string;
  constructor(op: string, type: string, message: string, traceback: string) {
    super('python_error', `${op}: ${type}: ${message}`);
    this.type = type;
    this.traceback = traceback;
  }
}

/**
 * A call outlived its deadline and Python did not let go of it within `cancelGrace`: neither
 * acknowledged the cancel nor replied late. Whatever holds the call (a synchronous handler that
 * never returns) would make every later call time out, so the bridge ends with this reason and
 * its supervisor (or pool) replaces it.
 */
export class BridgeWedgedError extends XotpError {
  readonly op: string;
  /** The wire id of the call that wedged it. */
  readonly callId: number;
  /** The call's deadline (ms). */
  readonly timeout: number;
  /** ms given to Python after the deadline to let go of the call. */
  readonly cancelGrace: number;
  constructor(bridge: string, op: string, callId: number, timeout: number, cancelGrace: number) {
    super(
      'bridge_wedged',
      `bridge ${bridge} is wedged: call '${op}' (id ${callId}) outlived its ${timeout} ms deadline and Python did not ` +
        `acknowledge its cancel within cancelGrace (${cancelGrace} ms; ${timeout + cancelGrace} ms in all); the process is killed so it can be replaced`,
    );
    this.op = op;
    this.callId = callId;
    this.timeout = timeout;
    this.cancelGrace = cancelGrace;
  }
}

/** Too many calls are already waiting for the bridge (`maxPending`). */
export class BridgeOverloadedError extends XotpError {
  constructor(bridge: string, maxPending: number) {
    super('bridge_overloaded', `bridge ${bridge} already has ${maxPending} calls pending (maxPending)`);
  }
}

/** A call's payload is larger than `maxFrameBytes`: refused before anything was sent. */
export class PayloadTooLargeError extends XotpError {
  readonly bytes: number;
  constructor(bridge: string, bytes: number, max: number) {
    super('payload_too_large', `call to bridge ${bridge}: payload of ${bytes} bytes exceeds maxFrameBytes (${max})`);
    this.bytes = bytes;
  }
}

/**
 * A Python command could not be run to find the interpreter behind it (`resolvePython`): not on
 * PATH, not executable, or it failed. `command` is what was named; `cause` is the OS's error.
 */
export class PythonNotFoundError extends XotpError {
  readonly command: string;
  constructor(command: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('python_not_found', `could not run '${command}' to find its Python interpreter: ${why}`, { cause });
    this.command = command;
  }
}

defineErrorCodes({
  python_not_found: { category: 'permanent', retryable: false },
  bridge_not_running: { category: 'transient', retryable: true },
  bridge_exited: { category: 'crashed', retryable: true },
  bridge_startup: { category: 'permanent', retryable: false },
  protocol: { category: 'crashed', retryable: true },
  bridge_wedged: { category: 'crashed', retryable: true },
  python_error: { category: 'python', retryable: false },
  bridge_overloaded: { category: 'overload', retryable: true },
  payload_too_large: { category: 'bad_input', retryable: false },
});

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ python_not_found: PythonNotFoundError, bridge_not_running: BridgeNotRunningError, bridge_exited: BridgeExitedError, bridge_startup: BridgeStartupError, protocol: ProtocolError, bridge_wedged: BridgeWedgedError, python_error: PythonError, bridge_overloaded: BridgeOverloadedError, payload_too_large: PayloadTooLargeError });
