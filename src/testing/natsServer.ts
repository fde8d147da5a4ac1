import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { InvalidOptionError } from '../runtime/errors.js';
import { validateOptions, optional, isBoolean, matching } from '../runtime/validate.js';

/** A private `nats-server` started by `startNatsServer`. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>`, the port the server chose. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then waits for its exit) and removes its JetStream folder. Idempotent. */
  stop(): Promise<void>;
}

/** Options of `startNatsServer`. */
export interface NatsServerOptions {
  /** The binary. Default: `nats-server` on PATH, else in /usr/sbin (Debian's package puts it there). */
  bin?: string;
  /** Enable JetStream (in a fresh temporary folder). Default true. */
  jetstream?: boolean;
}

/** Where `nats-server` is, on PATH or in the folders Debian and others install it to; undefined if nowhere. */
export function findNatsServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    const candidate = join(dir, 'nats-server');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Starts a private `nats-server` for a test or a benchmark: on 127.0.0.1, on a port the server
 * picks itself (`-p -1`, so two suites never race for a port), with JetStream in a temporary
 * folder. Resolves once the server listens.
 *
 * @throws InvalidOptionError when no binary is found; Error with the server's log when it exits
 *   before it is ready.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const o = validateOptions('startNatsServer', options, {
    bin: optional(matching(/./, 'a path to nats-server')),
    jetstream: optional(isBoolean, true),
  });
  const bin = o.bin ?? findNatsServer();
  if (bin === undefined) throw new InvalidOptionError('startNatsServer.bin', 'a nats-server binary (none on PATH or in /usr/sbin: apt-get install nats-server)', undefined);
  const dir = o.jetstream ? mkdtempSync(join(tmpdir(), 'xotp-nats-')) : undefined;
  const args = ['-a', '127.0.0.1', '-p', '-1', ...(dir === undefined ? [] : ['-js', '-sd', dir])];
  const server: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (server.exitCode === null && server.signalCode === null) {
        const gone = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        await gone;
      }
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    })());
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let log = '';
      server.once('error', reject);
      server.stderr!.setEncoding('utf8');
      server.stderr!.on('data', (chunk: string) => {
        log += chunk;
        const listening = /Listening for client connections on [^\s]*:(\d+)/.exec(log);
        if (listening !== null && log.includes('Server is ready')) resolve(Number(listening[1]));
      });
      server.once('exit', (code, signal) => reject(new Error(`nats-server exited (${code ?? signal}) before it was ready:\n${log}`)));
    });
    // Its log is no longer needed; keep reading so a chatty server never blocks on a full pipe.
    server.stderr!.removeAllListeners('data');
    server.stderr!.resume();
    return { url: `nats://127.0.0.1:${port}`, port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
