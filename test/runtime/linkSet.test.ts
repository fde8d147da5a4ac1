/**
 * A record's links held as none, one record, or a Set (src/runtime/linkSet.ts): the one-link case
 * (a child linked to its supervisor) makes no Set. The link semantics are test/runtime/links.
 */
import test from 'ava';
import { linkAdd, linkDelete, linkHas, linkList, type LinkSet } from '../../src/runtime/linkSet.js';

const a = { n: 'a' };
const b = { n: 'b' };
const c = { n: 'c' };

test('one link is the record itself; a second makes a Set; adding twice changes nothing', (t) => {
  let links: LinkSet<{ n: string }> = undefined;
  links = linkAdd(links, a);
  t.is(links, a);
  t.is(linkAdd(links, a), a);
  links = linkAdd(links, b);
  t.true(links instanceof Set);
  links = linkAdd(links, b);
  t.deepEqual(linkList(links), [a, b]);
  t.true(linkHas(links, a) && linkHas(links, b));
  t.false(linkHas(links, c));
});

test('deleting: the single link goes to none; from a Set, only that one; an absent one is a no-op', (t) => {
  t.is(linkDelete(a, a), undefined);
  t.is(linkDelete(a, b), a);
  t.is(linkDelete(undefined, a), undefined);
  let links = linkAdd(linkAdd(linkAdd(undefined, a), b), c);
  links = linkDelete(links, b);
  t.deepEqual(linkList(links), [a, c]);
  t.false(linkHas(links, b));
  t.false(linkHas(undefined, a));
});

test('linkList is a copy: changing the links while going through it is safe', (t) => {
  let links = linkAdd(linkAdd(undefined, a), b);
  const seen: string[] = [];
  for (const x of linkList(links)) {
    links = linkDelete(links, x);
    seen.push(x.n);
  }
  t.deepEqual(seen, ['a', 'b']);
  t.deepEqual(linkList(links), []);
});
