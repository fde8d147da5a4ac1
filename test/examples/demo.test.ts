import test from 'ava';
import { get } from 'node:http';
import { pythonOf, runTs, until } from './childProcess.js';

// The demo as `npm start` runs it, shortened: the real pool, the real chaos monkey, real Python.
test.serial('xotp demo: 3 s of load while workers are SIGKILLed ends with a summary and a last line "demo: ... lost 0 ...", exit 0, no Python left', async (t) => {
  const demo = runTs(['src/cli/main.ts', 'demo', '--duration', '3000', '--chaos', '200ms']);
  const pid = demo.proc.pid!;
  const { code } = await demo.exited;
  const lines = demo.stdout.filter((l) => l !== '');
  const last = lines.at(-1) ?? '';
  t.log(last);
  t.is(code, 0, demo.stderr.join(''));
  t.regex(last, /^demo: ok [1-9]\d* failed \d+ retried \d+ sessionsLost \d+ lost 0 kills [1-9]\d* restarts \d+ p50 [\d.]+ms p99 [\d.]+ms maxQueue \d+ pythonLeft 0 workers 4 seconds [\d.]+$/);
  t.true(lines.some((l) => l.startsWith('progress ')), 'plain progress lines on a non-TTY');
  t.true(lines.some((l) => /^ {2}requests ok +\d+$/.test(l)), 'the summary table');
  t.false(demo.stdout.join('\n').includes('\x1b['), 'no terminal control codes in a pipe');
  await until(() => pythonOf(pid).length === 0, 5000, 'no Python process of the demo left');
});

test.serial('xotp demo: Ctrl-C (SIGINT) ends the load early, shuts the runtime down, prints the summary and exits 130 with no Python left', async (t) => {
  const demo = runTs(['src/cli/main.ts', 'demo', '--duration', '60s']);
  const pid = demo.proc.pid!;
  await demo.line(/^progress 1\.\d\//);
  t.true(pythonOf(pid).length >= 1, 'the workers run');
  demo.proc.kill('SIGINT');
  const { code } = await demo.exited;
  t.is(code, 130);
  t.regex(demo.stdout.filter(Boolean).at(-1) ?? '', /^demo: .* lost 0 .* pythonLeft 0 /);
  await until(() => pythonOf(pid).length === 0, 5000, 'no Python process of the demo left');
});

test.serial('regression: a SIGTERM to the demo exited 130 (a SIGINT\'s code) — 143, after the same summary, with no Python left', async (t) => {
  const demo = runTs(['src/cli/main.ts', 'demo', '--duration', '60s']);
  const pid = demo.proc.pid!;
  await demo.line(/^progress 1\.\d\//);
  demo.proc.kill('SIGTERM');
  const { code } = await demo.exited;
  t.is(code, 143);
  t.regex(demo.stdout.filter(Boolean).at(-1) ?? '', /^demo: .* lost 0 .* pythonLeft 0 /);
  await until(() => pythonOf(pid).length === 0, 5000, 'no Python process of the demo left');
});

test('xotp --help, -h and no arguments print the usage; an unknown flag or command is exit 2 with a clear message', async (t) => {
  for (const args of [['--help'], ['-h'], []]) {
    const cli = runTs(['src/cli/main.ts', ...args]);
    t.is((await cli.exited).code, 0);
    t.true(cli.stdout.join('\n').includes('xotp demo [--duration'), `usage for ${JSON.stringify(args)}`);
  }
  const bad = runTs(['src/cli/main.ts', 'demo', '--fast']);
  t.is((await bad.exited).code, 2);
  t.regex(bad.stderr.join(''), /^xotp: Unknown option '--fast'/);
  const badValue = runTs(['src/cli/main.ts', 'demo', '--workers', 'many']);
  t.is((await badValue.exited).code, 2);
  t.regex(badValue.stderr.join(''), /--workers wants a whole number from 1 to 64; got 'many'/);
  const unknown = runTs(['src/cli/main.ts', 'deploy']);
  t.is((await unknown.exited).code, 2);
  t.regex(unknown.stderr.join(''), /^xotp: unknown command 'deploy'/);
  // Regression: a flag before any command was called a command; `doctor --help` was an error.
  const flag = runTs(['src/cli/main.ts', '--verbose']);
  t.is((await flag.exited).code, 2);
  t.regex(flag.stderr.join(''), /^xotp: unknown option '--verbose'/);
  for (const help of ['--help', '-h']) {
    const doctorHelp = runTs(['src/cli/main.ts', 'doctor', help]);
    t.is((await doctorHelp.exited).code, 0, `doctor ${help}`);
    t.true(doctorHelp.stdout.join('\n').includes('xotp doctor [--module M]'));
  }
});

test('xotp doctor: exit 0 with the interpreter and the demo handlers; exit 1 with each problem and its fix for a module that is not there', async (t) => {
  const ok = runTs(['src/cli/main.ts', 'doctor']);
  t.is((await ok.exited).code, 0, ok.stdout.join('\n'));
  t.true(ok.stdout.some((l) => /^python: 3\.\d+\.\d+ at /.test(l)));
  t.true(ok.stdout.includes('module: demo_handlers imports; handlers: embed, forget, remember, score'));

  const missing = runTs(['src/cli/main.ts', 'doctor', '--module', 'no_such_handlers', '--cwd', 'examples', '--handlers', 'embed']);
  t.is((await missing.exited).code, 1);
  const out = missing.stdout.join('\n');
  t.regex(out, /problem: module 'no_such_handlers' cannot be imported: ModuleNotFoundError/);
  t.regex(out, /fix: put no_such_handlers\.py in the bridge's cwd \(examples\)/);
});

test('xotp demo without Python says what to install and exits 1', async (t) => {
  const demo = runTs(['src/cli/main.ts', 'demo', '--duration', '1000'], { XOTP_PYTHON: '/nonexistent/python3' });
  t.is((await demo.exited).code, 1);
  t.regex(demo.stderr.join(''), /xotp demo needs Python 3 to run its workers[\s\S]*fix: install Python 3 \(Debian\/Ubuntu: apt-get install python3\) or set XOTP_PYTHON/);
  t.is(demo.stdout.filter(Boolean).at(-1), 'demo: not run (python unusable)');
});

const status = (url: string) =>
  new Promise<number | string>((resolve) => get(url, { agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error')));

test.serial('xotp demo --view serves the live viewer at the printed URL until the demo ends', async (t) => {
  const demo = runTs(['src/cli/main.ts', 'demo', '--duration', '3000', '--view']);
  const url = (await demo.line(/^viewer: http:\/\/127\.0\.0\.1:\d+\/\?token=/)).slice('viewer: '.length);
  t.is(await status(url), 200);
  t.is(await status(url.replace(/\?token=.*/, '')), 403, 'no token, no tree');
  t.is((await demo.exited).code, 0);
  t.is(await status(url), 'ECONNREFUSED', 'closed with the demo');
  await until(() => pythonOf(demo.proc.pid!).length === 0, 5000, 'no Python process of the demo left');
});
