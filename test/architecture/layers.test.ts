import test from 'ava';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// The layer order is written once, in docs/architecture.md's ```layers block; this test reads it
// from there so the document and the check cannot drift apart.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = join(root, 'src');

function layerOrder(): string[] {
  const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  const block = /```layers\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/architecture.md has no ```layers block');
  return block[1]!.split('\n').map((l) => l.trim()).filter(Boolean);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

const importPattern = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every relative import in src/ that crosses layers against the documented order. */
export function layerViolations(order: string[]): string[] {
  const out: string[] = [];
  for (const file of tsFiles(src)) {
    const rel = relative(src, file);
    const from = rel.split(sep)[0]!;
    if (!rel.includes(sep)) continue; // index.ts re-exports every layer
    for (const m of readFileSync(file, 'utf8').matchAll(importPattern)) {
      const target = normalize(join(dirname(rel), m[1]!));
      const to = target.split(sep)[0]!;
      if (!target.includes(sep) || to === from) continue;
      if (from === 'testing') continue; // testing may import anything
      if (to === 'testing') { out.push(`src/${rel} imports src/${target} (nothing may import testing/)`); continue; }
      const a = order.indexOf(from);
      const b = order.indexOf(to);
      if (a < 0) { out.push(`src/${rel}: folder ${from}/ is not in the documented layer order`); continue; }
      if (b < 0) { out.push(`src/${rel} imports src/${target}: folder ${to}/ is not in the documented layer order`); continue; }
      if (b > a) out.push(`src/${rel} imports src/${target} (${to}/ comes after ${from}/)`);
    }
  }
  return out;
}

test('every import in src/ follows the layer order of docs/architecture.md', (t) => {
  const order = layerOrder();
  t.is(order[0], 'runtime', `layer order read from docs: ${order.join(' → ')}`);
  t.deepEqual(layerViolations(order), []);
});

test('the check can fail: with the order reversed, the existing imports are violations', (t) => {
  const order = layerOrder().reverse();
  t.true(layerViolations(order).length > 0);
});
