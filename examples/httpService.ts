/**
 * Embedding xotp in a service: a node:http server on 127.0.0.1 with a supervised pool of Python
 * workers behind GET /embed, and a graceful shutdown on SIGTERM — stop accepting connections,
 * let the requests in flight finish, shut the runtime down (every Python process ends), exit 0.
 *
 * Run: npx tsx examples/httpService.ts   (PORT=8080 by default; PORT=0 picks a free port)
 *      curl 'http://127.0.0.1:8080/embed?text=hello'
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuntime, pool, poolHandle, pythonBridge, supervisor, XotpError } from '../src/index.js';

/** The Python side's operations, declared once: a wrong op name or argument does not compile. */
type Ops = { embed: [{ text: string; delay_ms?: number }, { vector: number[] }] };

/** Where demo_handlers.py lives: the pool's workers import it from there. */
const handlers = dirname(fileURLToPath(import.meta.url));

export async function startService(port: number) {
  const runtime = createRuntime({ name: 'service' });
  await runtime.start(
    supervisor({
      strategy: 'one_for_one',
      children: [
        {
          id: 'py',
          start: pool({
            name: 'py',
            size: 2,
            worker: pythonBridge({ module: 'demo_handlers', cwd: handlers }),
            retry: true, // embed is idempotent: a call whose worker died is retried on another
          }),
        },
      ],
    }),
    { name: 'app' },
  );
  const py = poolHandle<Ops>(runtime, 'py');
  await py.ready();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (url.pathname === '/embed') {
        const text = url.searchParams.get('text') ?? '';
        const delay = Number(url.searchParams.get('delay_ms') ?? 0);
        send(200, await py.run('embed', { text, delay_ms: delay }, { idempotent: true, timeout: 10_000 }));
      } else if (url.pathname === '/status') {
        const { ready, busy, queued } = await py.status();
        send(200, { ready, busy, queued });
      } else {
        send(404, { error: 'not found' });
      }
    } catch (err) {
      // Every error xotp raises says what kind it is: overload and outages are 503, the rest 500.
      const code = err instanceof XotpError ? err.code : 'internal';
      const busy = err instanceof XotpError && (err.category === 'overload' || err.category === 'transient');
      send(busy ? 503 : 500, { error: code });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;

  /** Stops accepting, waits for the requests in flight, then stops every Python worker. */
  const stop = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    console.log('stopping: no new connections; finishing the requests in flight');
    await closed;
    await runtime.shutdown();
    console.log('stopped');
  };
  return { url, stop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const service = await startService(Number(process.env.PORT ?? 8080));
  console.log(`listening on ${service.url}`);
  process.once('SIGTERM', () => void service.stop());
  process.once('SIGINT', () => void service.stop());
}
