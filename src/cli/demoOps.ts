import { createHash } from 'node:crypto';

/** The operations of examples/demo_handlers.py, declared once for a typed pool handle. */
export type DemoOps = {
  embed: [{ text: string }, { vector: number[] }];
  score: [{ text: string; query: string }, { score: number }];
  remember: [{ session: string; item: number }, { count: number; pid: number }];
  forget: [{ session: string }, boolean];
};

/** The handlers the demo needs (what `xotp doctor` and the demo's environment check ask for). */
export const demoHandlers = ['embed', 'score', 'remember', 'forget'] as const;

/**
 * What `embed` must answer, computed in Node: the first 8 bytes of the text's SHA-256, each / 255.
 * A division of the same integers gives the same double in Python and JavaScript, and JSON
 * carries it exactly, so the comparison can be strict.
 */
export function expectedEmbedding(text: string): number[] {
  return [...createHash('sha256').update(text, 'utf8').digest().subarray(0, 8)].map((b) => b / 255);
}

/** What `score` must answer: how many words of `text` occur in `query`. */
export function expectedScore(text: string, query: string): number {
  const words = new Set(query.split(/\s+/).filter(Boolean));
  return text.split(/\s+/).filter((w) => w && words.has(w)).length;
}
