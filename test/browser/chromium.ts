import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Debian's `/usr/bin/chromium` is a shell launcher (it adds flags from /etc/chromium.d and may
 * re-exec under gdb); playwright needs the binary itself, which Debian installs beside its
 * libraries in /usr/lib/chromium.
 */
export function chromiumBinary(): string {
  const launcher = '/usr/bin/chromium';
  if (!existsSync(launcher)) {
    throw new Error('chromium is not installed: apt-get install -y chromium (.ci/run does it when it is missing)');
  }
  const head = readFileSync(launcher).subarray(0, 2).toString('latin1');
  if (head !== '#!') return launcher;
  const real = '/usr/lib/chromium/chromium';
  if (!existsSync(real)) throw new Error(`${launcher} is a script and ${real} does not exist`);
  return real;
}

const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless chromium with a fresh profile; `close` removes the profile too. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'xotp-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumBinary(),
      headless: true,
      args: flags,
      viewport: { width: 1400, height: 900 },
      timeout: 60_000,
    });
    return {
      context,
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}
