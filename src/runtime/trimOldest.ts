/**
 * Forgets the oldest half of a set or map (insertion order) in one pass. Deleting the first
 * element one at a time is quadratic in V8: each `values().next()` walks over the holes earlier
 * deletes left.
 *
 * @internal
 */
export function trimOldest<K, V>(collection: Set<K> | Map<K, V>): void {
  if (collection instanceof Set) {
    const keep = [...collection].slice(collection.size >> 1);
    collection.clear();
    for (const k of keep) collection.add(k);
    return;
  }
  const keep = [...collection].slice(collection.size >> 1);
  collection.clear();
  for (const [k, v] of keep) collection.set(k, v);
}
