import { InvalidOptionError } from '../runtime/errors.js';
import { isPlainObject, notPlain } from '../runtime/validate.js';
import { supervisor } from '../supervisor/supervisor.js';
import { registryPartition } from './partition.js';
import type { RegistryConfig } from './registryState.js';

/** Options of `registry()` (Elixir's `Registry.start_link` options). */
export interface RegistryOptions {
  /** The registry's name: what lookups, registrations and via names use. */
  name: string;
  /** `'unique'`: one process per key. `'duplicate'`: any number (pub/sub with `dispatch`). */
  keys: 'unique' | 'duplicate';
  /** How many partition processes share the cleanup work. Default 1. */
  partitions?: number;
  /** Names of processes told of every register and explicit unregister. */
  listeners?: string[];
  /** Initial metadata (`Registry.meta`). */
  meta?: Record<string, unknown>;
}

/**
 * A Registry (Elixir's `Registry`): a process to start under a supervisor, mapping keys to
 * processes. Lookups read its tables directly (no message round trip); registrations are
 * written by the caller; its partitions clean up after processes that exit. Unique registries
 * also serve via names: `{ via: 'Services', key }` works wherever a name is accepted.
 *
 * It is itself a supervisor with one partition child per `partitions` (one_for_all for unique
 * keys, one_for_one for duplicate keys, as in Elixir).
 *
 * @example
 * ```ts
 * const app = supervisor({ children: [
 *   { id: 'services', start: registry({ name: 'Services', keys: 'unique' }) },
 *   { id: 'db', start: dbServer, name: undefined },
 * ] });
 * await runtime.start(app);
 * runtime.spawn(dbServer, { name: { via: 'Services', key: 'db' } });
 * await runtime.call({ via: 'Services', key: 'db' }, 'ping');
 * Registry.lookup(runtime, 'Services', 'db'); // [{ pid, value: undefined }]
 * ```
 * @throws InvalidOptionError naming the key, with Elixir's expectations.
 */
export function registry(options: RegistryOptions) {
  const config = parseRegistryOptions(options);
  return supervisor({
    strategy: config.keys === 'unique' ? 'one_for_all' : 'one_for_one',
    label: 'registry',
    children: Array.from({ length: config.partitions }, (_, index) => ({
      id: `partition-${index}`,
      start: registryPartition,
      input: { config, index },
    })),
  });
}

function parseRegistryOptions(options: unknown): RegistryConfig {
  if (!isPlainObject(options)) throw notPlain('registry', 'an options object with name and keys', options);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['name', 'keys', 'partitions', 'listeners', 'meta'].includes(key)) {
      throw new InvalidOptionError(`registry.${key}`, 'a known option (name, keys, partitions, listeners, meta)', o[key], 'unknown option');
    }
  }
  if (typeof o.name !== 'string' || !/^\S+$/.test(o.name)) {
    throw new InvalidOptionError('registry.name', 'a non-empty name without spaces (name is required)', o.name);
  }
  if (o.keys !== 'unique' && o.keys !== 'duplicate') {
    throw new InvalidOptionError('registry.keys', "'unique' or 'duplicate' (keys is required)", o.keys);
  }
  const partitions = o.partitions ?? 1;
  if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) {
    throw new InvalidOptionError('registry.partitions', 'a positive integer', o.partitions);
  }
  const listeners = o.listeners ?? [];
  if (!Array.isArray(listeners) || !listeners.every((l) => typeof l === 'string' && l.length > 0)) {
    throw new InvalidOptionError('registry.listeners', 'a list of names of processes', o.listeners);
  }
  const meta = o.meta ?? {};
  if (!isPlainObject(meta)) throw notPlain('registry.meta', 'a plain object', o.meta);
  return { name: o.name, keys: o.keys, partitions, listeners: listeners as string[], meta: meta as Record<string, unknown> };
}
