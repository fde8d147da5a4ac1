/** The cluster tests' nats-server: `xotp/testing`'s `startNatsServer`, stopped by the test's teardown. */
import type { ExecutionContext } from 'ava';
import type { ChildProcess } from 'node:child_process';
import { findNatsServer, startNatsServer } from '../../src/testing/index.js';

export const natsServer = findNatsServer();

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a private nats-server (127.0.0.1, JetStream in a temp dir) that the test's teardown stops. */
export async function startNats(t: ExecutionContext, bin: string): Promise<string> {
  const server = await startNatsServer({ bin });
  t.teardown(() => server.stop());
  return server.url;
}
