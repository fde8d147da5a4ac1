import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { InspectedNode } from '../../src/inspect/index.js';

/** One `tree` message as a viewer got it, with its arrival time (performance.now()). */
export interface TreeMessage {
  at: number;
  tree: InspectedNode & { colour: string };
}

/**
 * A minimal Server-Sent Events client for the viewer's /events stream: collects every tree
 * message, and lets a test wait for one that satisfies a condition (driven by the messages
 * themselves, never by a timer).
 */
export class SseClient {
  readonly messages: TreeMessage[] = [];
  readonly status: Promise<number>;
  #req!: ClientRequest;
  #res: IncomingMessage | undefined;
  #buffer = '';
  #waiters: Array<{ test: (m: TreeMessage) => boolean; resolve: (m: TreeMessage) => void }> = [];
  #ended: Promise<void>;

  constructor(url: string, options: { paused?: boolean } = {}) {
    let ended!: () => void;
    this.#ended = new Promise((r) => (ended = r));
    this.status = new Promise((resolve, reject) => {
      this.#req = request(url, { agent: false }, (res) => {
        this.#res = res;
        resolve(res.statusCode ?? 0);
        res.setEncoding('utf8');
        if (options.paused) res.pause();
        res.on('data', (chunk: string) => this.#feed(chunk));
        res.on('end', ended);
        res.on('close', ended);
      });
      this.#req.on('error', (err) => {
        reject(err);
        ended();
      });
      this.#req.end();
    });
  }

  #feed(chunk: string): void {
    this.#buffer += chunk;
    for (let end = this.#buffer.indexOf('\n\n'); end >= 0; end = this.#buffer.indexOf('\n\n')) {
      const frame = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const lines = frame.split('\n');
      if (!lines.includes('event: tree')) continue;
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      const message: TreeMessage = { at: performance.now(), tree: JSON.parse(data) };
      this.messages.push(message);
      this.#waiters = this.#waiters.filter((w) => (w.test(message) ? (w.resolve(message), false) : true));
    }
  }

  /** The first message (already received or still to come) for which `test` holds. */
  next(test: (m: TreeMessage) => boolean, from = 0): Promise<TreeMessage> {
    const seen = this.messages.slice(from).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  resume(): void {
    this.#res?.resume();
  }

  /** Resolves when the server ended the stream. */
  ended(): Promise<void> {
    return this.#ended;
  }

  close(): void {
    this.#req.destroy();
  }
}

export const find = (node: InspectedNode, id: string): InspectedNode | undefined =>
  node.id === id ? node : node.children.map((c) => find(c, id)).find((n) => n !== undefined);
