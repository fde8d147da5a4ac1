import { createActor, type AnyActorLogic, type AnyActorRef } from 'xstate';
import type { EventEmitter } from 'eventemitter3';
import { Pid } from './pid.js';
import { isCleanExit, formatReason, type ExitReason } from './exitReason.js';
import { AlreadyRegisteredError, InvalidOptionError, ProcessExitError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import type { RuntimeEventMap } from './events.js';
import { processProtocol, type DownMessage, type ExitMessage, type ProcessProtocol, type StartAck, type StopRequestMessage } from './messages.js';
import { ProcessRecord, Status, attachRecord, type CallLink, type Monitor, type RecordOwner } from './processRecord.js';
import { linkAdd, linkDelete, linkHas, linkList } from './linkSet.js';
import { validateOptions, optional, matching, isBoolean, anything } from './validate.js';
import { isExitWith } from './exitWith.js';
import { isViaName, type ViaName } from './nameService.js';
import type { NameTable, Target } from './nameTable.js';
import type { CallTable } from './callTable.js';
import type { Delivery } from './delivery.js';
import { stopActorNow } from './xstateInternals.js';
import type { ProcessInfo, ProcessTreeNode } from './processInfo.js';

/** Options of `runtime.spawn` and `runtime.start`. */
export interface SpawnOptions<TInput = unknown> {
  /** Register the process under this local name, or via name, atomically with the spawn. */
  name?: string | ViaName;
  /** The last segment of its readable id; default: `name`, else `<label>-<pid number>`. */
  id?: string;
  /** The input handed to the logic (xstate `input`). */
  input?: TInput;
  /** Link the new process to this one before it starts (OTP's `spawn_link`). */
  link?: Target;
  /** Its parent in the tree (default: the runtime root). Only placement: lifetimes follow links. */
  parent?: Target;
  /** Trap exits from the start: exit signals arrive as `xotp.exit` events. */
  trapExit?: boolean;
}

const spawnSchema = {
  name: optional((value: unknown, key: string): string | ViaName => {
    if (isViaName(value)) return value;
    return matching(/^\S+$/, 'a non-empty name without spaces, or a via name { via, key }')(value, key);
  }),
  id: optional(matching(/^[^/\s]+$/, "a non-empty id segment without '/' or spaces")),
  input: anything,
  link: anything,
  parent: anything,
  trapExit: optional(isBoolean, false),
};

/** What the process table needs from the runtime it belongs to. @internal */
export interface ProcessTableHost {
  readonly name: string;
  readonly creation: number;
  readonly self: Pid;
  readonly root: AnyActorRef;
  readonly events: EventEmitter<RuntimeEventMap>;
  readonly logger: Logger;
  readonly delivery: Delivery;
}

/**
 * The process table and exit propagation: pid → record, spawning, links, monitors, exit signals
 * with OTP's rules, and the job queue that delivers them.
 *
 * When an actor ends, its record turns the xstate status into an exit reason and the table
 * queues one signal per link, one failure per pending call and one DOWN per monitor.
 * Propagation runs from a queue, not recursively: a chain of 100k linked processes must not
 * overflow the stack, and signals go out in a deterministic breadth-first order.
 *
 * @internal
 */
export class ProcessTable implements RecordOwner {
  /** pid number → record of every process that has not exited (shared with the `NameTable`). */
  readonly records: Map<number, ProcessRecord>;
  spawned = 0;
  exited = 0;
  readonly #host: ProcessTableHost;
  readonly #names: NameTable;
  readonly #calls: CallTable;
  readonly #delivery: Delivery;
  readonly #monitors = new Map<string, Monitor>();
  #seq = 0;
  #refSeq = 0;
  readonly #jobs: Array<() => void> = [];
  #jobHead = 0;
  #draining = false;

  constructor(host: ProcessTableHost, records: Map<number, ProcessRecord>, names: NameTable, calls: CallTable) {
    this.#host = host;
    this.records = records;
    this.#names = names;
    this.#calls = calls;
    this.#delivery = host.delivery;
  }

  get monitorCount(): number {
    return this.#monitors.size;
  }

  // ---------------------------------------------------------------------------------------------
  // Spawning

  spawn(logic: AnyActorLogic, options: SpawnOptions | undefined, ack: ((a: StartAck, rec: ProcessRecord) => void) | undefined): ProcessRecord {
    if (
      typeof logic !== 'object' ||
      logic === null ||
      typeof (logic as Partial<AnyActorLogic>).transition !== 'function' ||
      typeof (logic as Partial<AnyActorLogic>).getInitialSnapshot !== 'function'
    ) {
      throw new InvalidOptionError('spawn.logic', 'an xstate ActorLogic (a machine, fromCallback, fromPromise, ...)', logic);
    }
    const host = this.#host;
    const names = this.#names;
    const opts = options === undefined ? undefined : (plainSpawnOptions(options) ?? validateOptions('spawn', options, spawnSchema));
    // `parent` and `link` are checked by mustResolve, which refuses anything but a target.
    const parent = opts?.parent === undefined ? undefined : names.mustResolve(opts.parent as Target, 'spawn.parent');
    const linkTo = opts?.link === undefined ? undefined : names.mustResolve(opts.link as Target, 'spawn.link');
    const name = typeof opts?.name === 'string' ? opts.name : undefined;
    const via = opts?.name !== undefined && typeof opts.name !== 'string' ? opts.name : undefined;
    if (name !== undefined) {
      const owner = names.holder(name);
      if (owner) throw new AlreadyRegisteredError(name, owner.pid);
    }
    const viaService = via ? names.service(via.via) : undefined;
    const protocol = protocolOf(logic);
    const id = ++this.#seq;
    const pid = new Pid(host.name, id, host.creation);
    const segment = opts?.id ?? name ?? (via && typeof via.key === 'string' && /^[^/\s]+$/.test(via.key) ? via.key : undefined) ?? `${labelOf(logic, protocol)}-${id}`;
    const path = `${parent ? parent.path : host.name}/${segment}`;
    const rec = new ProcessRecord(this, pid, parent, path, protocol);
    this.records.set(id, rec);
    this.spawned++;
    if (name !== undefined) names.claim(name, rec);
    if (opts?.trapExit) rec.trapExit = true;
    if (via !== undefined && viaService !== undefined) {
      try {
        viaService.registerName(via.key, pid, via.value);
      } catch (err) {
        this.records.delete(id);
        if (name !== undefined) names.unclaim(name);
        for (const other of linkList(rec.links)) other.links = linkDelete(other.links, rec);
        throw err;
      }
    }
    if (linkTo) this.addLink(rec, linkTo);
    if (ack && protocol?.acksStart) rec.ack = this.#startAck(rec, linkTo, ack);
    if (protocol?.prepare !== undefined) {
      try {
        rec.prepared = protocol.prepare(opts?.input, path);
      } catch {
        // Only a head start: the process does the work itself when it starts.
      }
    }
    let actor: AnyActorRef;
    try {
      // No `input` key without an input: xstate's Actor spreads these options over its defaults,
      // and in V8 every key that spread adds makes a new hidden class for that one object.
      const input = opts?.input;
      const actorParent = parent ? parent.actor : host.root;
      actor = createActor(this.#delivery.logicFor(logic), input === undefined ? { id: path, parent: actorParent } : { id: path, parent: actorParent, input });
    } catch (err) {
      // Nothing ran yet: undo the bookkeeping so the failed spawn leaves no trace.
      discardPrepared(rec);
      this.records.delete(id);
      if (name !== undefined) names.unclaim(name);
      if (linkTo) linkTo.links = linkDelete(linkTo.links, rec);
      throw err;
    }
    attachRecord(actor, rec);
    rec.actor = actor;
    actor.subscribe(rec);
    const events = host.events;
    // Payloads only for someone listening: a spawn is on every child start's path.
    if (events.listenerCount('process.spawned') > 0) events.emit('process.spawned', { pid, parent: parent ? parent.pid : host.self, id: path, name });
    if (name !== undefined) events.emit('name.registered', { name, pid });
    this.drainAfter(this.#starter(rec, actor));
    if (ack && !protocol?.acksStart) {
      if (rec.status === Status.Dead) ack({ error: rec.reason }, rec);
      else ack({ ok: true }, rec);
    }
    return rec;
  }

  // The start ack and the start job are made here, not as arrows inside `spawn`: there they
  // shared one closure context with everything else `spawn` captured, and on the restart loop of
  // bench/supervisor that context kept each dead child (its actor, record and exit reason)
  // alive through scavenges: 4.5 KB of the 11 KB a restart allocates survived one, against
  // 1.5 KB with a context of its own for each (the row "bytes a restart leaves to a scavenge"),
  // and the restart mean fell by a quarter at an equal p50. It is the start ack's: with only the
  // start job made here, every dead child was still kept (3.7 KB a restart, and under --no-opt
  // too, so not a JIT effect). Found by bisecting, not explained: keep callbacks that outlive a
  // call out of a long function's context on hot paths.
  #startAck(rec: ProcessRecord, linkTo: ProcessRecord | undefined, ack: (a: StartAck, rec: ProcessRecord) => void): (result: StartAck) => void {
    return (result) => {
      // As in OTP ≥ 26, a start that fails or is ignored leaves no exit signal for the process
      // it was linked to: the starter learns the outcome from the result alone.
      if (!('ok' in result) && linkTo) this.dropLink(rec, linkTo);
      ack(result, rec);
    };
  }

  #starter(rec: ProcessRecord, actor: AnyActorRef): () => void {
    return () => {
      // Its entry actions (and a server's init) run inside start: they send as this process.
      const outer = this.#delivery.enter(rec);
      try {
        actor.start();
      } finally {
        this.#delivery.leave(outer);
        // Taken while it started, or never.
        discardPrepared(rec);
      }
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection

  infoOf(rec: ProcessRecord): ProcessInfo {
    return {
      pid: rec.pid,
      id: rec.path,
      name: rec.name,
      parent: rec.parent ? rec.parent.pid : this.#host.self,
      status: rec.status === Status.Alive ? 'alive' : 'exiting',
      trapExit: rec.trapExit,
      links: linkList(rec.links).map((l) => l.pid),
      monitoredBy: rec.monitors ? rec.monitors.size : 0,
      snapshotStatus: rec.actor.getSnapshot().status,
    };
  }

  /** The root, and every live process under its parent, in start order. */
  tree(): ProcessTreeNode {
    const root: ProcessTreeNode = { pid: this.#host.self, id: this.#host.name, name: undefined, status: 'alive', children: [] };
    const nodes = new Map<ProcessRecord, ProcessTreeNode>();
    for (const rec of this.records.values()) {
      const info = this.infoOf(rec);
      nodes.set(rec, { pid: info.pid, id: info.id, name: info.name, status: info.status, children: [] });
    }
    for (const [rec, node] of nodes) {
      const parentNode = rec.parent ? (nodes.get(rec.parent) ?? root) : root;
      parentNode.children.push(node);
    }
    return root;
  }

  // ---------------------------------------------------------------------------------------------
  // Stopping

  /**
   * Asks a live process to end with `reason`: a logic with `gracefulStop` gets `xotp.stop` and
   * ends itself after its cleanup; any other is stopped at once.
   */
  requestStop(rec: ProcessRecord, reason: ExitReason): void {
    if (rec.protocol?.gracefulStop) {
      rec.status = Status.Exiting;
      rec.reason = reason;
      const event: StopRequestMessage = { type: 'xotp.stop', reason };
      this.#delivery.send(this.#delivery.current, rec, event);
    } else {
      this.drainAfter(() => this.#terminate(rec, reason));
    }
  }

  whenDead(rec: ProcessRecord): Promise<ExitReason> {
    if (rec.status === Status.Dead) return Promise.resolve(rec.reason);
    return new Promise((resolve) => (rec.waiters ??= []).push(resolve));
  }

  /** Ends the actor now, recording `reason` as its exit reason. */
  #terminate(rec: ProcessRecord, reason: ExitReason): void {
    if (rec.status === Status.Dead || rec.forced) return;
    rec.forced = true;
    rec.status = Status.Exiting;
    rec.reason = reason;
    stopActorNow(rec.actor);
  }

  // ---------------------------------------------------------------------------------------------
  // Exit signals, links, monitors

  /** Queues an exit signal from `from` (sent by the process `source`, if any) to `to`. */
  exit(to: ProcessRecord, from: Pid, source: ProcessRecord | undefined, reason: ExitReason): void {
    // drainAfter without its closure: a supervisor's shutdown sends one of these per child.
    if (this.#draining) return this.#signal(to, from, source, reason, false);
    this.#draining = true;
    try {
      this.#signal(to, from, source, reason, false);
      this.#runJobs();
    } finally {
      this.#endDrain();
    }
  }

  /** Delivers an exit signal (otp-semantics §1.1). `viaLink`: it comes from a linked process's death. */
  #signal(to: ProcessRecord, from: Pid, source: ProcessRecord | undefined, reason: ExitReason, viaLink: boolean): void {
    if (to.status === Status.Dead) return;
    const events = this.#host.events;
    if (reason === 'kill' && !viaLink) {
      if (events.listenerCount('signal') > 0) events.emit('signal', { from, to: to.pid, reason, outcome: 'exit' });
      if (to.forced && to.reason !== 'killed') {
        // Already being stopped with another reason: the kill cannot be outrun; keep going.
        return;
      }
      this.#terminate(to, 'killed');
      return;
    }
    if (to.trapExit) {
      if (events.listenerCount('signal') > 0) events.emit('signal', { from, to: to.pid, reason, outcome: 'trapped' });
      const event: ExitMessage = { type: 'xotp.exit', from, reason };
      this.#delivery.send(source, to, event);
      return;
    }
    if (reason === 'normal' && !(from.id === to.pid.id && from.node === to.pid.node)) {
      events.emit('signal', { from, to: to.pid, reason, outcome: 'ignored' });
      return;
    }
    events.emit('signal', { from, to: to.pid, reason, outcome: 'exit' });
    this.#terminate(to, reason);
  }

  /** Tells a trapping process that the pid it tried to link to does not exist (OTP's `noproc`). */
  noprocLink(rec: ProcessRecord, pid: Pid): void {
    const event: ExitMessage = { type: 'xotp.exit', from: pid, reason: 'noproc' };
    this.#delivery.send(undefined, rec, event);
  }

  dropLink(a: ProcessRecord, b: ProcessRecord): void {
    if (!linkHas(a.links, b)) return;
    a.links = linkDelete(a.links, b);
    b.links = linkDelete(b.links, a);
    const events = this.#host.events;
    if (events.listenerCount('unlink') > 0) events.emit('unlink', { a: a.pid, b: b.pid });
  }

  addLink(a: ProcessRecord, b: ProcessRecord): void {
    if (a === b || linkHas(a.links, b)) return;
    a.links = linkAdd(a.links, b);
    b.links = linkAdd(b.links, a);
    const events = this.#host.events;
    if (events.listenerCount('link') > 0) events.emit('link', { a: a.pid, b: b.pid });
  }

  /** `other` loses its link to `rec`, which exited, and is signalled (in the exit's jobs). */
  #unlinkExited(other: ProcessRecord, rec: ProcessRecord, reason: ExitReason, jobs: Array<() => void>): void {
    other.links = linkDelete(other.links, rec);
    jobs.push(() => this.#signal(other, rec.pid, rec, reason, true));
  }

  /** DOWN with `'noproc'` for a monitor of something that is not alive. */
  monitorNothing(given: Pid | string, watcher: Monitor['watcher']): string {
    const ref = this.#nextRef();
    const down: DownMessage = {
      type: 'xotp.down',
      ref,
      pid: typeof given === 'string' ? undefined : given,
      target: given,
      reason: 'noproc',
    };
    if (typeof watcher === 'function') {
      // A callback learns of it after `monitor` has returned its ref, like a message would.
      queueMicrotask(() => this.#deliverDown(undefined, watcher, down));
    } else if (this.#draining) {
      // Behind the signals already queued: a process that died in this drain may still have its
      // EXIT to the watcher on the way, and OTP delivers that first (one sender, in order).
      this.#jobs.push(() => this.#deliverDown(undefined, watcher, down));
    } else {
      this.drainAfter(() => this.#deliverDown(undefined, watcher, down));
    }
    return ref;
  }

  addMonitor(rec: ProcessRecord, given: Pid | string, watcher: Monitor['watcher']): string {
    const ref = this.#nextRef();
    const mon: Monitor = { ref, given, target: rec, watcher };
    (rec.monitors ??= new Map()).set(ref, mon);
    if (typeof watcher !== 'function') (watcher.watching ??= new Set()).add(mon);
    this.#monitors.set(ref, mon);
    return ref;
  }

  demonitor(ref: string): boolean {
    const mon = this.#monitors.get(ref);
    if (!mon) return false;
    this.#monitors.delete(ref);
    mon.target.monitors?.delete(ref);
    if (typeof mon.watcher !== 'function') mon.watcher.watching?.delete(mon);
    return true;
  }

  #nextRef(): string {
    return `#Ref<${this.#host.name}.${++this.#refSeq}>`;
  }

  /** `source`: the process whose death fired the monitor (none for a `'noproc'` DOWN). */
  #deliverDown(source: ProcessRecord | undefined, watcher: Monitor['watcher'], down: DownMessage): void {
    const watcherPid = typeof watcher === 'function' ? undefined : watcher.pid;
    this.#host.events.emit('down', { ref: down.ref, target: down.target, watcher: watcherPid, reason: down.reason });
    if (typeof watcher === 'function') {
      try {
        watcher(down);
      } catch (err) {
        this.#host.logger.error(`a monitor callback threw: ${formatReason(err)}`, { ref: down.ref });
      }
      return;
    }
    if (watcher.status !== Status.Dead) this.#delivery.send(source, watcher, down);
  }

  // ---------------------------------------------------------------------------------------------
  // Exit propagation

  /** xstate told us the actor ended. */
  onActorEnded(rec: ProcessRecord, kind: 'complete' | 'error', error?: unknown): void {
    if (rec.status === Status.Dead) return;
    let reason: ExitReason;
    if (rec.forced) reason = rec.reason;
    else if (kind === 'error') reason = error;
    else {
      const snapshot = rec.actor.getSnapshot() as { status: string; output?: unknown };
      if (snapshot.status === 'done') reason = isExitWith(snapshot.output) ? snapshot.output.reason : 'normal';
      else reason = rec.reason ?? 'shutdown';
    }
    this.drainAfter(() => this.#exited(rec, reason));
  }

  #exited(rec: ProcessRecord, reason: ExitReason): void {
    const host = this.#host;
    rec.status = Status.Dead;
    rec.reason = reason;
    stopOrphans(rec.actor);
    this.records.delete(rec.pid.id);
    this.exited++;
    const name = this.#names.vacate(rec);
    if (host.events.listenerCount('process.exited') > 0) host.events.emit('process.exited', { pid: rec.pid, id: rec.path, reason });
    if (name !== undefined) host.events.emit('name.unregistered', { name, pid: rec.pid });
    if (!rec.forced && !isCleanExit(reason) && reason !== 'killed' && host.logger !== silentLogger) {
      host.logger.error(`process ${rec.pid} (${rec.path}) crashed: ${formatReason(reason)}`, {
        pid: String(rec.pid),
        id: rec.path,
        reason,
      });
    }
    if (rec.ack) {
      const ack = rec.ack;
      rec.ack = undefined;
      ack({ error: reason });
    }
    const jobs = this.#jobs;
    const links = rec.links;
    if (links !== undefined) {
      rec.links = undefined;
      if (links instanceof Set) for (const other of links) this.#unlinkExited(other, rec, reason, jobs);
      else this.#unlinkExited(links, rec, reason, jobs);
    }
    if (rec.calls) {
      const calls = this.#calls;
      // The list is newest first; they fail oldest first, in the order they were made.
      const refs: number[] = [];
      for (let p: CallLink | undefined = rec.calls; p !== undefined; p = p.nextCall) refs.push(p.ref);
      rec.calls = undefined;
      for (let i = refs.length - 1; i >= 0; i--) {
        const ref = refs[i]!;
        jobs.push(() => calls.settle(ref)?.reject(new ProcessExitError(rec.pid, reason, 'call')));
      }
    }
    if (rec.watching) {
      for (const mon of rec.watching) {
        this.#monitors.delete(mon.ref);
        mon.target.monitors?.delete(mon.ref);
      }
      rec.watching = undefined;
    }
    if (rec.monitors) {
      for (const mon of rec.monitors.values()) {
        this.#monitors.delete(mon.ref);
        if (typeof mon.watcher !== 'function') mon.watcher.watching?.delete(mon);
        const down: DownMessage = { type: 'xotp.down', ref: mon.ref, pid: rec.pid, target: mon.given, reason };
        jobs.push(() => this.#deliverDown(rec, mon.watcher, down));
      }
      rec.monitors = undefined;
    }
    if (rec.waiters) {
      const waiters = rec.waiters;
      rec.waiters = undefined;
      for (const w of waiters) w(reason);
    }
  }

  /** Runs `fn`, then every job it queued (and the jobs those queue), unless already draining. */
  drainAfter(fn: () => void): void {
    if (this.#draining) {
      // Already inside a drain: run now; whatever it queues is picked up by the outer loop.
      fn();
      return;
    }
    this.#draining = true;
    try {
      fn();
      this.#runJobs();
    } finally {
      this.#endDrain();
    }
  }

  #runJobs(): void {
    const jobs = this.#jobs;
    while (this.#jobHead < jobs.length) {
      const job = jobs[this.#jobHead++]!;
      job();
    }
  }

  #endDrain(): void {
    this.#jobs.length = 0;
    this.#jobHead = 0;
    this.#draining = false;
  }
}

/**
 * xstate stops a machine's own children when the machine stops or finishes, but not when it
 * errors (xstate issue #5153): invoked and spawned children keep running with no parent. A
 * process that ends, however it ends, takes its xstate children with it.
 */
function stopOrphans(actor: AnyActorRef): void {
  const children = (actor.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children;
  if (!children || typeof children !== 'object') return;
  for (const child of Object.values(children)) {
    if (child && (child.getSnapshot() as { status?: string }).status === 'active') stopActorNow(child);
  }
}

/** The `ProcessProtocol` a logic declares, if any. */
function protocolOf(logic: AnyActorLogic): ProcessProtocol | undefined {
  return (logic as { [processProtocol]?: ProcessProtocol })[processProtocol];
}

function labelOf(logic: AnyActorLogic, protocol: ProcessProtocol | undefined): string {
  if (protocol?.label) return protocol.label;
  const id = (logic as { id?: unknown }).id;
  if (typeof id === 'string' && id !== '(machine)' && /^[^/\s]+$/.test(id)) return id;
  return 'proc';
}

/**
 * Spawn options that need no checking beyond a look (a plain object of known keys whose values
 * have the right types), used as they are: `validateOptions` builds a copy and a key string per
 * option, and a spawn is on every child start's path. Anything else is left to it, for its
 * errors. Defaults: `trapExit` undefined is false where it is read.
 */
function plainSpawnOptions(options: SpawnOptions): SpawnOptions | undefined {
  if (typeof options !== 'object' || options === null || Object.getPrototypeOf(options) !== Object.prototype) return undefined;
  for (const key in options) {
    if (!Object.prototype.hasOwnProperty.call(spawnSchema, key)) return undefined;
  }
  const { name, id, trapExit } = options;
  if (name !== undefined && (typeof name !== 'string' || !/^\S+$/.test(name))) return undefined;
  if (id !== undefined && (typeof id !== 'string' || !/^[^/\s]+$/.test(id))) return undefined;
  if (trapExit !== undefined && typeof trapExit !== 'boolean') return undefined;
  return options;
}

/** Undoes what a logic's `prepare` began, when its process did not take it. */
function discardPrepared(rec: ProcessRecord): void {
  const prepared = rec.prepared;
  if (prepared === undefined) return;
  rec.prepared = undefined;
  try {
    prepared.discard();
  } catch {
    // Best effort: nothing else holds it.
  }
}
