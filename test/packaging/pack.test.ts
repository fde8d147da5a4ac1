/**
 * The package as a user gets it: `npm pack` (whose prepack builds dist/), the tarball installed
 * into a temporary project, and plain Node (no tsx) importing xotp, xotp/testing and
 * xotp/inspect and running a real pool of one Python worker; the bin runs; the source and
 * declaration maps point at files that are in the package.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const consumer = `
import { createRuntime, pool, Pool, pythonBridge, poolHandle } from 'xotp';
import { createTestRuntime } from 'xotp/testing';
import { inspectTree, formatTree } from 'xotp/inspect';

const runtime = createRuntime({ name: 'consumer' });
await runtime.start(pool({ name: 'py', size: 1, worker: pythonBridge({ module: 'xotp_bridge.examples' }) }));
await Pool.ready(runtime, 'py');
const echoed = await poolHandle(runtime, 'py').run('echo', { hello: 'packaged' });
const tree = formatTree(inspectTree(runtime));
await runtime.shutdown();
const rt = createTestRuntime();
await rt.dispose();
console.log(JSON.stringify({ echoed, bridges: tree.split('\\n').filter((l) => l.includes('[bridge ready]')).length }));
`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test.serial('npm pack builds dist and ships LICENSE, README, python/ and maps that resolve; the tarball installs and runs a real pool from plain Node', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xotp-pack-'));
  try {
    const { stdout: packed } = await run(npm, ['pack', '--json', '--pack-destination', dir], { cwd: repo, maxBuffer: 64 * 1024 * 1024 });
    const [info] = JSON.parse(packed.slice(packed.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const shipped = new Set(info!.files.map((f) => f.path));
    for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/xotp.js', 'dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/inspect/index.js', 'dist/cli/main.js', 'python/xotp_bridge/__init__.py', 'examples/demo_handlers.py', 'src/index.ts']) {
      t.true(shipped.has(f), `${f} is in the package`);
    }
    t.false([...shipped].some((f) => f.includes('__pycache__') || f.startsWith('test/')), 'no caches, no tests');

    const project = join(dir, 'project');
    await run('mkdir', [project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run(npm, ['install', join(dir, info!.filename), '--no-audit', '--no-fund', '--prefer-offline', '--no-save'], { cwd: project, maxBuffer: 64 * 1024 * 1024 });
    const installed = join(project, 'node_modules', 'xotp');
    t.true(existsSync(join(installed, 'LICENSE')));
    t.regex(readFileSync(join(installed, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) 2026 the xotp authors/);

    // Every source and declaration map points at a file of the package.
    const maps = filesUnder(join(installed, 'dist')).filter((f) => f.endsWith('.map'));
    t.true(maps.length > 20);
    const unresolved = maps.flatMap((m) => {
      const map = JSON.parse(readFileSync(m, 'utf8')) as { sources: string[]; sourceRoot?: string };
      return map.sources.map((s) => resolve(dirname(m), map.sourceRoot ?? '', s)).filter((s) => !existsSync(s));
    });
    t.deepEqual(unresolved, []);

    writeFileSync(join(project, 'consumer.mjs'), consumer);
    const { stdout } = await run(process.execPath, ['consumer.mjs'], { cwd: project });
    t.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), { echoed: { hello: 'packaged' }, bridges: 1 });

    const { stdout: help } = await run(join(project, 'node_modules', '.bin', 'xotp'), ['--help'], { cwd: project });
    t.regex(help, /xotp demo \[--duration/);
    const { stdout: doctor } = await run(join(project, 'node_modules', '.bin', 'xotp'), ['doctor'], { cwd: project });
    t.regex(doctor, /module: demo_handlers imports/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
