import { formatReason } from './exitReason.js';
import { defineErrorClasses, errorKindOf, type ErrorCategory } from './errorTaxonomy.js';

/**
 * Base class of every error xotp raises. `code` is stable across versions and safe to switch on;
 * the message is for humans and may change.
 */
export class XotpError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** What kind of failure this is (see the error table in the README). */
  get category(): ErrorCategory {
    return errorKindOf(this.code).category;
  }

  /**
   * Whether trying again can help. For the `crashed` and `timeout` categories the operation may
   * have run, so a retry is only safe for idempotent operations (`retry` checks this).
   */
  get retryable(): boolean {
    return errorKindOf(this.code).retryable;
  }
}

/** How errors name a target: `'name'`, `<node.id>`, or `{ via: 'Reg', key: ... }`. @internal */
export function describeTarget(target: unknown): string {
  if (typeof target === 'string') return `'${target}'`;
  if (typeof target === 'object' && target !== null && typeof (target as { via?: unknown }).via === 'string') {
    const via = target as { via: string; key: unknown };
    return `{ via: '${via.via}', key: ${formatReason(via.key)} }`;
  }
  return formatReason(target);
}

/** The target process does not exist: a dead pid, an unknown name, or a runtime that has stopped. */
export class NoProcessError extends XotpError {
  readonly target: unknown;

  constructor(target: unknown, operation?: string, hint?: string) {
    const where = operation ? ` (${operation})` : '';
    super(
      'noproc',
      `no process ${describeTarget(target)}${where}: it is not alive or no process is registered under that name${hint ? `. ${hint}` : ''}`,
    );
    this.target = target;
  }
}

/** A deadline passed: a call that got no reply in time, or a stop that did not finish in time. */
export class TimeoutError extends XotpError {
  readonly timeout: number;

  constructor(operation: string, timeout: number, target?: unknown) {
    super(
      'timeout',
      `${operation}${target === undefined ? '' : ` to ${describeTarget(target)}`} timed out after ${timeout} ms`,
    );
    this.timeout = timeout;
  }
}

/** An `AbortSignal` passed in by the caller fired; `cause` is the signal's reason. */
export class AbortError extends XotpError {
  constructor(operation: string, cause: unknown) {
    super('aborted', `${operation} was aborted`, { cause });
  }
}

/** An option or argument has the wrong shape. Names the key, what was expected and what came. */
export class InvalidOptionError extends XotpError {
  readonly key: string;
  readonly expected: string;
  readonly received: unknown;
  readonly hint: string | undefined;

  constructor(key: string, expected: string, received: unknown, hint?: string, code = 'invalid_option') {
    super(
      code,
      `invalid option '${key}': expected ${expected}, got ${describeValue(received)}${hint ? `. ${hint}` : ''}`,
    );
    this.key = key;
    this.expected = expected;
    this.received = received;
    this.hint = hint;
  }
}

/** A name is already taken (or the process already has a name). Carries the owner's pid. */
export class AlreadyRegisteredError extends XotpError {
  readonly registeredName: unknown;
  readonly owner: unknown;

  constructor(name: unknown, owner: unknown, message?: string) {
    super(
      'already_registered',
      message ?? `the name ${describeTarget(name)} is already registered to ${formatReason(owner)}`,
    );
    this.registeredName = name;
    this.owner = owner;
  }
}

/** The process a call was waiting on exited before it replied. `reason` is its exit reason. */
export class ProcessExitError extends XotpError {
  readonly pid: unknown;
  readonly reason: unknown;

  constructor(pid: unknown, reason: unknown, operation = 'call') {
    super('exit', `${formatReason(pid)} exited with reason ${formatReason(reason)} during ${operation}`, {
      cause: reason instanceof Error ? reason : undefined,
    });
    this.pid = pid;
    this.reason = reason;
  }
}

/** A process could not be started: its init stopped, threw, or its logic failed at once. */
export class StartError extends XotpError {
  readonly reason: unknown;

  constructor(what: string, reason: unknown) {
    super('start_failed', `${what} failed to start: ${formatReason(reason)}`, { cause: errorWithin(reason) });
    this.reason = reason;
  }
}

/**
 * The error a start failure comes down to, for `cause`: the reason itself, or the one inside a
 * supervisor's `{ shutdown: { failedToStartChild, reason } }` (however deeply nested), so that
 * `err.cause` names what went wrong rather than `err.reason.shutdown.reason.shutdown.reason`.
 */
function errorWithin(reason: unknown, depth = 0): Error | undefined {
  if (reason instanceof Error) return reason;
  if (depth > 16 || typeof reason !== 'object' || reason === null) return undefined;
  const r = reason as { shutdown?: unknown; reason?: unknown };
  return 'shutdown' in r ? errorWithin(r.shutdown, depth + 1) : 'reason' in r ? errorWithin(r.reason, depth + 1) : undefined;
}

/** The runtime has been shut down; nothing new can be spawned in it. */
export class RuntimeStoppedError extends XotpError {
  constructor(runtimeName: string, operation: string) {
    super('runtime_stopped', `runtime '${runtimeName}' has shut down; cannot ${operation}`);
  }
}

/** A test runtime found processes, timers or OS processes still alive when it was disposed. */
export class LeakError extends XotpError {
  readonly leaks: readonly string[];

  constructor(runtimeName: string, leaks: readonly string[]) {
    super('leak', `runtime '${runtimeName}' leaked ${leaks.length} item(s):\n  ${leaks.join('\n  ')}`);
    this.leaks = leaks;
  }
}

/**
 * A payload bound for another node, or for Python, cannot travel as JSON (a function, a Map, a
 * cycle, a BigInt, ...). `path` points at the offending value (`$.request.items[2]`), or at the
 * payload (`$.args`) when only JSON itself could say what failed.
 */
export class NotSerializableError extends XotpError {
  readonly path: string;

  constructor(operation: string, path: string, what: string, destination: 'another node' | 'Python' = 'another node') {
    super('not_serializable', `${operation} to ${destination}: ${path} is ${what}; payloads ${destination === 'Python' ? 'to Python' : 'between nodes'} must be JSON-serialisable`);
    this.path = path;
  }

  /** What `JSON.stringify` threw (a cycle, a BigInt) for a payload bound for Python. */
  static forPython(operation: string, path: string, thrown: unknown): NotSerializableError {
    return new NotSerializableError(operation, path, `not JSON (${thrown instanceof Error ? thrown.message : String(thrown)})`, 'Python');
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'function') return `a function`;
  if (Array.isArray(value)) return `an array (${formatReason(value).slice(0, 60)})`;
  // JSON would print a Map or a Set as `{}`: say what it is, and what it holds.
  if (value instanceof Map) {
    return value.size === 0 ? 'a Map (empty)' : `a Map (keys: ${[...value.keys()].map((k) => formatReason(k)).join(', ').slice(0, 80)})`;
  }
  if (value instanceof Set) return `a Set (${formatReason([...value]).slice(0, 60)})`;
  if (typeof value === 'object') return `an object ${formatReason(value).slice(0, 80)}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * A registry (name service) that is not running was named: in a via name, a lookup, or the
 * runtime's `nameRegistries`. Lists the registries that are running, so a typo or a missing
 * start is obvious (the seed system's "unknown registry: DSPex.Registry").
 */
export class UnknownRegistryError extends XotpError {
  readonly registry: string;
  readonly running: readonly string[];

  constructor(registry: string, running: readonly string[], wasRunning = false) {
    const list = running.length > 0 ? running.map((r) => `'${r}'`).join(', ') : 'none';
    const state = wasRunning
      ? 'is not running right now (it ran before: it is restarting or was stopped)'
      : 'is not running (never started in this runtime)';
    super('unknown_registry', `unknown registry '${registry}': it ${state}; running registries: ${list}`);
    this.registry = registry;
    this.running = running;
  }
}

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ noproc: NoProcessError, timeout: TimeoutError, aborted: AbortError, invalid_option: InvalidOptionError, already_registered: AlreadyRegisteredError, exit: ProcessExitError, start_failed: StartError, runtime_stopped: RuntimeStoppedError, leak: LeakError, not_serializable: NotSerializableError, unknown_registry: UnknownRegistryError });
