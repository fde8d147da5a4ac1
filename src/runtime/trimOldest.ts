/**
 * Forgets the oldest half of a set (insertion order) in one pass. Deleting the first element one
 * at a time is quadratic in V8: each `values().next()` walks over the holes earlier deletes left.
 *
 * @internal
 */
export function trimOldest<T>(set: Set<T>): void {
  const keep = [...set].slice(set.size >> 1);
  set.clear();
  for (const k of keep) set.add(k);
}
