/**
 * resolvePyenvShim reads what a pyenv shim reads (PYENV_VERSION, the nearest .python-version,
 * the global version file) instead of running the shim, and declines whenever it cannot be sure.
 */
import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePyenvShim } from '../../src/bridge/pyenvShim.js';

function fakePyenv(t: { teardown(fn: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), 'xotp-pyenv-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const exe = (path: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, 0o755);
  };
  exe(join(root, 'shims', 'python3'));
  exe(join(root, 'versions', '3.11.7', 'bin', 'python3'));
  exe(join(root, 'versions', '3.12.1', 'bin', 'python3'));
  writeFileSync(join(root, 'version'), '3.11.7\n');
  const project = join(root, 'project', 'sub');
  mkdirSync(project, { recursive: true });
  const env = { PYENV_ROOT: root, PATH: join(root, 'shims') };
  return { root, project, env };
}

test('the global version file, a .python-version above the working directory, then PYENV_VERSION win in that order', (t) => {
  const { root, project, env } = fakePyenv(t);
  t.is(resolvePyenvShim('python3', env, project), join(root, 'versions', '3.11.7', 'bin', 'python3'));
  writeFileSync(join(root, 'project', '.python-version'), '# pinned\n3.12.1\n');
  t.is(resolvePyenvShim('python3', env, project), join(root, 'versions', '3.12.1', 'bin', 'python3'));
  t.is(resolvePyenvShim('python3', { ...env, PYENV_VERSION: '3.11.7' }, project), join(root, 'versions', '3.11.7', 'bin', 'python3'));
});

test('declines when unsure: system, a missing version, PYENV_DIR, a command that is not a shim, a path', (t) => {
  const { root, project, env } = fakePyenv(t);
  t.is(resolvePyenvShim('python3', { ...env, PYENV_VERSION: 'system' }, project), undefined);
  t.is(resolvePyenvShim('python3', { ...env, PYENV_VERSION: '3.9.0' }, project), undefined);
  t.is(resolvePyenvShim('python3', { ...env, PYENV_DIR: project }, project), undefined);
  t.is(resolvePyenvShim('python3', { ...env, PATH: join(root, 'versions', '3.11.7', 'bin') }, project), undefined);
  t.is(resolvePyenvShim(join(root, 'shims', 'python3'), env, project), undefined);
  t.is(resolvePyenvShim('python3', { PATH: env.PATH }, project), undefined);
});
