/**
 * DESIGN.md's "How the pieces compose", runnable: one supervisor with a Registry and a pool of
 * Python bridges (with sessions); a service registered through a via name; a session whose calls
 * all land on one Python process; a Python worker killed and replaced; the tree printed.
 *
 * Run: npx tsx examples/app.ts
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createRuntime,
  consoleLogger,
  defineServer,
  supervisor,
  registry,
  Registry,
  pool,
  Pool,
  pythonBridge,
  type Runtime,
} from '../src/index.js';
import { formatTree } from '../src/inspect/index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A tiny service that other code finds through the registry. */
export const greeter = defineServer<string, string, string, string>({
  name: 'greeter',
  init: (greeting) => ({ state: greeting }),
  handleCall: (name, _from, greeting) => ({ reply: `${greeting}, ${name}` }),
});

export const app = supervisor({
  strategy: 'one_for_one',
  maxRestarts: 3,
  maxSeconds: 5,
  children: [
    { id: 'services', start: registry({ name: 'Services', keys: 'unique' }) },
    { id: 'greeter', start: greeter, input: 'hello', name: { via: 'Services', key: 'greeter' } },
    {
      id: 'py',
      start: pool({
        name: 'py',
        size: 2,
        worker: pythonBridge({ module: 'app_handlers', cwd: join(here, 'python') }),
        sessions: { ttl: 300_000 },
      }),
    },
  ],
});

export interface AppRun {
  greeting: string;
  sessionPids: number[];
  replacedWorker: boolean;
  tree: string;
}

/** Runs the walkthrough on `runtime` and returns what it saw (the example test asserts on it). */
export async function walkthrough(runtime: Runtime, log: (line: string) => void = console.log): Promise<AppRun> {
  await runtime.start(app, { name: 'app' });
  await Pool.ready(runtime, 'py');
  const greeting = await runtime.call<string>({ via: 'Services', key: 'greeter' }, 'world');
  log(`greeter (found through the registry): ${greeting}`);
  log(`registry holds: ${Registry.count(runtime, 'Services')} name(s)`);

  const sessionPids: number[] = [];
  for (const text of ['a', 'b', 'c']) {
    const r = await Pool.run<{ pid: number; calls_in_session: number }>(runtime, 'py', 'embed', { text, session: 's1' }, { session: 's1', timeout: 5000 });
    sessionPids.push(r.pid);
  }
  log(`session s1 ran on Python pid(s): ${[...new Set(sessionPids)].join(', ')}`);

  const before = await Pool.status(runtime, 'py');
  const victim = before.workers[0]!.pid;
  runtime.exit(victim, 'kill');
  const after = await Pool.ready(runtime, 'py');
  const replacedWorker = !after.workers.some((w) => w.pid.id === victim.id) && after.workers.length === before.workers.length;
  log(`killed worker ${victim}; pool back to ${after.ready} ready worker(s)`);

  const tree = formatTree(runtime.tree());
  log(tree);
  return { greeting, sessionPids, replacedWorker, tree };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runtime = createRuntime({ name: 'app', logger: consoleLogger('error', '  [log]') });
  await walkthrough(runtime);
  await runtime.shutdown();
  console.log(`shut down; ${runtime.stats().alive} processes alive`);
}
