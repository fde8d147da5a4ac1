/**
 * How cluster names and groups are spelt in JetStream KV keys, which allow only letters,
 * digits, `-`, `_`, `/`, `=` and `.` between tokens: every user-given part is one base64url token.
 * @internal
 */
export function token(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/** @internal */
export function untoken(encoded: string): string {
  return Buffer.from(encoded, 'base64url').toString();
}

/** A revision-checked write or delete refused because someone else wrote the key since. @internal */
export function isWrongRevision(err: unknown): boolean {
  const text = `${(err as Error)?.message ?? ''} ${String((err as { code?: unknown })?.code ?? '')}`;
  return /wrong last sequence|10071/i.test(text);
}
