import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';

// Files that are not there are looked up without an exception (most candidates on PATH and
// most directories above cwd have none): this runs before a bridge's first spawn.
function isExecutable(path: string): boolean {
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isFile() !== true) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function readVersions(file: string): string[] | undefined {
  let text: string;
  try {
    if (statSync(file, { throwIfNoEntry: false }) === undefined) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const versions = text
    .split(/\s+/)
    .map((v) => v.trim())
    .filter((v) => v !== '' && !v.startsWith('#'));
  return versions.length > 0 ? versions : undefined;
}

/** pyenv's version selection: PYENV_VERSION, else the nearest `.python-version`, else the global `version` file. */
function selectedVersions(root: string, env: NodeJS.ProcessEnv, cwd: string): string[] | undefined {
  if (env.PYENV_VERSION) return env.PYENV_VERSION.split(':').filter((v) => v !== '');
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const local = readVersions(join(dir, '.python-version'));
    if (local) return local;
    if (dirname(dir) === dir) break;
  }
  return readVersions(join(root, 'version'));
}

/**
 * The interpreter a pyenv shim would run, found the way the shim finds it (the PYENV_VERSION
 * variable, the nearest `.python-version`, pyenv's global `version` file) without running it:
 * the shim is a shell script that starts pyenv itself, which on this kind of machine takes most
 * of a second — the larger part of a process's first bridge spawn. Read at each resolution, so
 * a `pyenv local` or `pyenv global` takes effect exactly as it would for the shim.
 *
 * Returns undefined whenever the answer is not certain (not a pyenv shim, a `system` version, a
 * version directory that does not hold the command, PYENV_DIR set, pyenv hooks or plugins that
 * could change the answer): the caller then runs the command and asks the interpreter.
 *
 * @internal
 */
export function resolvePyenvShim(command: string, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  if (command.includes('/') || command.includes('\\') || env.PYENV_DIR) return undefined;
  const home = env.HOME;
  const root = env.PYENV_ROOT || (home ? join(home, '.pyenv') : undefined);
  if (!root || !isAbsolute(root)) return undefined;
  const shims = join(root, 'shims');
  // The command as PATH finds it: only a shim of this pyenv root is resolved here.
  let found: string | undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (isExecutable(candidate)) {
      found = candidate;
      break;
    }
  }
  if (found === undefined || resolve(dirname(found)) !== resolve(shims)) return undefined;
  const versions = selectedVersions(root, env, cwd);
  if (!versions) return undefined;
  for (const version of versions) {
    if (version === 'system' || version.includes('/') || version.startsWith('.')) return undefined;
    const exe = join(root, 'versions', version, 'bin', command);
    if (isExecutable(exe)) return exe;
  }
  return undefined;
}
