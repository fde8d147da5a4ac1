/**
 * Watching a supervision tree in the Stately inspector.
 *
 *     npx tsx examples/inspector.ts                      # sends to ws://localhost:8080
 *     XOTP_INSPECT_URL=ws://127.0.0.1:9000 npx tsx examples/inspector.ts
 *
 * `@statelyai/inspect` is an optional peer dependency of xotp (`npm i -D @statelyai/inspect`):
 * the runtime takes any xstate inspector through `createRuntime({ inspect })` and never needs
 * this package itself. Its WebSocket inspector sends every inspection event as JSON to a
 * WebSocket server at `url`; point the Stately inspector (or any receiver, such as
 * `createWebSocketReceiver` from the same package) at that server.
 *
 * What arrives describes the same tree as `runtime.tree()`: one `@xstate.actor` per process with
 * its real parent (`parentId`), snapshots whose exit reasons read as `{ name, message }` rather
 * than `{}`, and events whose `sourceId` is the process that sent them.
 *
 * The WebSocket inspector buffers at most `maxDeferredEvents` events (200 by default) until it is
 * connected, so a receiver that connects late misses the start of the tree: start the receiver
 * first, or raise the limit as below. xotp's own viewer (`serveViewer`) has no such limit: every
 * viewer gets the whole current tree when it connects.
 */
import { createWebSocketInspector } from '@statelyai/inspect';
import { createRuntime, defineServer, dynamicSupervisor, startChild, supervisor, type Pid, type Runtime } from '../src/index.js';
import { formatTree, inspectTree } from '../src/inspect/index.js';

type Inspect = NonNullable<Parameters<typeof createRuntime>[0]>['inspect'];

/** A log that receives forwarded lines. */
export const logServer = defineServer<string[], undefined, 'lines', string[], string>({
  name: 'log',
  init: () => ({ state: [] }),
  handleCall: (_req, _from, lines) => ({ reply: lines }),
  handleCast: (line, lines) => ({ state: [...lines, line] }),
});

/** A worker that forwards what it is told to the log (as itself: the log sees who sent it), or crashes. */
export const worker = defineServer<null, undefined, unknown, unknown, { say: string } | 'crash'>({
  name: 'worker',
  init: () => ({ state: null }),
  handleCast: (msg, state, ctx) => {
    if (msg === 'crash') throw new Error('boom');
    ctx.runtime.cast('log', msg.say);
    return { state };
  },
});

/** Builds a small tree on `runtime`, sends a message through it and crashes one worker. */
export async function walkthrough(runtime: Runtime, print: (line: string) => void = console.log) {
  await runtime.start(
    supervisor({
      children: [
        { id: 'log', name: 'log', start: logServer },
        { id: 'workers', name: 'workers', start: dynamicSupervisor({ label: 'workers' }) },
      ],
    }),
    { name: 'app' },
  );
  const workers: Pid[] = [];
  for (let i = 0; i < 3; i++) workers.push(((await startChild(runtime, 'workers', { start: worker })) as { pid: Pid }).pid);
  runtime.cast(workers[0]!, { say: 'hello from a worker' });
  await runtime.call('log', 'lines');

  const restarted = new Promise<Pid>((resolve) =>
    runtime.events.on('supervisor.childStarted', (e) => {
      if (e.restart) resolve(e.pid);
    }),
  );
  runtime.cast(workers[1]!, 'crash');
  const replacement = await restarted;
  print(formatTree(inspectTree(runtime)));
  return { workers, crashed: workers[1]!, replacement };
}

/** Runs the walkthrough with the WebSocket inspector, then shuts everything down. */
export async function main(url = process.env.XOTP_INSPECT_URL ?? 'ws://localhost:8080', inspect?: Inspect): Promise<void> {
  const inspector = inspect === undefined ? createWebSocketInspector({ url, maxDeferredEvents: 100_000 }) : undefined;
  const runtime = createRuntime({ name: 'app', inspect: inspect ?? inspector!.inspect });
  try {
    await walkthrough(runtime);
  } finally {
    await runtime.shutdown();
    inspector?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
