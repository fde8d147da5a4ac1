import type { Pid } from './pid.js';

/**
 * A via name: "the process registered under `key` in the name service (registry) `via`".
 * Accepted wherever a target or a name is: send, call, stop, spawn's `name`, a child's `name`.
 * `value` is what a spawn registers with the name (default `undefined`).
 */
export interface ViaName {
  readonly via: string;
  readonly key: unknown;
  readonly value?: unknown;
}

/** True for `{ via, key }`. */
export function isViaName(value: unknown): value is ViaName {
  return typeof value === 'object' && value !== null && typeof (value as { via?: unknown }).via === 'string' && 'key' in value;
}

/**
 * Something that maps keys to processes and that via names can use (a Registry). The runtime
 * only knows this interface: it looks services up by name and asks them.
 */
export interface NameService {
  readonly name: string;
  readonly kind: 'unique' | 'duplicate';
  /** The live process holding `key`; may throw a typed error (e.g. via on a duplicate registry). */
  whereis(key: unknown): Pid | undefined;
  /** Registers `pid` under `key`; throws AlreadyRegisteredError (with the owner) if taken. */
  registerName(key: unknown, pid: Pid, value: unknown): void;
  unregisterName(key: unknown, pid: Pid): void;
  /**
   * True when `key` was held by a process that has since exited (and nobody unregistered it or
   * took it since), from the moment the runtime knows the holder is dead, even before the
   * service has cleaned up after it. Name resolution then stops here instead of trying fallback
   * resolvers, so a name whose holder is restarting never silently resolves to another service.
   */
  wasHeld?(key: unknown): boolean;
}

/** A last-resort resolver for plain names, tried in order after local names and registries. */
export type FallbackResolver = (name: string) => Pid | undefined;
