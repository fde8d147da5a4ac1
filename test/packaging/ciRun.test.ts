/**
 * .ci/run, the CI entry point: its last line counts ava's TAP results. Run here on a copy of the
 * script with a stand-in `npm` on PATH that prints fixed TAP, so only the counting is tested.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../.ci/run', import.meta.url));

/** Runs a copy of .ci/run whose `npm test` prints `tap` and exits `status`; resolves with its output and exit code. */
function ciRun(tap: string, status: number): Promise<{ stdout: string; code: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'xotp-ci-'));
  mkdirSync(join(dir, '.ci'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(SCRIPT, join(dir, '.ci', 'run'));
  writeFileSync(join(dir, 'tap.txt'), tap);
  const npm = `#!/bin/sh\nif [ "$1" = test ]; then cat "${join(dir, 'tap.txt')}"; exit ${status}; fi\nexit 0\n`;
  writeFileSync(join(dir, 'bin', 'npm'), npm);
  writeFileSync(join(dir, 'bin', 'nats-server'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(dir, 'bin', 'npm'), 0o755);
  chmodSync(join(dir, 'bin', 'nats-server'), 0o755);
  return new Promise((resolve) => {
    execFile('bash', [join(dir, '.ci', 'run')], { env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` } }, (err, stdout) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ stdout, code: err ? Number((err as { code?: number }).code) : 0 });
    });
  });
}

// The script installs chromium with apt when /usr/bin/chromium is missing: not from a test.
const withChromium = existsSync('/usr/bin/chromium') ? test.serial : test.serial.skip;

withChromium('regression: ava stopping before its summary — skipped tests are counted as skipped, not passed', async (t) => {
  const tap = ['TAP version 13', 'ok 1 - a › one', 'ok 2 - a › two # SKIP', 'not ok 3 - b › three', 'ok 4 - c › four', ''].join('\n');
  const { stdout, code } = await ciRun(tap, 1);
  t.is(stdout.trim().split('\n').at(-1), '2 passed, 2 failed, 1 skipped');
  t.is(code, 1);
});

withChromium('with its summary, the counts are ava’s own', async (t) => {
  const tap = ['TAP version 13', 'ok 1 - a › one', 'ok 2 - a › two # SKIP', '', '1..2', '# tests 2', '# pass 1', '# skip 1', '# fail 0', ''].join('\n');
  const { stdout, code } = await ciRun(tap, 0);
  t.is(stdout.trim().split('\n').at(-1), '1 passed, 0 failed, 1 skipped');
  t.is(code, 0);
});
