/**
 * `@nats-io/kv` is an optional peer dependency that only clusterNames and clusterGroups use:
 * importing `xotp/cluster` (its transport, remote pools) must not need it.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

test('regression: xotp/cluster imported @nats-io/kv at load, so connectNats alone failed without it — only a type import and a load on first use remain', (t) => {
  const src = fileURLToPath(new URL('../../src/', import.meta.url));
  const offenders: string[] = [];
  for (const file of readdirSync(src, { recursive: true }) as string[]) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(join(src, file), 'utf8');
    for (const line of text.split('\n')) {
      if (/^\s*import\s+(?!type\b)[^;]*from\s+'@nats-io\/kv'/.test(line) || /^\s*export\s+[^;]*from\s+'@nats-io\/kv'/.test(line)) offenders.push(`${file}: ${line.trim()}`);
    }
  }
  t.deepEqual(offenders, []);
});
