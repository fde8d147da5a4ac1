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
 * The timestamps are kept oldest first with a moving head, so a restart costs O(1) amortised
 * however many restarts the window holds: OTP filters and copies its whole list on every
 * restart, which the restart bench (a window of thousands) showed as a fifth of a restart's time.
 *
 * @internal
 */
export class RestartLog {
  #times: number[] = [];
  #head = 0;

  /** The restarts in the window as of the last `add` (what OTP's list holds). */
  get length(): number {
    return this.#times.length - this.#head;
  }

  /** Adds a restart at `now`; returns whether the limit is exceeded. */
  add(now: number, maxRestarts: number, periodMs: number): boolean {
    const times = this.#times;
    // The clock never runs backwards, so the old ones are all at the front.
    while (this.#head < times.length && now - times[this.#head]! > periodMs) this.#head++;
    if (this.#head > 64 && this.#head * 2 > times.length) {
      times.splice(0, this.#head);
      this.#head = 0;
    }
    times.push(now);
    return this.length > maxRestarts;
  }
}
