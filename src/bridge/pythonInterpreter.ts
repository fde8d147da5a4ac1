import { execFile } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { resolvePyenvShim } from './pyenvShim.js';
import { InvalidOptionError } from '../runtime/errors.js';
import { isPlainObject, isString, notPlain, optional, validateOptions } from '../runtime/validate.js';
import { PythonNotFoundError } from './bridgeErrors.js';

/** Where a Python command is resolved: the environment and working directory it runs with. */
export interface PythonLookup {
  /** Default: `process.env` when `resolvePython` is called. */
  env?: NodeJS.ProcessEnv;
  /** Default: `process.cwd()` when `resolvePython` is called. */
  cwd?: string;
}

const lookupSchema = {
  env: optional((v, key) => {
    if (v !== process.env && !isPlainObject(v)) throw notPlain(key, 'an environment object (string values)', v);
    return v as NodeJS.ProcessEnv;
  }),
  cwd: optional(isString),
};

/**
 * Resolved interpreters, for the whole Node process rather than per runtime, on purpose: what
 * a command names is a fact about this machine (its files, PATH and version-manager settings),
 * the same for every runtime in the process, and resolving it runs the command once (a second
 * or more through a version-manager shim). The key holds everything the answer depends on: the
 * command; the environment, whose PATH finds the command and whose variables steer a shim
 * (pyenv's PYENV_VERSION, asdf's ASDF_PYTHON_VERSION, ...); and the working directory, which a
 * relative command and a shim's version file (`.python-version`) are read from. A failed
 * resolution is not kept, so the next spawn tries again.
 */
const cache = new Map<string, Promise<string>>();

/**
 * How long the resolution may take, on the real clock: the command is an OS process outside
 * the runtime's clock domain (a SimulatedClock cannot make it run), and this bounds only a
 * command that hangs. A bridge's own `startupTimeout` runs on the runtime clock, from its spawn.
 */
const RESOLVE_TIMEOUT_MS = 30_000;

function cacheKey(command: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const vars = Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k] ?? ''}`);
  return JSON.stringify([command, cwd, vars]);
}

/**
 * The real interpreter behind a Python command, resolved once per command, environment and
 * working directory, and cached: the `python3` on PATH may be a slow shell shim (pyenv, asdf)
 * that would add its start-up time to every bridge spawn. Runs
 * `<cmd> -c "import sys; print(sys.executable)"` without a shell, with `lookup`'s environment
 * and working directory (a bridge passes its own, so the answer is the interpreter it would
 * have run).
 */
export function resolvePython(command: string, lookup: PythonLookup = {}): Promise<string> {
  try {
    if (typeof command !== 'string' || command.length === 0) throw new InvalidOptionError('resolvePython.command', 'a non-empty command', command);
    validateOptions('resolvePython', lookup, lookupSchema);
  } catch (err) {
    return Promise.reject(err);
  }
  const env = lookup.env ?? process.env;
  const cwd = lookup.cwd ?? process.cwd();
  const key = cacheKey(command, env, cwd);
  const now = resolvedNow(command, env, cwd, key);
  return now !== undefined ? Promise.resolve(now) : resolveByRunning(command, env, cwd, key);
}

/**
 * `resolvePython`'s answer when it is known without waiting: a pyenv shim resolved from its
 * files, or a resolution already done. Undefined when only running the command can tell (then
 * `resolvePython`). A bridge spawns with it in the same turn as it starts: an await there
 * would put the rest of its starter's synchronous work before the spawn.
 *
 * @internal
 */
export function resolvePythonNow(command: string, lookup: PythonLookup = {}): string | undefined {
  const env = lookup.env ?? process.env;
  const cwd = lookup.cwd ?? process.cwd();
  // Nothing resolved by running yet (a process's first bridges): no key to build (it sorts and
  // serialises the whole environment), the shim is the only answer there can be.
  if (cache.size === 0) return resolvePyenvShim(command, env, cwd);
  return resolvedNow(command, env, cwd, cacheKey(command, env, cwd));
}

/** Resolutions that ended, by cache key: what `cache` holds, readable without a promise hop. */
const settled = new Map<string, string>();

function resolvedNow(command: string, env: NodeJS.ProcessEnv, cwd: string, key: string): string | undefined {
  // The shim first, as before: its files are read at each resolution (a `pyenv local` counts).
  if (!cache.has(key)) return resolvePyenvShim(command, env, cwd);
  return settled.get(key);
}

function resolveByRunning(command: string, env: NodeJS.ProcessEnv, cwd: string, key: string): Promise<string> {
  let resolved = cache.get(key);
  if (resolved === undefined) {
    resolved = new Promise<string>((resolve, reject) => {
      execFile(command, ['-c', 'import sys; print(sys.executable)'], { env, cwd, timeout: RESOLVE_TIMEOUT_MS }, (err, stdout) => {
        if (err) {
          cache.delete(key);
          settled.delete(key);
          reject(new PythonNotFoundError(command, err));
          return;
        }
        const trimmed = stdout.trim();
        const exe = trimmed && isAbsolute(trimmed) ? trimmed : command;
        settled.set(key, exe);
        resolve(exe);
      });
    });
    cache.set(key, resolved);
  }
  return resolved;
}

/**
 * The Python command used when a bridge names none: `$XOTP_PYTHON`, else `python3`. Read when
 * it is needed (a bridge reads it at each spawn), never kept: a program may set XOTP_PYTHON
 * after defining its bridges.
 */
export function defaultPython(): string {
  return process.env.XOTP_PYTHON || 'python3';
}
