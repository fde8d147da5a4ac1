/** A command line the `xotp` command cannot use: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `3000`, `3000ms`, `3s`, `1.5s`, `1m` → ms. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1) : NaN;
  // At least 1 ms once rounded: 0.4 would round to a demo of no time at all.
  if (!Number.isFinite(ms) || Math.round(ms) < 1) throw new UsageError(`${flag} wants a duration of at least 1 ms, such as 3000, 3000ms or 10s; got '${text}'`);
  return Math.round(ms);
}

/** A whole number from 1 to `max`. */
export function parsePositiveInt(flag: string, text: string, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} wants a whole number from 1 to ${max}; got '${text}'`);
  return n;
}

/**
 * `--chaos`: kills per second (`2`, `0.5`), or ms between kills with a unit (`500ms`, `2s`);
 * `0` for no chaos. Returns ms between kills, or null.
 */
export function parseChaos(text: string): number | null {
  const t = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(t)) {
    const rate = Number(t);
    if (rate === 0) return null;
    if (rate > 100) throw new UsageError(`--chaos wants at most 100 kills per second; got '${text}' (write 500ms for an interval)`);
    return Math.max(10, Math.round(1000 / rate));
  }
  if (/^\d+(?:\.\d+)?(ms|s|m)$/.test(t)) return Math.max(10, parseDuration('--chaos', t));
  throw new UsageError(`--chaos wants kills per second (2), ms between kills (500ms) or 0; got '${text}'`);
}
