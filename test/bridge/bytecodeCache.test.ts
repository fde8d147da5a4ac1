/**
 * xotp_bridge's own bytecode is cached even when the environment says not to write bytecode
 * (PYTHONDONTWRITEBYTECODE, common in containers and set on this machine): otherwise Python
 * compiles the whole bridge at every start, a third of a worker's spawn → ready (issue 13). The
 * user's modules still follow their setting.
 *
 * PYTHONPYCACHEPREFIX sends every .pyc of the test's bridge into a fresh folder, so the test
 * sees exactly what that one process wrote, whatever other runs left in the package.
 */
import test from 'ava';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestRuntime } from '../../src/testing/index.js';
import { callBridge, pythonBridge } from '../../src/index.js';

function pycFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.pyc')).map((f) => f.split('\\').join('/'));
}

test('regression: xotp_bridge recompiled at every start under PYTHONDONTWRITEBYTECODE — its own modules are cached, the user module is not', async (t) => {
  const userDir = mkdtempSync(join(tmpdir(), 'xotp-pyc-user-'));
  const cacheDir = mkdtempSync(join(tmpdir(), 'xotp-pyc-cache-'));
  try {
    writeFileSync(join(userDir, 'xotp_pyc_user.py'), 'from xotp_bridge import handler\n\n\n@handler\ndef hello(args):\n    return "hi"\n');
    await using rt = createTestRuntime();
    const bridge = pythonBridge({
      module: 'xotp_pyc_user',
      env: { PYTHONPATH: userDir, PYTHONDONTWRITEBYTECODE: '1', PYTHONPYCACHEPREFIX: cacheDir },
    });
    const pid = await rt.start(bridge);
    if (pid === 'ignore') throw new Error('ignored');
    t.is(await callBridge(rt, pid, 'hello', null), 'hi');
    const written = pycFiles(cacheDir);
    t.is(written.filter((f) => /\/xotp_bridge\/_core\.[^/]+\.pyc$/.test(f)).length, 1, `xotp_bridge's implementation is cached: ${written.join(', ')}`);
    t.deepEqual(written.filter((f) => f.includes('xotp_pyc_user')), [], 'the user module follows PYTHONDONTWRITEBYTECODE');
    await rt.stop(pid);
  } finally {
    rmSync(userDir, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
