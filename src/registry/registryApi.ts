import { Pid, isPid } from '../runtime/pid.js';
import { InvalidOptionError, NoProcessError } from '../runtime/errors.js';
import { isPlainObject, notPlain } from '../runtime/validate.js';
import type { Runtime, Target } from '../runtime/runtime.js';
import { RegistryState, RegistryKindError, type RegistryEntry } from './registryState.js';
import { matches, type Pattern } from './pattern.js';

/** A `select` spec: entries whose key, pid and value match, and for which `where` holds. */
export interface SelectSpec {
  key?: Pattern;
  pid?: Pid;
  value?: Pattern;
  where?: (entry: RegistryEntry) => boolean;
}

/**
 * The registry the last call named, so that a loop of lookups on one registry reads its tables
 * without first asking the runtime's name table (a lookup is a handful of nanoseconds; that
 * second map read was a third of it). A retired registry is never used: it is no longer the
 * one published under its name, and a registry restarted under that name is a new state.
 */
let lastRt: Runtime | undefined;
let lastName: string | undefined;
let lastState: RegistryState | undefined;

function stateOf(rt: Runtime, registry: string): RegistryState {
  const last = lastState;
  if (last !== undefined && registry === lastName && rt === lastRt && !last.retired) return last;
  const state = publishedState(rt, registry);
  lastRt = rt;
  lastName = registry;
  lastState = state;
  return state;
}

function publishedState(rt: Runtime, registry: string): RegistryState {
  if (typeof registry !== 'string') throw new InvalidOptionError('registry', 'a registry name', registry);
  // Throws UnknownRegistryError (naming it, listing the running ones) if it is not running.
  const service = rt.nameService(registry);
  if (!(service instanceof RegistryState)) {
    throw new InvalidOptionError('registry', 'the name of a Registry', registry, `'${registry}' is another kind of name service`);
  }
  return service;
}

function ownerPid(rt: Runtime, owner: Target, operation: string): Pid {
  const resolved = rt.resolve(owner);
  if (!resolved.ok) throw resolved.error instanceof NoProcessError ? new NoProcessError(owner, operation) : resolved.error;
  return resolved.pid;
}

function selectPredicate(spec: SelectSpec): (e: RegistryEntry) => boolean {
  // A Map has no own keys: read as a spec it would match every entry.
  if (!isPlainObject(spec as unknown)) throw notPlain('select.spec', 'an object { key?, pid?, value?, where? }', spec);
  for (const k of Object.keys(spec)) {
    if (!['key', 'pid', 'value', 'where'].includes(k)) {
      throw new InvalidOptionError(`select.spec.${k}`, 'one of key, pid, value, where', (spec as Record<string, unknown>)[k], 'unknown option');
    }
  }
  if (spec.where !== undefined && typeof spec.where !== 'function') {
    throw new InvalidOptionError('select.spec.where', 'a predicate on { key, pid, value }', spec.where);
  }
  if (spec.pid !== undefined && !isPid(spec.pid)) throw new InvalidOptionError('select.spec.pid', 'a pid', spec.pid);
  return (e) =>
    ('key' in spec ? matches(spec.key, e.key) : true) &&
    (spec.pid === undefined || Pid.equals(spec.pid, e.pid)) &&
    ('value' in spec ? matches(spec.value, e.value) : true) &&
    (spec.where === undefined || spec.where(e));
}

/**
 * The Registry API (Elixir's `Registry` module). Every function takes the runtime and the
 * registry's name; one that is not running gives `UnknownRegistryError` naming it and listing
 * those that are. Reads go straight to the tables; writes act for `owner` (the process the
 * entry belongs to: Elixir always uses the caller; here it is explicit, usually `ctx.self`).
 */
export const Registry = {
  /**
   * Registers `key` → `value` for `owner`, links `owner` to the registry's partition, and tells
   * the listeners. Returns the partition's pid (Elixir's `{:ok, owner}`).
   *
   * @throws AlreadyRegisteredError (with the holder's pid) for a taken unique key;
   *   NoProcessError if `owner` is not alive.
   */
  register(rt: Runtime, registry: string, key: unknown, value: unknown, owner: Target): Pid | undefined {
    const state = stateOf(rt, registry);
    const pid = ownerPid(rt, owner, 'Registry.register');
    state.register(key, value, pid);
    return state.partitions[state.partitionOf(pid)];
  },

  /** Removes every entry `owner` has under `key` (always succeeds). */
  unregister(rt: Runtime, registry: string, key: unknown, owner: Target): void {
    const state = stateOf(rt, registry);
    const resolved = rt.resolve(owner);
    if (resolved.ok) state.unregister(key, resolved.pid);
    else if (isPid(owner)) state.unregister(key, Pid.from(owner));
  },

  /** Removes `owner`'s entries under `key` whose value matches `pattern` (and `guard`). */
  unregisterMatch(rt: Runtime, registry: string, key: unknown, pattern: Pattern, owner: Target, guard?: (value: unknown) => boolean): void {
    const state = stateOf(rt, registry);
    state.unregisterMatch(key, ownerPid(rt, owner, 'Registry.unregisterMatch'), pattern, guard);
  },

  /**
   * `[{ pid, value }]` for `key` (live processes only, in no particular order). The array is
   * frozen and may be shared with other callers (a lookup allocates nothing): copy it to change it.
   */
  lookup<V = unknown>(rt: Runtime, registry: string, key: unknown): ReadonlyArray<{ readonly pid: Pid; readonly value: V }> {
    return stateOf(rt, registry).lookup(key) as ReadonlyArray<{ readonly pid: Pid; readonly value: V }>;
  },

  /**
   * Calls `callback` with the non-empty list of `{ pid, value }` under `key`, once per partition
   * holding entries; never when there are none (Elixir R14). Local pub/sub: register subscribers
   * under a topic in a duplicate registry, then dispatch to them.
   */
  dispatch<V = unknown>(rt: Runtime, registry: string, key: unknown, callback: (entries: Array<{ pid: Pid; value: V }>) => void): void {
    for (const group of stateOf(rt, registry).byPartition(key)) callback(group as Array<{ pid: Pid; value: V }>);
  },

  /**
   * Unique registries: replaces the value `owner` holds under `key` with `update(old)`.
   * Returns `{ new, old }`, or `'error'` when `owner` does not hold the key (`update` is then not called).
   *
   * @throws RegistryKindError on a duplicate registry.
   */
  updateValue<V>(rt: Runtime, registry: string, key: unknown, owner: Target, update: (old: V) => V): { new: V; old: V } | 'error' {
    const state = stateOf(rt, registry);
    if (state.kind !== 'unique') {
      throw new RegistryKindError(`updateValue is not supported for duplicate registries ('${registry}')`);
    }
    const resolved = rt.resolve(owner);
    return resolved.ok ? state.updateValue(key, resolved.pid, update) : 'error';
  },

  /** The keys `pid` holds in the registry (`[]` if it holds none or is dead). */
  keys(rt: Runtime, registry: string, pid: Pid): unknown[] {
    return stateOf(rt, registry).keysOf(Pid.from(pid));
  },

  /** The values `pid` holds under `key`. */
  values<V = unknown>(rt: Runtime, registry: string, key: unknown, pid: Pid): V[] {
    return stateOf(rt, registry).valuesOf(key, Pid.from(pid)) as V[];
  },

  /** How many entries the registry holds. */
  count(rt: Runtime, registry: string): number {
    return stateOf(rt, registry).count();
  },

  /** Entries under `key` whose value matches `pattern` (and `guard`). */
  match<V = unknown>(rt: Runtime, registry: string, key: unknown, pattern: Pattern, guard?: (value: V) => boolean): Array<{ pid: Pid; value: V }> {
    return stateOf(rt, registry).match(key, pattern, guard as ((v: unknown) => boolean) | undefined) as Array<{ pid: Pid; value: V }>;
  },

  countMatch(rt: Runtime, registry: string, key: unknown, pattern: Pattern, guard?: (value: unknown) => boolean): number {
    return stateOf(rt, registry).match(key, pattern, guard).length;
  },

  /** Every entry `{ key, pid, value }` matching the spec. */
  select(rt: Runtime, registry: string, spec: SelectSpec): RegistryEntry[] {
    const state = stateOf(rt, registry);
    return state.select(selectPredicate(spec));
  },

  countSelect(rt: Runtime, registry: string, spec: SelectSpec): number {
    const state = stateOf(rt, registry);
    return state.select(selectPredicate(spec)).length;
  },

  /** `{ ok: true, value }` or `'error'` when the key has no metadata. */
  meta(rt: Runtime, registry: string, key: string): { ok: true; value: unknown } | 'error' {
    return stateOf(rt, registry).getMeta(key);
  },

  putMeta(rt: Runtime, registry: string, key: string, value: unknown): void {
    stateOf(rt, registry).putMeta(key, value);
  },

  deleteMeta(rt: Runtime, registry: string, key: string): void {
    stateOf(rt, registry).deleteMeta(key);
  },

  /** The names of the registries running in this runtime. */
  running(rt: Runtime): string[] {
    return rt.nameServices().filter((n) => rt.nameService(n) instanceof RegistryState);
  },
};
