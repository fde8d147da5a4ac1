/**
 * Why a process ended, in OTP's vocabulary.
 *
 * - `'normal'`: it finished (an xstate actor reached `done`).
 * - `'shutdown'` / `{ shutdown: detail }`: it was asked to stop, or stopped itself cleanly.
 * - `'killed'`: it received the untrappable `kill` signal.
 * - `'noproc'`: used in DOWN and EXIT messages about a process that did not exist.
 * - anything else (usually an `Error`): it crashed with that value.
 */
// Any value can be an exit reason, as any term can in OTP; the names above are the ones with
// meaning to the runtime. Kept as `unknown` so an `Error` or a custom tuple needs no cast.
export type ExitReason = unknown;

/** `{ shutdown: detail }`. */
export function isShutdownTuple(reason: unknown): reason is { shutdown: unknown } {
  return (
    typeof reason === 'object' &&
    reason !== null &&
    !(reason instanceof Error) &&
    Object.keys(reason).length === 1 &&
    'shutdown' in reason
  );
}

/**
 * OTP's "clean" reasons: `normal`, `shutdown` and `{ shutdown: _ }`. They are not crash-reported
 * and a transient child that exits with one is not restarted (otp-semantics §1.1 rule 10).
 */
export function isCleanExit(reason: unknown): boolean {
  return reason === 'normal' || reason === 'shutdown' || isShutdownTuple(reason);
}

/** A one-line human form of a reason, for logs and error messages. */
export function formatReason(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  if (typeof reason === 'string') return reason;
  if (reason === undefined) return 'undefined';
  if (isPidShaped(reason)) return `<${reason.node}.${reason.id}>`;
  try {
    return (
      JSON.stringify(reason, (_key, value: unknown) =>
        // Pids read as <node.id>, as everywhere else, not as their JSON form; an Error inside a
        // reason ({ shutdown: { failedToStartChild, reason } }) as its name and message, not `{}`.
        isPidShaped(value) ? `<${value.node}.${value.id}>` : value instanceof Error ? `${value.name}: ${value.message}` : value,
      ) ?? String(reason)
    );
  } catch {
    return String(reason);
  }
}

function isPidShaped(value: unknown): value is { node: string; id: number } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { node?: unknown; id?: unknown };
  return typeof v.node === 'string' && Number.isInteger(v.id);
}
