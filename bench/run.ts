/**
 * Runs every bench in bench/ (each file that is not this runner or lib.ts), each in its own
 * Node process with --expose-gc, and writes their JSON lines to .bench-out/results.jsonl.
 *
 * Run: npm run bench            (all but the ones run only when named: soak)
 *      npm run bench -- kernel  (only bench/kernel.ts)
 */
import { spawn } from 'node:child_process';
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = new Set(process.argv.slice(2));
// Benches that run only when named (the soak takes 10 minutes).
const onlyWhenNamed = new Set(['soak.ts']);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'lib.ts')
  .filter((f) => (only.size === 0 ? !onlyWhenNamed.has(f) : only.has(f.replace(/\.ts$/, ''))))
  .sort();

const results: string[] = [];
let failed = false;
for (const file of files) {
  console.log(`\n== bench/${file}`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, file)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.setEncoding('utf8');
    let buffer = '';
    child.stdout.on('data', (chunk: string) => {
      process.stdout.write(chunk);
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('BENCH ')) results.push(line.slice(6));
      }
    });
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) {
    failed = true;
    console.error(`bench/${file} exited with code ${code}`);
  }
}
const out = join(here, '..', '.bench-out');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'results.jsonl'), results.join('\n') + '\n');
console.log(`\n${results.length} bench result line(s) written to .bench-out/results.jsonl`);
if (failed) process.exitCode = 1;
