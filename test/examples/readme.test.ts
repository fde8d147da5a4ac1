/**
 * Every ```ts block of the README is checked: all are type-checked against the sources (as a
 * user with a checkout would, through the `xotp-source` export condition), and each is run with
 * plain Node + tsx unless marked `<!-- readme-test: typecheck -->` (a block that needs a test
 * runner or a server elsewhere). A block marked `<!-- readme-test: same as <file> -->` must be
 * that file, with its `../src/index.js` imports written as `xotp` (the file has its own test).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { promisify } from 'node:util';
import { createTestRuntime } from '../../src/testing/index.js';
import { defineServer, type DownMessage } from '../../src/index.js';
import { repoRoot } from './childProcess.js';

const run = promisify(execFile);

interface Block {
  line: number;
  code: string;
  mode: 'run' | 'typecheck' | 'same';
  file?: string;
}

export function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const start = i;
    const body: string[] = [];
    while (lines[++i] !== '```') {
      if (i >= lines.length) throw new Error(`README: the block at line ${start + 1} is not closed`);
      body.push(lines[i]!);
    }
    const marker = /^<!-- readme-test: (typecheck|same as (\S+)) -->$/.exec(lines[start - 1] ?? '');
    out.push({
      line: start + 1,
      code: body.join('\n') + '\n',
      mode: marker ? (marker[2] ? 'same' : 'typecheck') : 'run',
      ...(marker?.[2] ? { file: marker[2] } : {}),
    });
  }
  return out;
}

const blocks = readmeBlocks(readFileSync(join(repoRoot, 'README.md'), 'utf8'));
const fileOf = (b: Block) => `block-${b.line}.ts`;

/**
 * A project outside the checkout that links it as a user would (`npm install /path/to/xotp`
 * makes the same symlink), with the type packages the blocks need.
 */
function makeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xotp-readme-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'xotp'), 'dir');
  for (const dep of ['@types', 'ava', '@statelyai']) symlinkSync(join(repoRoot, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme-blocks', private: true, type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'esnext.disposable'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        customConditions: ['xotp-source'],
        strict: true,
        skipLibCheck: true,
        types: ['node'],
        noEmit: true,
      },
      include: ['*.ts'],
    }),
  );
  for (const b of blocks) if (b.mode !== 'same') writeFileSync(join(dir, fileOf(b)), b.code);
  return dir;
}

const project = makeProject();
test.after.always(() => rmSync(project, { recursive: true, force: true }));

test('the README has ts blocks, and the harness sees each kind', (t) => {
  t.true(blocks.filter((b) => b.mode === 'run').length >= 7);
  t.true(blocks.some((b) => b.mode === 'typecheck'));
  t.true(blocks.some((b) => b.mode === 'same'));
});

test('every ts block of the README type-checks against the sources (and a broken one would not)', async (t) => {
  // A canary: proves that the blocks are really checked, and against xotp's real types.
  writeFileSync(join(project, 'canary.ts'), "import { createRuntime } from 'xotp';\ncreateRuntime({ name: 42 });\n");
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const out = await run(process.execPath, [tsc, '--noEmit', '-p', join(project, 'tsconfig.json')], { cwd: project, maxBuffer: 16 * 1024 * 1024 }).then(
    (r) => r.stdout,
    (err: { stdout: string }) => err.stdout,
  );
  // Errors in src/ are the main type-check's business; here only the blocks' own count.
  const mine = out.split('\n').filter((l) => /^(block-\d+|canary)\.ts\(/.test(l));
  t.deepEqual(mine.filter((l) => !l.startsWith('canary.ts')), []);
  t.is(mine.filter((l) => l.startsWith('canary.ts(2,')).length, 1, out);
});

for (const b of blocks.filter((x) => x.mode === 'same')) {
  test(`README block at line ${b.line} is ${b.file} as a user writes it`, (t) => {
    const file = readFileSync(join(repoRoot, b.file!), 'utf8').replaceAll("from '../src/index.js'", "from 'xotp'");
    t.is(b.code, file.slice(file.indexOf('import ')));
  });
}

const tsx = import.meta.resolve('tsx');
for (const b of blocks.filter((x) => x.mode === 'run')) {
  test.serial(`README block at line ${b.line} runs with plain Node and xotp from the checkout`, async (t) => {
    const { stdout, stderr } = await run(process.execPath, ['--conditions=xotp-source', '--import', tsx, fileOf(b)], {
      cwd: project,
      timeout: 30_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    t.log(stdout.trim().split('\n').slice(-3).join('\n'));
    t.is(stderr.replace(/^\[xotp\].*\n?/gm, ''), '', 'nothing on stderr but xotp log lines');
  });
}

// The README's short example, as written there (on a test runtime instead of createRuntime).
test('README short example: cast, call, monitor a crash, stop a dead process, shut down', async (t) => {
  const counter = defineServer({
    name: 'counter',
    init: (start: number) => ({ state: start }),
    handleCall: (req: 'get', _from, n: number) => ({ reply: n }),
    handleCast: (msg: 'inc' | 'crash', n: number) => {
      if (msg === 'crash') throw new Error('boom');
      return { state: n + 1 };
    },
  });

  const runtime = createTestRuntime({ name: 'app' });
  const pid = runtime.spawn(counter, { name: 'counter', input: 0 });
  runtime.cast('counter', 'inc');
  t.is(await runtime.call('counter', 'get'), 1);
  const downs: string[] = [];
  runtime.monitor(pid, (down: DownMessage) => downs.push(`${down.pid} exited: ${down.reason}`));
  runtime.cast(pid, 'crash');
  await runtime.flush();
  t.deepEqual(downs, ['<app.1> exited: Error: boom']);
  t.is(await runtime.stop(pid), 'noproc');
  await runtime.shutdown();
  await runtime.dispose();
});


