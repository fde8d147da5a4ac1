/**
 * What kind of failure an error code is, and whether trying again can help, so a caller (or
 * `retry`) decides from data instead of matching messages. Each layer declares its own codes
 * next to its error classes with `defineErrorCodes`; `XotpError.category` and `.retryable` read
 * this table. Codes are stable strings, so the table is plain data shared process-wide: it is
 * written once per code when a module loads and never changes after.
 *
 * - `transient`: the operation did not run; the same call may succeed shortly (a process being
 *   restarted, a bridge not yet up).
 * - `crashed`: the worker died (or broke the protocol) while the call was in flight: it may have
 *   run, so only idempotent calls are retried.
 * - `timeout`: no answer in time: it may have run, so only idempotent calls are retried.
 * - `overload`: too much work queued; the call did not run.
 * - `bad_input`: the caller's input or options are wrong; retrying cannot help.
 * - `python`: the Python handler raised; it is the handler's answer, not a fault of the worker.
 * - `session`: the session's own state (expired, lost): start a new session; retrying the same
 *   one cannot help.
 * - `cancelled`: the caller aborted.
 * - `permanent`: a state that will not change by waiting (a module that cannot import, an
 *   expired session, a runtime that shut down).
 */
export type ErrorCategory =
  | 'transient'
  | 'crashed'
  | 'timeout'
  | 'overload'
  | 'bad_input'
  | 'python'
  | 'session'
  | 'cancelled'
  | 'permanent';

export interface ErrorKind {
  readonly category: ErrorCategory;
  readonly retryable: boolean;
}

/**
 * Error code → kind. Process-wide on purpose, and safe: it is filled when modules load (each
 * layer declares its own codes), a code can only be declared with one kind, and it describes
 * the library's code, not any runtime's state.
 */
const table = new Map<string, ErrorKind>();
const unknownKind: ErrorKind = Object.freeze({ category: 'permanent', retryable: false });

/** Declares the category and retryability of error codes. A code is declared once. @internal */
export function defineErrorCodes(entries: Record<string, ErrorKind>): void {
  for (const [code, kind] of Object.entries(entries)) {
    const known = table.get(code);
    if (known && (known.category !== kind.category || known.retryable !== kind.retryable)) {
      throw new Error(`xotp: error code '${code}' declared twice with different kinds`);
    }
    table.set(code, Object.freeze({ category: kind.category, retryable: kind.retryable }));
  }
}

/** The kind of an error code; an undeclared code is permanent and not retryable. */
export function errorKindOf(code: string): ErrorKind {
  return table.get(code) ?? unknownKind;
}

/** Error classes by code, for errors rebuilt from another node's answer (see `defineErrorClasses`). */
const classes = new Map<string, abstract new (...args: never[]) => Error>();

/**
 * Declares which class an error code is, so that an error another node answers is rebuilt as
 * that class (`instanceof` works as for a local error). Each layer declares its own classes
 * beside its codes; a class a caller can test with `instanceof` has been loaded, so declared.
 * @internal
 */
export function defineErrorClasses(entries: Record<string, abstract new (...args: never[]) => Error>): void {
  for (const [code, cls] of Object.entries(entries)) classes.set(code, cls);
}

/** The class declared for an error code, if any. @internal */
export function errorClassOf(code: string): (abstract new (...args: never[]) => Error) | undefined {
  return classes.get(code);
}

/** Every declared error code with its kind, sorted by code (the README's table is checked against it). */
export function errorCodes(): Array<{ code: string } & ErrorKind> {
  return [...table].map(([code, kind]) => ({ code, ...kind })).sort((a, b) => a.code.localeCompare(b.code));
}

defineErrorCodes({
  noproc: { category: 'transient', retryable: true },
  timeout: { category: 'timeout', retryable: true },
  aborted: { category: 'cancelled', retryable: false },
  invalid_option: { category: 'bad_input', retryable: false },
  already_registered: { category: 'bad_input', retryable: false },
  exit: { category: 'crashed', retryable: true },
  start_failed: { category: 'permanent', retryable: false },
  runtime_stopped: { category: 'permanent', retryable: false },
  leak: { category: 'permanent', retryable: false },
  unknown_registry: { category: 'permanent', retryable: false },
  not_serializable: { category: 'bad_input', retryable: false },
});
