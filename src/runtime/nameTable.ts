import type { EventEmitter } from 'eventemitter3';
import { Pid, isPid, type PidLike } from './pid.js';
import { AlreadyRegisteredError, InvalidOptionError, NoProcessError, UnknownRegistryError } from './errors.js';
import { ProcessRecord, Status } from './processRecord.js';
import { trimOldest } from './trimOldest.js';
import type { RuntimeEventMap } from './events.js';
import { isViaName, type FallbackResolver, type NameService, type ViaName } from './nameService.js';

/**
 * Where a message can be sent: a pid (or its JSON form), a name (resolved through local names,
 * then the runtime's `nameRegistries`, then its fallback resolvers), or a via name
 * `{ via: registryName, key }`.
 */
export type Target = Pid | PidLike | string | ViaName;

/** How many vacated local names are remembered (oldest forgotten first). */
const MAX_VACATED = 10_000;

/** True for a target that is a name (plain or via), for which "not found" is an error. */
export function isName(target: Target): boolean {
  return typeof target === 'string' || isViaName(target);
}

/**
 * Name resolution, in one place: local names, the names vacated by processes that died holding
 * them, the name services (registries) the runtime knows, and the fallback resolvers.
 *
 * A pid maps straight to its record; a plain name goes through local names → `nameRegistries`
 * (in order) → fallback resolvers; a via name asks its registry. A registry that is not running
 * throws `UnknownRegistryError` (never a silent fall-through).
 *
 * @internal
 */
export class NameTable {
  readonly #node: string;
  readonly #creation: number;
  /** The process table, read only here: resolution never changes who is alive. */
  readonly #records: ReadonlyMap<number, ProcessRecord>;
  readonly #events: EventEmitter<RuntimeEventMap>;
  readonly #names = new Map<string, ProcessRecord>();
  /** Local names whose process exited without unregistering them (see `#resolveName`). */
  readonly #vacated = new Set<string>();
  readonly #services = new Map<string, NameService>();
  /** Names of services that ran at some point: to tell "restarting" from "never started". */
  readonly #serviceHistory = new Set<string>();
  readonly #nameRegistries: string[];
  readonly #resolvers: FallbackResolver[];

  constructor(
    node: string,
    creation: number,
    records: ReadonlyMap<number, ProcessRecord>,
    events: EventEmitter<RuntimeEventMap>,
    nameRegistries: string[],
    resolvers: FallbackResolver[],
  ) {
    this.#node = node;
    this.#creation = creation;
    this.#records = records;
    this.#events = events;
    this.#nameRegistries = nameRegistries;
    this.#resolvers = [...resolvers];
  }

  get size(): number {
    return this.#names.size;
  }

  // ---------------------------------------------------------------------------------------------
  // Resolution

  resolve(target: Target): ProcessRecord | undefined {
    if (target instanceof Pid) return this.byPid(target);
    if (typeof target === 'string') return this.#resolveName(target);
    if (isPid(target)) return this.byPid(target);
    if (isViaName(target)) {
      const pid = this.service(target.via).whereis(target.key);
      return pid === undefined ? undefined : this.byPid(pid);
    }
    return undefined;
  }

  byPid(pid: PidLike): ProcessRecord | undefined {
    if (pid.node !== this.#node) return undefined;
    if (pid.creation !== undefined && pid.creation !== this.#creation) return undefined;
    return this.#records.get(pid.id);
  }

  #resolveName(name: string): ProcessRecord | undefined {
    const local = this.#names.get(name);
    if (local !== undefined) return local;
    // A name that was held and whose holder exited (it is being restarted, say) resolves to
    // nothing rather than to whatever a later source offers: never a silent switch of service.
    if (this.#vacated.has(name)) return undefined;
    for (const registry of this.#nameRegistries) {
      const service = this.service(registry);
      const pid = service.whereis(name);
      if (pid !== undefined) return this.byPid(pid);
      if (service.wasHeld?.(name)) return undefined;
    }
    for (const resolver of this.#resolvers) {
      const pid = resolver(name);
      if (pid !== undefined) return this.byPid(pid);
    }
    return undefined;
  }

  /**
   * The pid of another node that a name stands for: a name service (cluster names) may hold
   * processes of other nodes, which `resolve` (local records only) cannot return. Never throws.
   */
  remotePid(target: Target): Pid | undefined {
    let pid: Pid | undefined;
    try {
      if (isViaName(target)) pid = this.service(target.via).whereis(target.key);
      else if (typeof target === 'string' && !this.#names.has(target) && !this.#vacated.has(target)) {
        for (const registry of this.#nameRegistries) {
          const service = this.service(registry);
          pid = service.whereis(target);
          if (pid !== undefined || service.wasHeld?.(target)) break;
        }
      }
    } catch {
      return undefined;
    }
    return pid !== undefined && pid.node !== this.#node ? pid : undefined;
  }

  /** Resolution for operations that must never throw on a target that is gone (stop, isAlive). */
  resolveQuiet(target: Target): ProcessRecord | undefined {
    try {
      return this.resolve(target);
    } catch {
      return undefined;
    }
  }

  /** The live process `target` names, or the typed error of `operation`. */
  mustResolve(target: Target, operation: string): ProcessRecord {
    if (typeof target !== 'string' && !isPid(target) && !isViaName(target)) {
      throw new InvalidOptionError(operation, 'a pid, a registered name or a via name', target);
    }
    const rec = this.resolve(target);
    if (rec === undefined || rec.status === Status.Dead) throw new NoProcessError(target, operation);
    return rec;
  }

  // ---------------------------------------------------------------------------------------------
  // Local names

  /** The holder of a local name, if any. */
  holder(name: string): ProcessRecord | undefined {
    return this.#names.get(name);
  }

  /** Gives `rec` the free local `name` (the caller checked it is free). */
  claim(name: string, rec: ProcessRecord): void {
    rec.name = name;
    this.#names.set(name, rec);
    this.#vacated.delete(name);
  }

  /** Undoes `claim` for a spawn that failed before anything ran: no event, no vacated name. */
  unclaim(name: string): void {
    this.#names.delete(name);
  }

  register(name: string, rec: ProcessRecord): void {
    const owner = this.#names.get(name);
    if (owner) throw new AlreadyRegisteredError(name, owner.pid);
    if (rec.name !== undefined) {
      throw new AlreadyRegisteredError(name, rec.pid, `${rec.pid} is already registered as '${rec.name}'`);
    }
    this.claim(name, rec);
    this.#events.emit('name.registered', { name, pid: rec.pid });
  }

  /**
   * Frees a local name: the holder's, or one vacated by a holder that exited, which then no
   * longer blocks `nameRegistries` and `resolvers` (see `#resolveName`). False when it was neither.
   */
  unregister(name: string): boolean {
    const rec = this.#names.get(name);
    if (!rec) return this.#vacated.delete(name);
    this.#names.delete(name);
    rec.name = undefined;
    this.#events.emit('name.unregistered', { name, pid: rec.pid });
    return true;
  }

  /**
   * The process died: frees its local name and remembers it as vacated. Returns the name, for
   * the caller to announce once the exit itself has been announced.
   */
  vacate(rec: ProcessRecord): string | undefined {
    const name = rec.name !== undefined && this.#names.get(rec.name) === rec ? rec.name : undefined;
    if (name === undefined) return undefined;
    this.#names.delete(name);
    this.#vacated.add(name);
    if (this.#vacated.size > MAX_VACATED) trimOldest(this.#vacated);
    return name;
  }

  registered(): string[] {
    return [...this.#names.keys()];
  }

  // ---------------------------------------------------------------------------------------------
  // Name services (registries) and fallback resolvers

  registerNameService(service: NameService): () => void {
    if (this.#services.has(service.name)) {
      throw new AlreadyRegisteredError(service.name, this.#services.get(service.name), `a registry named '${service.name}' is already running`);
    }
    this.#services.set(service.name, service);
    this.#serviceHistory.add(service.name);
    return () => {
      if (this.#services.get(service.name) === service) this.#services.delete(service.name);
    };
  }

  /** The running service of that name; `UnknownRegistryError` naming it and the running ones. */
  service(name: string): NameService {
    const service = this.#services.get(name);
    if (service) return service;
    throw new UnknownRegistryError(name, this.serviceNames(), this.#serviceHistory.has(name));
  }

  serviceNames(): string[] {
    return [...this.#services.keys()];
  }

  addResolver(resolver: FallbackResolver): () => void {
    this.#resolvers.push(resolver);
    return () => {
      const i = this.#resolvers.indexOf(resolver);
      if (i >= 0) this.#resolvers.splice(i, 1);
    };
  }
}
