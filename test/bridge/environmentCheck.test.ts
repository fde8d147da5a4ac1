import test from 'ava';
import { fileURLToPath } from 'node:url';
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
