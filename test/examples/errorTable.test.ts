import test from 'ava';
import { readFileSync } from 'node:fs';
import '../../src/index.js';
import '../../src/testing/index.js';
import '../../src/cluster/index.js';
import { errorCodes } from '../../src/runtime/errorTaxonomy.js';

// The README's error table is the contract a caller reads; it must say what the code says.
test("the README's error table lists every declared code with its category and retryability", (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = [...readme.matchAll(/^\| `([a-z_]+)` \| ([a-z_]+) \| (yes|no) \|/gm)].map((m) => ({ code: m[1]!, category: m[2]!, retryable: m[3] === 'yes' }));
  t.deepEqual(rows, errorCodes());
});
