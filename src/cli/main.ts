#!/usr/bin/env node
/**
 * The `xotp` command: `xotp demo [flags]`, `xotp doctor [flags]`, `xotp --help`.
 * In a checkout `npm start` runs this file through tsx; an installed package runs the compiled
 * dist/cli/main.js through bin/xotp.js.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { doctor } from './doctor.js';
import { demoHandlersDir, printSummary, runDemo } from './demo.js';
import { demoHandlers } from './demoOps.js';
import { parseChaos, parseDuration, parsePositiveInt, UsageError } from './demoFlags.js';
import type { DemoOutput } from './demoView.js';

export const usage = `xotp: Erlang/OTP-style supervision for TypeScript, with supervised Python workers

usage:
  xotp demo [--duration 10s] [--workers 4] [--chaos 2] [--view]
      a pool of Python workers under load while a chaos monkey SIGKILLs them;
      ends with a summary and a last line 'demo: ... lost 0 ...' (exit 0 only when nothing was lost)
      --duration D   how long the load runs: ms, or with a unit (3000, 3000ms, 10s); default 10s
      --workers N    pool size; default 4
      --chaos R      kills per second (2), ms between kills (500ms), or 0 for none; default 2
      --view         serve the live viewer on 127.0.0.1 and print its URL
  xotp doctor [--module M] [--cwd D] [--handlers a,b] [--python P]
      checks that Python can run xotp workers (and that module M imports from D and has the
      handlers named); prints each problem with its fix; exit 1 if there is any
      without --module it checks the demo's own handlers
  xotp --help | -h
`;

/** Where the command writes: `out` may be a terminal (the demo then redraws a frame in place). */
export interface CliIO {
  out: DemoOutput;
  err: { write(text: string): unknown };
}

/** Runs the command; resolves the exit code (2 for a command line it cannot use). */
export async function main(argv: string[], io: CliIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.out.write(usage);
      return 0;
    }
    if (command === 'demo') return await demoCommand(rest, io);
    if (command === 'doctor') return await doctorCommand(rest, io);
    throw new UsageError(command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`);
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.err.write(`xotp: ${(err as Error).message}\n\n${usage}`);
      return 2;
    }
    throw err;
  }
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

async function demoCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      workers: { type: 'string' },
      chaos: { type: 'string' },
      view: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out.write(usage);
    return 0;
  }
  const controller = new AbortController();
  // Ctrl-C (or a SIGTERM) ends the load early: the demo still drains, shuts the runtime down
  // (no Python left), prints its summary, and then exits.
  // The exit code a shell gives a process ended by that signal: 128 + its number.
  let interrupted: 130 | 143 | undefined;
  const onInt = () => {
    interrupted = 130;
    controller.abort();
  };
  const onTerm = () => {
    interrupted = 143;
    controller.abort();
  };
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  try {
    const result = await runDemo({
      durationMs: values.duration !== undefined ? parseDuration('--duration', values.duration) : 10_000,
      workers: values.workers !== undefined ? parsePositiveInt('--workers', values.workers, 64) : 4,
      killEveryMs: values.chaos !== undefined ? parseChaos(values.chaos) : 500,
      view: values.view ?? false,
      signal: controller.signal,
      out: io.out,
    });
    if (!result.ran) {
      io.err.write(`xotp demo needs Python 3 to run its workers, and cannot start:\n${result.problems.map((p) => `- ${p}`).join('\n')}\n(check again with: xotp doctor)\n`);
      io.out.write('demo: not run (python unusable)\n');
      return 1;
    }
    printSummary(result.summary, io.out);
    if (interrupted !== undefined) return interrupted;
    return result.summary.lost === 0 && result.summary.pythonLeft === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

async function doctorCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      module: { type: 'string' },
      cwd: { type: 'string' },
      handlers: { type: 'string' },
      python: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out.write(usage);
    return 0;
  }
  const handlers = values.handlers?.split(',').map((h) => h.trim()).filter(Boolean);
  const options =
    values.module !== undefined
      ? { module: values.module, ...(values.cwd !== undefined ? { cwd: values.cwd } : {}), ...(handlers ? { handlers } : {}) }
      : { module: 'demo_handlers', cwd: demoHandlersDir, handlers: [...demoHandlers] };
  if (values.module === undefined && (values.cwd !== undefined || handlers)) throw new UsageError('--cwd and --handlers need --module');
  return doctor({ ...options, ...(values.python !== undefined ? { python: values.python } : {}) }, io.out);
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  process.exitCode = await main(process.argv.slice(2));
}
