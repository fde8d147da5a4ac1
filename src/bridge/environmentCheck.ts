import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { delimiter } from 'node:path';
import { XotpError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';
import { validateOptions, optional, isString, integer, type Check } from '../runtime/validate.js';
import { InvalidOptionError } from '../runtime/errors.js';
import { defaultPython, resolvePython } from './pythonInterpreter.js';
import { pythonPackageDir } from './bridgeSettings.js';

/** Options of `checkEnvironment`: where the Python side would run, as `pythonBridge` takes them. */
export interface EnvironmentCheckOptions {
  /** The interpreter command. Default `$XOTP_PYTHON`, else `python3`. */
  python?: string;
  /** The handler module to import (as `pythonBridge({ module })`). */
  module?: string;
  /** Handler names the module must register. */
  handlers?: string[];
  /** Working directory the module is imported from (as `pythonBridge({ cwd })`). */
  cwd?: string;
  /** Extra environment variables (as `pythonBridge({ env })`). */
  env?: Record<string, string>;
  /** Oldest Python accepted, `[major, minor]`. Default `[3, 8]`. */
  minVersion?: [number, number];
  /** ms the check may take (a module with heavy imports is slow). Default 60 000. */
  timeout?: number;
}

/** One thing that is wrong, with what to do about it. */
export interface EnvironmentProblem {
  readonly code: 'python_not_found' | 'python_too_old' | 'python_failed' | 'cwd_not_found' | 'module_not_importable' | 'handler_missing';
  readonly message: string;
  readonly hint: string;
}

/** What `checkEnvironment` found. `ok` is true when `problems` is empty. */
export interface EnvironmentReport {
  readonly ok: boolean;
  readonly python: { readonly command: string; readonly executable?: string; readonly version?: string };
  readonly module?: {
    readonly name: string;
    readonly importable: boolean;
    readonly handlers: readonly string[];
    readonly error?: { readonly type: string; readonly message: string; readonly traceback: string };
  };
  readonly problems: readonly EnvironmentProblem[];
}

/** The environment cannot run the Python side; `problems` lists every cause, each with a hint. */
export class EnvironmentError extends XotpError {
  readonly report: EnvironmentReport;
  constructor(report: EnvironmentReport) {
    super('environment', `the Python environment is not usable:\n  ${report.problems.map((p) => `${p.message} (${p.hint})`).join('\n  ')}`);
    this.report = report;
  }
}

defineErrorCodes({ environment: { category: 'permanent', retryable: false } });

const stringList: Check<string[]> = (value, key) => {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new InvalidOptionError(key, 'an array of handler names', value);
  return value as string[];
};
const versionPair: Check<[number, number]> = (value, key) => {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new InvalidOptionError(key, 'a [major, minor] pair of integers', value);
  }
  return value as [number, number];
};
const stringRecord: Check<Record<string, string>> = (value, key) => {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new InvalidOptionError(key, 'a plain object of string values', value);
  }
  return value as Record<string, string>;
};

interface PythonReport {
  version: [number, number, number];
  executable: string;
  module?: { ok: true; handlers: string[] } | { ok: false; type: string; message: string; traceback: string };
}

/**
 * Checks, before anything starts, that the Python side can run: the interpreter is found, it
 * is recent enough, the handler module imports (from `cwd`, with `env`), and it registers the
 * handlers named. Every failure comes back as a problem with a hint; nothing is thrown for an
 * unusable environment (use `assertEnvironment` for that). The interpreter runs
 * `-m xotp_bridge.check` with no shell, and the module name travels as an argument, never as code.
 *
 * @example
 * ```ts
 * const report = await checkEnvironment({ module: 'my_handlers', cwd: 'python', handlers: ['embed'] });
 * if (!report.ok) for (const p of report.problems) console.error(`${p.message}: ${p.hint}`);
 * ```
 */
export async function checkEnvironment(options: EnvironmentCheckOptions = {}): Promise<EnvironmentReport> {
  const o = validateOptions('checkEnvironment', options, {
    python: optional(isString),
    module: optional(isString),
    handlers: optional(stringList, []),
    cwd: optional(isString),
    env: optional(stringRecord, {}),
    minVersion: optional(versionPair, [3, 8] as [number, number]),
    timeout: optional(integer(1), 60_000),
  });
  const command = o.python ?? defaultPython();
  const problems: EnvironmentProblem[] = [];
  // A missing folder would fail the interpreter's spawn (ENOENT), read as a broken Python.
  if (o.cwd !== undefined && !isDirectory(o.cwd)) {
    problems.push({
      code: 'cwd_not_found',
      message: `the working directory '${o.cwd}' does not exist (or is not a folder)`,
      hint: 'pass the folder that holds the module (cwd), or create it',
    });
    return { ok: false, python: { command }, problems };
  }
  let executable: string;
  try {
    // Looked up as a bridge with these options would look it up.
    executable = await resolvePython(command, { env: { ...process.env, ...o.env }, ...(o.cwd !== undefined ? { cwd: o.cwd } : {}) });
  } catch (err) {
    problems.push({
      code: 'python_not_found',
      message: `no Python interpreter found at '${command}' (${(err as Error).message.split('\n', 1)[0]})`,
      hint: 'install Python 3 (Debian/Ubuntu: apt-get install python3) or set XOTP_PYTHON to an interpreter',
    });
    return { ok: false, python: { command }, problems };
  }
  let report: PythonReport;
  try {
    report = await runCheck(executable, o.module, o.cwd, o.env, o.timeout);
  } catch (err) {
    // An interpreter too old for xotp_bridge fails on its imports (3.6: no contextvars; 2.7:
    // its source): ask it its version with code any Python runs, and say so.
    const old = await versionOf(executable, o.timeout).catch(() => undefined);
    if (old !== undefined && olderThan(old, o.minVersion)) {
      problems.push(tooOld(old.join('.'), executable, o.minVersion));
      return { ok: false, python: { command, executable, version: old.join('.') }, problems };
    }
    problems.push({
      code: 'python_failed',
      message: `'${executable}' could not run the xotp check: ${(err as Error).message.split('\n', 1)[0]}`,
      hint: 'check that it is a working Python 3 interpreter, or set XOTP_PYTHON to one',
    });
    return { ok: false, python: { command, executable }, problems };
  }
  const version = report.version.join('.');
  if (olderThan(report.version, o.minVersion)) problems.push(tooOld(version, report.executable, o.minVersion));
  let module: EnvironmentReport['module'];
  if (o.module !== undefined && report.module) {
    const m = report.module;
    if (m.ok) {
      module = { name: o.module, importable: true, handlers: m.handlers };
      for (const h of o.handlers) {
        if (!m.handlers.includes(h)) {
          problems.push({
            code: 'handler_missing',
            message: `module '${o.module}' has no handler '${h}' (it has: ${m.handlers.join(', ') || 'none'})`,
            hint: `decorate a function with @handler (from xotp_bridge import handler) and name it '${h}', or pass @handler('${h}')`,
          });
        }
      }
    } else {
      module = { name: o.module, importable: false, handlers: [], error: { type: m.type, message: m.message, traceback: m.traceback } };
      problems.push({
        code: 'module_not_importable',
        message: `module '${o.module}' cannot be imported: ${m.type}: ${m.message}`,
        hint:
          m.type === 'ModuleNotFoundError' && m.message.includes(`'${o.module.split('.')[0]}'`)
            ? `put ${o.module.replace(/\./g, '/')}.py in the bridge's cwd (${o.cwd ?? process.cwd()}) or add its folder to env.PYTHONPATH`
            : 'fix the error above in the module (its traceback is in report.module.error), or install what it imports',
      });
    }
  }
  return { ok: problems.length === 0, python: { command, executable: report.executable, version }, ...(module ? { module } : {}), problems };
}

/** `checkEnvironment`, throwing `EnvironmentError` (with the whole report) when anything is wrong. */
export async function assertEnvironment(options: EnvironmentCheckOptions = {}): Promise<EnvironmentReport> {
  const report = await checkEnvironment(options);
  if (!report.ok) throw new EnvironmentError(report);
  return report;
}

/** Whether a `[major, minor, ...]` version is below `[wantMajor, wantMinor]`. */
function olderThan([major, minor]: readonly number[], [wantMajor, wantMinor]: [number, number]): boolean {
  return major! < wantMajor || (major === wantMajor && minor! < wantMinor);
}

function tooOld(version: string, executable: string, [wantMajor, wantMinor]: [number, number]): EnvironmentProblem {
  return {
    code: 'python_too_old',
    message: `Python ${version} at '${executable}' is older than ${wantMajor}.${wantMinor}`,
    hint: `install Python ${wantMajor}.${wantMinor} or newer and point XOTP_PYTHON at it`,
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The interpreter's version, asked with fixed code that Python 2 and 3 both run. */
function versionOf(executable: string, timeout: number): Promise<[number, number, number]> {
  return new Promise((resolve, reject) => {
    execFile(executable, ['-c', 'import sys; sys.stdout.write("%d.%d.%d" % tuple(sys.version_info[:3]))'], { timeout }, (err, stdout) => {
      const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(stdout.trim());
      if (err || !m) return reject(err ?? new Error(`unexpected version output: ${stdout.slice(0, 80)}`));
      resolve([Number(m[1]), Number(m[2]), Number(m[3])]);
    });
  });
}

function runCheck(executable: string, module: string | undefined, cwd: string | undefined, env: Record<string, string>, timeout: number): Promise<PythonReport> {
  const inherited = env.PYTHONPATH ?? process.env.PYTHONPATH;
  const args = ['-m', 'xotp_bridge.check', ...(module !== undefined ? ['--module', module] : [])];
  return new Promise((resolve, reject) => {
    execFile(
      executable,
      args,
      {
        cwd,
        timeout,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, ...env, PYTHONPATH: [pythonPackageDir, inherited].filter(Boolean).join(delimiter) },
      },
      (err, stdout) => {
        if (err) return reject(err);
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as PythonReport);
        } catch {
          reject(new Error(`unexpected output from the check: ${JSON.stringify(line.slice(0, 200))}`));
        }
      },
    );
  });
}

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ environment: EnvironmentError });
