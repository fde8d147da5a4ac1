/**
 * A bridge reads this process's environment when it spawns, not when it is defined, and the
 * interpreter behind its command is looked up with the environment and working directory it
 * runs with. Tests here change process.env: they run one at a time and put it back.
 */
import test from 'ava';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestRuntime } from '../../src/testing/index.js';
import { BridgeStartupError, StartError, callBridge, pythonBridge, resolvePython } from '../../src/index.js';
import { EXAMPLES, rejectionOf } from '../helpers/bridge.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Runs `body` with `vars` set in process.env (undefined: unset), then puts the old values back. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  set(vars);
  try {
    return await body();
  } finally {
    set(old);
  }
}

/** Two folders, each with a `py-xotp-link` pointing at the real interpreter: same command, different answers. */
async function linkedInterpreters(): Promise<{ dirs: [string, string]; cleanup: () => void }> {
  const real = await resolvePython(process.env.XOTP_PYTHON || 'python3');
  const dirs: [string, string] = [mkdtempSync(join(tmpdir(), 'xotp-py-a-')), mkdtempSync(join(tmpdir(), 'xotp-py-b-'))];
  for (const dir of dirs) symlinkSync(real, join(dir, 'py-xotp-link'));
  return { dirs, cleanup: () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })) };
}

test.serial('regression: a bridge defined before XOTP_PYTHON was set ignored it when it spawned', async (t) => {
  // The default command was read by pythonBridge() itself: a program that defines its bridges at
  // import time and sets XOTP_PYTHON afterwards ran python3 anyway.
  const bridge = pythonBridge({ module: EXAMPLES });
  await withEnv({ XOTP_PYTHON: '/nonexistent/xotp-python-set-later' }, async () => {
    await using rt = createTestRuntime();
    const err = await rejectionOf(rt.start(bridge));
    t.true(err instanceof StartError, String(err));
    const reason = (err as StartError).reason;
    t.true(reason instanceof BridgeStartupError, String(reason));
    t.regex((reason as Error).message, /could not start \/nonexistent\/xotp-python-set-later: /);
  });
});

test.serial('regression: a bridge defined before PYTHONPATH was set could not import from it', async (t) => {
  // PYTHONPATH was merged into the bridge's environment when it was defined.
  const bridge = pythonBridge({ module: 'xotp_spawn_env' });
  await withEnv({ PYTHONPATH: FIXTURES }, async () => {
    await using rt = createTestRuntime();
    const pid = await rt.start(bridge);
    if (pid === 'ignore') throw new Error('ignored');
    t.is(typeof (await callBridge(rt, pid, 'executable')), 'string');
    await rt.stop(pid);
  });
});

test.serial('regression: the interpreter cache answered for the PATH of the first lookup, whatever PATH came later', async (t) => {
  // The cache was keyed by the command alone: once `py-xotp-link` was resolved through one PATH,
  // a lookup through another PATH got the first answer.
  const { dirs, cleanup } = await linkedInterpreters();
  try {
    const found: string[] = [];
    for (const dir of dirs) {
      await withEnv({ PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` }, async () => void found.push(await resolvePython('py-xotp-link')));
    }
    t.deepEqual(found, dirs.map((d) => join(d, 'py-xotp-link')));
  } finally {
    cleanup();
  }
});

test.serial("regression: a bridge's interpreter was looked up with this process's PATH, not the bridge's env: two bridges, one command, two PATHs", async (t) => {
  const { dirs, cleanup } = await linkedInterpreters();
  try {
    await using rt = createTestRuntime();
    const ran: unknown[] = [];
    for (const dir of dirs) {
      const env = { PATH: `${dir}${delimiter}${process.env.PATH ?? ''}`, PYTHONPATH: FIXTURES };
      const pid = await rt.start(pythonBridge({ module: 'xotp_spawn_env', python: 'py-xotp-link', env }));
      if (pid === 'ignore') throw new Error('ignored');
      ran.push(await callBridge(rt, pid, 'executable'));
      await rt.stop(pid);
    }
    t.deepEqual(ran, dirs.map((d) => join(d, 'py-xotp-link')));
  } finally {
    cleanup();
  }
});
