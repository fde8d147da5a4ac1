import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../runtime/runtime.js';
import type { RuntimeEventMap } from '../runtime/events.js';
import { InvalidOptionError } from '../runtime/errors.js';
import { validateOptions, optional, isString, integer, anything } from '../runtime/validate.js';
import { inspectTree, type InspectedNode } from './inspectTree.js';
import { recordLifecycle } from './lifecycleLog.js';
import { stateColour } from './stateColour.js';
import { viewerCss, viewerHtml, viewerJs } from './viewerPage.js';
import '../supervisor/events.js';

/** Options of {@link serveViewer}. */
export interface ViewerOptions {
  /** Interface to listen on. Default `'127.0.0.1'`: the tree is not for the network. */
  host?: string;
  /** Default 0: a free port, picked by the OS. */
  port?: number;
  /**
   * Fields the page must not show: names of node fields to drop from every node (`['links',
   * 'history']`), or a function that returns the node as it may be shown. Applied before a tree
   * leaves the process. `id` and `children` are always kept (the page needs them to draw).
   */
  maskFields?: readonly string[] | ((node: InspectedNode) => InspectedNode);
}

/** A running viewer. */
export interface Viewer {
  /** The page's address, with its access token: `http://127.0.0.1:41234/?token=…`. */
  readonly url: string;
  /** Ends every connection and frees the port; resolves once the server is closed. */
  close(): Promise<void>;
  /** Viewers connected now; tree messages sent; updates a slow viewer was skipped for. */
  stats(): { viewers: number; sent: number; skipped: number };
}

/** Minimum time between two updates to one viewer: at most 10 a second, whatever happens. */
const MIN_INTERVAL_MS = 100;
/** A viewer whose socket holds more than this unsent is skipped until it drains. */
const MAX_BUFFERED_BYTES = 256 * 1024;
/** Changes the bus does not announce (a state value, a counter) are picked up this often. */
const POLL_MS = 1000;

const busEvents: Array<keyof RuntimeEventMap> = [
  'process.spawned',
  'process.exited',
  'link',
  'unlink',
  'name.registered',
  'name.unregistered',
  'supervisor.childStarted',
  'supervisor.childExited',
  'supervisor.childStartFailed',
  'supervisor.intensityReached',
];

interface Client {
  readonly res: ServerResponse;
  /** Version of the tree it last got. */
  version: number;
  /** `performance.now()` of its last message. */
  sentAt: number;
}

/**
 * Serves a live view of `runtime`'s supervision tree on one local page: the tree drawn with
 * d3-hierarchy, nodes coloured by state, a restart badge per child, and a node's details (state,
 * links, monitors, recent exits with reasons, lifecycle history) on click.
 *
 * Every viewer gets the whole current tree when it connects (a late viewer is never missing
 * anything), then updates over Server-Sent Events, at most 10 a second per viewer whatever the
 * crash rate: changes are coalesced and the latest tree is sent. A viewer that does not keep up
 * (its socket's buffer is full) is skipped until it drains, never buffered without bound. Every
 * request must carry the random token in the URL, else it gets 403.
 *
 * @example
 * ```ts
 * const viewer = await serveViewer(runtime);
 * console.log(`open ${viewer.url}`);
 * // ...
 * await viewer.close();
 * ```
 * @throws InvalidOptionError for a bad option; rejects if the port cannot be bound.
 */
export async function serveViewer(runtime: Runtime, options: ViewerOptions = {}): Promise<Viewer> {
  const opts = validateOptions('serveViewer', options, {
    host: optional(isString, '127.0.0.1'),
    port: optional(integer(0, 65535), 0),
    maskFields: optional(anything),
  });
  const mask = maskOf(opts.maskFields);
  const token = randomBytes(24).toString('base64url');
  const tokenBytes = Buffer.from(token);
  const d3 = readFileSync(d3HierarchyPath());
  const html = viewerHtml.replaceAll('__TOKEN__', encodeURIComponent(token));

  const log = recordLifecycle(runtime);
  const clients = new Set<Client>();
  const sockets = new Set<Socket>();
  let version = 0;
  let json = '';
  let dirty = true;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let sent = 0;
  let skipped = 0;

  /** The current tree as the page gets it; a new version only when it changed. */
  const current = (): string => {
    if (dirty) {
      dirty = false;
      const next = JSON.stringify(prepare(inspectTree(runtime, { log }), mask));
      if (next !== json) {
        json = next;
        version++;
      }
    }
    return json;
  };

  const send = (client: Client, data: string) => {
    client.res.write(`id: ${version}\nevent: tree\ndata: ${data}\n\n`);
    client.version = version;
    client.sentAt = performance.now();
    sent++;
  };

  const flush = () => {
    timer = undefined;
    if (closed || clients.size === 0) return;
    const data = current();
    const now = performance.now();
    let wait = Infinity;
    for (const c of clients) {
      if (c.version === version) continue;
      const due = c.sentAt + MIN_INTERVAL_MS - now;
      if (due > 0) {
        wait = Math.min(wait, due);
        continue;
      }
      // A slow viewer is skipped; its 'drain' brings it the latest tree.
      if (c.res.writableNeedDrain || c.res.writableLength > MAX_BUFFERED_BYTES) {
        skipped++;
        continue;
      }
      send(c, data);
    }
    if (wait !== Infinity) schedule(wait);
  };

  const schedule = (delay: number) => {
    if (timer !== undefined || closed) return;
    timer = setTimeout(flush, Math.max(0, Math.ceil(delay)));
    timer.unref();
  };

  const changed = () => {
    dirty = true;
    if (clients.size > 0) schedule(0);
  };
  for (const event of busEvents) runtime.events.on(event, changed);
  const poll = setInterval(changed, POLL_MS);
  poll.unref();

  const authorised = (req: IncomingMessage, url: URL): boolean => {
    const given = Buffer.from(url.searchParams.get('token') ?? '');
    return given.length === tokenBytes.length && timingSafeEqual(given, tokenBytes);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://viewer.invalid');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // Browsers ask for it without the page's query string; there is none, and nothing to protect.
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    if (!authorised(req, url)) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('forbidden: this viewer needs the token from its URL\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    switch (url.pathname) {
      case '/':
        res.setHeader(
          'Content-Security-Policy',
          "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        );
        return void res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
      case '/viewer.js':
        return void res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(viewerJs);
      case '/viewer.css':
        return void res.writeHead(200, { 'Content-Type': 'text/css; charset=utf-8' }).end(viewerCss);
      case '/d3-hierarchy.js':
        return void res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(d3);
      case '/tree.json':
        return void res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end(current());
      case '/events': {
        res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
        res.write('retry: 1000\n\n');
        const client: Client = { res, version: 0, sentAt: 0 };
        clients.add(client);
        // The whole tree at once, whatever was sent to others before.
        send(client, current());
        res.on('drain', () => schedule(Math.max(0, client.sentAt + MIN_INTERVAL_MS - performance.now())));
        res.on('close', () => clients.delete(client));
        return;
      }
      default:
        return void res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const stopEverything = () => {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    clearInterval(poll);
    for (const event of busEvents) runtime.events.off(event, changed);
    log.dispose();
  };

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      stopEverything();
      reject(err);
    };
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}/?token=${encodeURIComponent(token)}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        stopEverything();
        for (const c of clients) c.res.end();
        clients.clear();
        server.close(() => resolve());
        // Keep-alive and half-open sockets would hold the port: end them all.
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
    stats: () => ({ viewers: clients.size, sent, skipped }),
  };
}

function maskOf(value: unknown): ((node: InspectedNode) => InspectedNode) | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value as (node: InspectedNode) => InspectedNode;
  if (Array.isArray(value) && value.every((f) => typeof f === 'string')) {
    const fields = value.filter((f) => f !== 'id' && f !== 'children');
    return (node) => {
      const copy: Record<string, unknown> = { ...node };
      for (const f of fields) delete copy[f];
      return copy as unknown as InspectedNode;
    };
  }
  throw new InvalidOptionError('serveViewer.maskFields', 'a list of field names, or a function (node) => node', value);
}

/** Adds each node's colour (the page and the Mermaid export agree on it) and applies the mask. */
function prepare(node: InspectedNode, mask: ((node: InspectedNode) => InspectedNode) | undefined): unknown {
  const children = node.children.map((c) => prepare(c, mask));
  const withColour = { ...node, colour: stateColour(node.state, node.status) };
  const shown = mask ? mask(withColour) : withColour;
  return { ...shown, id: node.id, children };
}

/** d3-hierarchy's UMD build, next to the ESM file its package resolves to. */
function d3HierarchyPath(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('d3-hierarchy'))), 'd3-hierarchy.min.js');
}
