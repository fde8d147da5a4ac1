import test from 'ava';
import { fileURLToPath } from 'node:url';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkEnvironment, assertEnvironment, EnvironmentError } from '../../src/bridge/environmentCheck.js';
import { InvalidOptionError } from '../../src/runtime/errors.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

test('a usable environment: interpreter, version, module and its handlers', async (t) => {
  const report = await checkEnvironment({ module: 'xotp_env_printing', cwd: fixtures, handlers: ['embed'] });
  t.true(report.ok);
  t.deepEqual(report.problems, []);
  t.regex(report.python.version!, /^3\.\d+\.\d+$/);
  t.truthy(report.python.executable);
  t.deepEqual(report.module, { name: 'xotp_env_printing', importable: true, handlers: ['embed'] });
});

test('a missing interpreter: python_not_found with a hint naming XOTP_PYTHON', async (t) => {
  const report = await checkEnvironment({ python: '/nonexistent/bin/python3', module: 'anything' });
  t.false(report.ok);
  t.is(report.problems.length, 1);
  t.is(report.problems[0]!.code, 'python_not_found');
  t.regex(report.problems[0]!.hint, /XOTP_PYTHON/);
  const err = await t.throwsAsync(assertEnvironment({ python: '/nonexistent/bin/python3' }), { instanceOf: EnvironmentError });
  t.is(err?.code, 'environment');
  t.is(err?.report.problems[0]!.code, 'python_not_found');
});

test('a missing module: module_not_importable with the Python error and where to put the file', async (t) => {
  const report = await checkEnvironment({ module: 'no_such_handlers_module', cwd: fixtures });
  t.false(report.ok);
  t.is(report.problems.length, 1);
  t.is(report.problems[0]!.code, 'module_not_importable');
  t.is(report.module?.importable, false);
  t.is(report.module?.error?.type, 'ModuleNotFoundError');
  t.regex(report.module!.error!.traceback, /Traceback/);
  t.regex(report.problems[0]!.hint, /no_such_handlers_module\.py/);
});

test('a missing handler: handler_missing naming the handlers the module has', async (t) => {
  const report = await checkEnvironment({ module: 'xotp_env_printing', cwd: fixtures, handlers: ['embed', 'classify'] });
  t.false(report.ok);
  t.deepEqual(report.problems.map((p) => p.code), ['handler_missing']);
  t.regex(report.problems[0]!.message, /no handler 'classify' \(it has: embed\)/);
});

test('a version floor above the interpreter: python_too_old', async (t) => {
  const report = await checkEnvironment({ minVersion: [99, 0] });
  t.deepEqual(report.problems.map((p) => p.code), ['python_too_old']);
});

test('options of the wrong shape are refused naming the key', async (t) => {
  for (const [options, key] of [
    [{ handlers: 'embed' }, 'checkEnvironment.handlers'],
    [{ env: new Map([['A', 'b']]) }, 'checkEnvironment.env'],
    [{ modul: 'x' }, 'checkEnvironment.modul'],
    [{ timeout: Number.NaN }, 'checkEnvironment.timeout'],
    [new Map(), 'checkEnvironment'],
  ] as const) {
    const err = await t.throwsAsync(checkEnvironment(options as never), { instanceOf: InvalidOptionError });
    t.is(err?.key, key);
  }
});

test("regression: an interpreter too old to import xotp_bridge (3.6, 2.7) was reported as 'could not run the xotp check' — python_too_old with its version", async (t) => {
  // A stand-in interpreter that answers as Python 3.6 does: it tells its path and version, and
  // fails the check's import (3.6 has no contextvars).
  const dir = mkdtempSync(join(tmpdir(), 'xotp-oldpy-'));
  try {
    const fake = join(dir, 'python3.6');
    writeFileSync(
      fake,
      [
        '#!/usr/bin/env node',
        "const code = process.argv[3] ?? '';",
        "if (process.argv[2] === '-c' && code.includes('sys.executable')) { process.stdout.write(__filename + '\\n'); process.exit(0); }",
        "if (process.argv[2] === '-c' && code.includes('version_info')) { process.stdout.write('3.6.15'); process.exit(0); }",
        "process.stderr.write(\"ModuleNotFoundError: No module named 'contextvars'\\n\"); process.exit(1);",
      ].join('\n'),
    );
    chmodSync(fake, 0o755);
    const report = await checkEnvironment({ python: fake });
    t.false(report.ok);
    t.deepEqual(report.problems.map((p) => p.code), ['python_too_old']);
    t.regex(report.problems[0]!.message, /Python 3\.6\.15 .* is older than 3\.8/);
    t.is(report.python.version, '3.6.15');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("regression: a cwd that does not exist was reported as a broken interpreter (spawn ENOENT) — cwd_not_found naming it", async (t) => {
  const report = await checkEnvironment({ module: 'xotp_env_printing', cwd: '/nonexistent/xotp-cwd' });
  t.false(report.ok);
  t.deepEqual(report.problems.map((p) => p.code), ['cwd_not_found']);
  t.regex(report.problems[0]!.message, /\/nonexistent\/xotp-cwd/);
});
