/**
 * A process's links: none, one (most processes are linked to their supervisor alone), or a Set.
 * One link is held as the linked record itself: a Set for it was the largest object a child
 * start made on the kernel's side (a Set and its hash table, about 170 B), kept for the child's
 * life, and iterating it on exit made an iterator. A record that gains a second link gets a Set.
 *
 * The functions return the new value for the caller to store (`rec.links = linkAdd(...)`).
 */
export type LinkSet<T extends object> = T | Set<T> | undefined;

export function linkHas<T extends object>(links: LinkSet<T>, x: T): boolean {
  return links === x || (links instanceof Set && links.has(x));
}

export function linkAdd<T extends object>(links: LinkSet<T>, x: T): LinkSet<T> {
  if (links === undefined || links === x) return x;
  if (links instanceof Set) return links.add(x);
  return new Set([links, x]);
}

export function linkDelete<T extends object>(links: LinkSet<T>, x: T): LinkSet<T> {
  if (links === x) return undefined;
  if (links instanceof Set) links.delete(x);
  return links;
}

/** The linked records, as an array (a copy: safe to change the links while going through it). */
export function linkList<T extends object>(links: LinkSet<T>): T[] {
  if (links === undefined) return [];
  return links instanceof Set ? [...links] : [links];
}
