/**
 * Restart intensity, counted exactly as OTP's `add_restart` (otp-semantics §1.7): one list of
 * restart timestamps per supervisor; a restart attempt adds `now` after dropping timestamps
 * older than the window; more than `maxRestarts` entries means the limit is exceeded.
 *
 * The one difference from OTP: timestamps are milliseconds on the runtime clock, not whole
 * seconds, so the window is exactly `maxSeconds` long (OTP's is between `maxSeconds` and
 * `maxSeconds + 1` s, depending on where the second boundary falls). The window is inclusive,
 * as in OTP: a restart exactly `maxSeconds` ago still counts.
 *
 * @returns the new timestamp list (newest first) and whether the limit is exceeded.
 */
export function addRestart(
  restarts: readonly number[],
  now: number,
  maxRestarts: number,
  periodMs: number,
): { restarts: number[]; exceeded: boolean } {
  const kept = restarts.filter((t) => now - t <= periodMs);
  const next = [now, ...kept];
  return { restarts: next, exceeded: next.length > maxRestarts };
}
