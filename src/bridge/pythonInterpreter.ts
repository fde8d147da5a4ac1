import { execFile } from 'node:child_process';
import { isAbsolute } from 'node:path';

const cache = new Map<string, Promise<string>>();

/**
 * The real interpreter behind a Python command, resolved once per command and cached: the
 * `python3` on PATH may be a slow shell shim (pyenv, asdf) that would add its start-up time to
 * every bridge spawn. Runs `<cmd> -c "import sys; print(sys.executable)"` without a shell.
 */
export function resolvePython(command: string): Promise<string> {
  let resolved = cache.get(command);
  if (resolved === undefined) {
    resolved = new Promise<string>((resolve, reject) => {
      execFile(command, ['-c', 'import sys; print(sys.executable)'], { timeout: 30_000 }, (err, stdout) => {
        if (err) {
          cache.delete(command);
          reject(err);
          return;
        }
        const exe = stdout.trim();
        resolve(exe && isAbsolute(exe) ? exe : command);
      });
    });
    cache.set(command, resolved);
  }
  return resolved;
}

/** The Python command used when a bridge names none: `$XOTP_PYTHON`, else `python3`. */
export function defaultPython(): string {
  return process.env.XOTP_PYTHON || 'python3';
}
