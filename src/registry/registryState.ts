import { Pid } from '../runtime/pid.js';
import { Status, type ProcessRecord } from '../runtime/processRecord.js';
import { AlreadyRegisteredError, XotpError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';
import type { Runtime, Target } from '../runtime/runtime.js';
import type { NameService } from '../runtime/nameService.js';
import { matches, keyId } from './pattern.js';
import { trimOldest } from '../runtime/trimOldest.js';

/** One registration: `pid` holds `key` with `value`. */
export interface RegistryEntry<K = unknown, V = unknown> {
  readonly key: K;
  readonly pid: Pid;
  readonly value: V;
}

/** Sent to a registry's listeners when a process registers a key. */
export interface RegistryRegisterEvent {
  readonly type: 'xotp.registry.register';
  readonly registry: string;
  readonly key: unknown;
  readonly pid: Pid;
  readonly value: unknown;
}

/** Sent to listeners on an explicit unregister (not when a process dies: monitor it for that). */
export interface RegistryUnregisterEvent {
  readonly type: 'xotp.registry.unregister';
  readonly registry: string;
  readonly key: unknown;
  readonly pid: Pid;
}

/** A feature was used on a registry whose kind does not support it (via or updateValue on duplicate keys). */
export class RegistryKindError extends XotpError {
  constructor(message: string) {
    super('registry_kind', message);
  }
}

/** How many vacated keys are remembered; the oldest half is forgotten when it is exceeded. */
const MAX_VACATED = 10_000;

interface KeySlot {
  readonly key: unknown;
  /** Owner pid number → that owner's entries under this key (several for duplicate keys). */
  readonly owners: Map<number, RegistryEntry[]>;
  /**
   * All entries in one frozen array, rebuilt on the first read after a change. Lookups are the
   * hot path: while every holder is alive a lookup returns this very array, so it allocates
   * nothing (frozen, since every caller shares it).
   */
  flat: readonly RegistryEntry[] | undefined;
  /**
   * The runtime's records of `flat`'s pids, index for index (undefined for a pid it does not
   * know), built with it: a lookup checks a holder's liveness with one field read instead of a
   * second table read. A record is the process for good (pids are never reused), and the
   * runtime marks it dead at the moment it removes the process from its table.
   */
  holders: ReadonlyArray<ProcessRecord | undefined> | undefined;
}

/** What a lookup of a key nobody holds returns (shared, frozen). */
const NO_ENTRIES: readonly RegistryEntry[] = Object.freeze([]);

interface Owner {
  readonly pid: Pid;
  /** The keys this owner holds, with how many entries under each. */
  readonly keys: Map<KeySlot, number>;
}

/** @internal */
export interface RegistryConfig {
  name: string;
  keys: 'unique' | 'duplicate';
  partitions: number;
  listeners: string[];
  meta: Record<string, unknown>;
}

/**
 * A registry's tables, shared by its partition processes and read directly by callers (no
 * message round trip), as Elixir's ETS tables are. Writes happen in the caller too; the
 * partitions own the links to registered processes and clean up after them.
 *
 * Between a registered process's death and its partition handling the EXIT, code that runs
 * first (a `process.exited` listener, a linked process trapping the same EXIT) may look a key
 * up: reads filter out any pid the runtime knows is dead, so a lookup never returns one, and
 * `wasHeld` already reports such a key as vacated, so name resolution stops there.
 *
 * @internal
 */
export class RegistryState implements NameService {
  readonly config: RegistryConfig;
  readonly #rt: Runtime;
  // Primitive keys index the map directly (a Map already tells 1 from '1'); structured keys
  // (arrays, objects) go through a canonical string so they compare by value.
  readonly #slots = new Map<unknown, KeySlot>();
  readonly #structured = new Map<string, KeySlot>();
  readonly #owners = new Map<number, Owner>();
  readonly #meta = new Map<string, unknown>();
  /** The partition processes, by index; `undefined` while one is down. */
  readonly partitions: Array<Pid | undefined>;
  #count = 0;
  #emptySlots = 0;
  /** Keys whose holder exited without unregistering (unique registries; see NameService.wasHeld). */
  readonly #vacated = new Set<string>();
  /** Set once the registry is gone (no longer published under its name; see `retire`). */
  retired = false;

  /** The registry's supervisor: partitions of another supervisor may not share these tables. */
  readonly supervisor: Pid;
  /** Called when the last partition is gone (unpublishes the registry). */
  onEmpty: (() => void) | undefined = undefined;

  constructor(rt: Runtime, config: RegistryConfig, supervisor: Pid) {
    this.#rt = rt;
    this.config = config;
    this.supervisor = supervisor;
    this.partitions = new Array(config.partitions).fill(undefined);
    for (const [k, v] of Object.entries(config.meta)) this.#meta.set(k, v);
  }

  get name(): string {
    return this.config.name;
  }

  get kind(): 'unique' | 'duplicate' {
    return this.config.keys;
  }

  partitionOf(pid: Pid): number {
    return pid.id % this.config.partitions;
  }

  // --- NameService (via names) ---------------------------------------------------------------

  whereis(key: unknown): Pid | undefined {
    if (this.config.keys !== 'unique') this.#requireUnique('via names');
    return this.lookup(key)[0]?.pid;
  }

  registerName(key: unknown, pid: Pid, value: unknown): void {
    this.#requireUnique('via names');
    this.register(key, value, pid);
  }

  unregisterName(key: unknown, pid: Pid): void {
    this.unregister(key, pid);
  }

  wasHeld(key: unknown): boolean {
    if (this.#vacated.size > 0 && this.#vacated.has(keyId(key))) return true;
    // Entries still in the slot when `whereis` found no live holder belong to a process the
    // runtime already knows is dead but whose EXIT its partition has not handled yet (an
    // `process.exited` listener, or a linked process trapping the same EXIT, runs first). The
    // name is vacated from the moment of death, not from the moment of cleanup.
    const slot = this.#slot(key);
    if (slot === undefined) return false;
    for (const entries of slot.owners.values()) if (!this.#rt.isAlive(entries[0]!.pid)) return true;
    return false;
  }

  #requireUnique(what: string): void {
    if (this.config.keys !== 'unique') {
      throw new RegistryKindError(`${what} are not supported for duplicate registries ('${this.config.name}')`);
    }
  }

  #slot(key: unknown): KeySlot | undefined {
    return typeof key === 'object' && key !== null ? this.#structured.get(keyId(key)) : this.#slots.get(key);
  }

  #newSlot(key: unknown): KeySlot {
    const slot: KeySlot = { key, owners: new Map(), flat: undefined, holders: undefined };
    if (typeof key === 'object' && key !== null) this.#structured.set(keyId(key), slot);
    else this.#slots.set(key, slot);
    return slot;
  }

  /**
   * A slot that just lost its last entry stays in the map, empty: V8's Map degrades to O(size)
   * per operation when one key is deleted and inserted again and again (a process re-registering
   * its name). Empty slots are swept in bulk once they outnumber the live ones.
   */
  #deleteSlot(_slot: KeySlot): void {
    if (++this.#emptySlots > 1024 && this.#emptySlots * 2 > this.#slots.size + this.#structured.size) {
      for (const [k, slot] of this.#slots) if (slot.owners.size === 0) this.#slots.delete(k);
      for (const [k, slot] of this.#structured) if (slot.owners.size === 0) this.#structured.delete(k);
      this.#emptySlots = 0;
    }
  }

  /** About to add an entry to `slot`: if it was empty, it is live again. */
  #revive(slot: KeySlot): void {
    if (slot.owners.size === 0 && this.#emptySlots > 0) this.#emptySlots--;
  }

  // --- writes ----------------------------------------------------------------------------------

  /**
   * Registers `key` for `pid` with `value`. Unique registries: a key held by a live process
   * (including `pid` itself) → AlreadyRegisteredError carrying that owner; the tables do not grow.
   */
  register(key: unknown, value: unknown, pid: Pid): void {
    let slot = this.#slot(key);
    if (this.config.keys === 'unique' && slot) {
      for (const [ownerId, entries] of slot.owners) {
        const holder = entries[0]!.pid;
        if (this.#rt.isAlive(holder)) throw new AlreadyRegisteredError(key, holder);
        // A dead holder not yet cleaned up: its stale entry is replaced (Elixir R5).
        this.#dropEntries(ownerId, slot);
      }
      if (slot.owners.size === 0) slot = undefined;
    }
    const partition = this.partitions[this.partitionOf(pid)];
    let owner = this.#owners.get(pid.id);
    if (owner === undefined) {
      // Link first (it fails for a dead pid) so that nothing is written for a process that
      // could never be cleaned up after.
      if (partition !== undefined) this.#rt.link(pid, partition);
      owner = { pid, keys: new Map() };
      this.#owners.set(pid.id, owner);
    }
    if (slot === undefined) slot = this.#slot(key) ?? this.#newSlot(key);
    this.#revive(slot);
    if (this.#vacated.size > 0) this.#vacated.delete(keyId(key));
    const entry: RegistryEntry = { key, pid, value };
    const list = slot.owners.get(pid.id);
    if (list) list.push(entry);
    else slot.owners.set(pid.id, [entry]);
    slot.flat = undefined;
    owner.keys.set(slot, (owner.keys.get(slot) ?? 0) + 1);
    this.#count++;
    this.#notify({ type: 'xotp.registry.register', registry: this.config.name, key, pid, value });
  }

  /** Removes all of `pid`'s entries under `key`. Always succeeds. */
  unregister(key: unknown, pid: Pid): void {
    const slot = this.#slot(key);
    if (slot?.owners.has(pid.id)) {
      this.#dropEntries(pid.id, slot);
      this.#unlinkIfDone(pid);
    }
    if (this.#vacated.size > 0) this.#vacated.delete(keyId(key));
    // Elixir tells the listeners whether or not there was anything to remove (R9).
    this.#notify({ type: 'xotp.registry.unregister', registry: this.config.name, key, pid });
  }

  /** Removes `pid`'s entries under `key` whose value matches; listeners hear of it when none is left. */
  unregisterMatch(key: unknown, pid: Pid, pattern: unknown, guard?: (value: unknown) => boolean): void {
    const slot = this.#slot(key);
    const list = slot?.owners.get(pid.id);
    if (!slot || !list) return;
    const keep = list.filter((e) => !(matches(pattern, e.value) && (guard === undefined || guard(e.value))));
    const removed = list.length - keep.length;
    if (removed === 0) return;
    const owner = this.#owners.get(pid.id)!;
    this.#count -= removed;
    if (keep.length > 0) {
      slot.owners.set(pid.id, keep);
      slot.flat = undefined;
      owner.keys.set(slot, keep.length);
      return;
    }
    slot.owners.delete(pid.id);
    slot.flat = undefined;
    owner.keys.delete(slot);
    if (slot.owners.size === 0) this.#deleteSlot(slot);
    this.#unlinkIfDone(pid);
    this.#notify({ type: 'xotp.registry.unregister', registry: this.config.name, key, pid });
  }

  /** Unique registries: replaces the value `pid` holds under `key`; 'error' if it does not hold it. */
  updateValue<V>(key: unknown, pid: Pid, update: (old: V) => V): { new: V; old: V } | 'error' {
    if (this.config.keys !== 'unique') {
      throw new RegistryKindError(`updateValue is not supported for duplicate registries ('${this.config.name}')`);
    }
    const list = this.#slot(key)?.owners.get(pid.id);
    if (!list) return 'error';
    const old = list[0]!.value as V;
    const next = update(old);
    list[0] = { key, pid, value: next };
    const slot = this.#slot(key);
    if (slot) slot.flat = undefined;
    return { new: next, old };
  }

  /** The process exited (or its partition went away): forget every entry it had. */
  removeOwner(pidId: number): void {
    const owner = this.#owners.get(pidId);
    if (!owner) return;
    for (const slot of owner.keys.keys()) {
      if (this.config.keys === 'unique') this.#markVacated(slot.key);
      const list = slot.owners.get(pidId);
      if (list) this.#count -= list.length;
      slot.owners.delete(pidId);
      slot.flat = undefined;
      if (slot.owners.size === 0) this.#deleteSlot(slot);
    }
    this.#owners.delete(pidId);
  }

  /** A partition process is up: it owns the links of its share of the registered processes. */
  attach(index: number, pid: Pid): void {
    const previous = this.partitions[index];
    if (previous !== undefined && !Pid.equals(previous, pid)) {
      // The partition was restarted before its old incarnation's DOWN was handled: that one's
      // links died with it, so its share of the entries goes now (Elixir: its tables die with it).
      this.#dropShare(index);
    }
    this.partitions[index] = pid;
    // However the partition ends (stopped, crashed, killed), its share goes with it.
    this.#rt.monitor(pid, () => this.dropPartition(index, pid));
  }

  /** A partition went down: its links are gone, so the entries it was cleaning up for go too. */
  dropPartition(index: number, pid?: Pid): void {
    if (pid !== undefined && !Pid.equals(this.partitions[index], pid)) return;
    this.partitions[index] = undefined;
    this.#dropShare(index);
    if (this.partitions.every((p) => p === undefined)) this.retire();
  }

  #dropShare(index: number): void {
    for (const owner of [...this.#owners.values()]) {
      if (this.partitionOf(owner.pid) === index) this.removeOwner(owner.pid.id);
    }
  }

  /** The registry is gone (its last partition, or its supervisor): unpublish and forget everything. */
  retire(): void {
    this.retired = true;
    this.partitions.fill(undefined);
    for (const owner of [...this.#owners.values()]) this.removeOwner(owner.pid.id);
    const onEmpty = this.onEmpty;
    this.onEmpty = undefined;
    onEmpty?.();
  }

  #markVacated(key: unknown): void {
    this.#vacated.add(keyId(key));
    if (this.#vacated.size > MAX_VACATED) trimOldest(this.#vacated);
  }

  #dropEntries(ownerId: number, slot: KeySlot): void {
    const list = slot.owners.get(ownerId);
    if (!list) return;
    slot.owners.delete(ownerId);
    slot.flat = undefined;
    if (slot.owners.size === 0) this.#deleteSlot(slot);
    this.#count -= list.length;
    const owner = this.#owners.get(ownerId);
    owner?.keys.delete(slot);
  }

  #unlinkIfDone(pid: Pid): void {
    const owner = this.#owners.get(pid.id);
    if (!owner || owner.keys.size > 0) return;
    this.#owners.delete(pid.id);
    const partition = this.partitions[this.partitionOf(pid)];
    if (partition !== undefined) this.#rt.unlink(pid, partition);
  }

  #notify(event: RegistryRegisterEvent | RegistryUnregisterEvent): void {
    for (const listener of this.config.listeners) {
      try {
        this.#rt.send(listener as Target, event);
      } catch {
        this.#rt.logger.warn(`registry '${this.config.name}': listener '${listener}' is not running; event dropped`);
      }
    }
  }

  // --- reads -----------------------------------------------------------------------------------

  /**
   * The entries (`{ key, pid, value }`) for `key`, live processes only, as a frozen array that
   * may be shared with other callers. A unique key costs one table read and one liveness check
   * and allocates nothing; a new array is built only when a holder has died and its partition
   * has not cleaned up yet.
   */
  lookup(key: unknown): readonly RegistryEntry[] {
    const slot = typeof key === 'object' && key !== null ? this.#structured.get(keyId(key)) : this.#slots.get(key);
    if (slot === undefined) return NO_ENTRIES;
    const flat = slot.flat ?? this.#flatten(slot);
    const holders = slot.holders!;
    for (let i = 0; i < flat.length; i++) {
      const holder = holders[i];
      if (holder === undefined || holder.status === Status.Dead) return this.#liveOnly(flat);
    }
    return flat;
  }

  #flatten(slot: KeySlot): readonly RegistryEntry[] {
    const flat = slot.owners.size === 0 ? NO_ENTRIES : Object.freeze([...slot.owners.values()].flat());
    const rt = this.#rt;
    slot.holders = flat.map((e) => rt.recordFor(e.pid));
    slot.flat = flat;
    return flat;
  }

  #liveOnly(flat: readonly RegistryEntry[]): readonly RegistryEntry[] {
    const rt = this.#rt;
    return Object.freeze(flat.filter((e) => rt.isAlive(e.pid)));
  }

  /** The keys `pid` holds (as many times as it registered them). */
  keysOf(pid: Pid): unknown[] {
    const owner = this.#owners.get(pid.id);
    if (!owner || !Pid.equals(owner.pid, pid) || !this.#rt.isAlive(pid)) return [];
    const out: unknown[] = [];
    for (const [slot, n] of owner.keys) {
      for (let i = 0; i < n; i++) out.push(slot.key);
    }
    return out;
  }

  /** The values `pid` holds under `key`. */
  valuesOf(key: unknown, pid: Pid): unknown[] {
    const list = this.#slot(key)?.owners.get(pid.id);
    if (!list || !this.#rt.isAlive(pid)) return [];
    return list.map((e) => e.value);
  }

  /** Total number of entries. */
  count(): number {
    return this.#count;
  }

  /** Entries under `key` whose value matches the pattern (and guard). */
  match(key: unknown, pattern: unknown, guard?: (value: unknown) => boolean): Array<{ pid: Pid; value: unknown }> {
    return this.lookup(key).filter((e) => matches(pattern, e.value) && (guard === undefined || guard(e.value)));
  }

  /** Every live entry for which `where` holds (Elixir's select/count_select, as a predicate). */
  select(where: (entry: RegistryEntry) => boolean): RegistryEntry[] {
    const out: RegistryEntry[] = [];
    for (const slot of [...this.#slots.values(), ...this.#structured.values()]) {
      for (const list of slot.owners.values()) {
        if (!this.#rt.isAlive(list[0]!.pid)) continue;
        for (const e of list) if (where(e)) out.push(e);
      }
    }
    return out;
  }

  /** Live entries under `key`, grouped by the partition that owns their processes. */
  byPartition(key: unknown): Array<Array<{ pid: Pid; value: unknown }>> {
    const groups = new Map<number, Array<{ pid: Pid; value: unknown }>>();
    for (const e of this.lookup(key)) {
      const p = this.partitionOf(e.pid);
      let g = groups.get(p);
      if (!g) groups.set(p, (g = []));
      g.push(e);
    }
    return [...groups.values()];
  }

  getMeta(key: string): { ok: true; value: unknown } | 'error' {
    return this.#meta.has(key) ? { ok: true, value: this.#meta.get(key) } : 'error';
  }

  putMeta(key: string, value: unknown): void {
    this.#meta.set(key, value);
  }

  deleteMeta(key: string): void {
    this.#meta.delete(key);
  }

  /** How many processes own entries (for tests and leak checks). */
  ownerCount(): number {
    return this.#owners.size;
  }
}

defineErrorCodes({ registry_kind: { category: 'bad_input', retryable: false } });

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ registry_kind: RegistryKindError });
