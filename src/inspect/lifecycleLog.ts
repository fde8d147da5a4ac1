import type { Runtime } from '../runtime/runtime.js';
import { formatReason } from '../runtime/exitReason.js';
import { serializeReason } from '../runtime/serializeReason.js';
import type { ProcessExitedEvent, ProcessSpawnedEvent } from '../runtime/events.js';
import type { ChildStartFailedEvent, ChildStartedEvent, IntensityReachedEvent } from '../supervisor/events.js';

/** One line of a process's lifecycle, on the runtime clock. */
export interface LifecycleEntry {
  at: number;
  pid: string;
  event: 'spawned' | 'exited' | 'restarted' | 'startFailed' | 'intensityReached';
  /** Readable text: the exit reason, what a restart replaced, ... */
  detail?: string;
}

/** One exit of a process, with its reason readable as text and as data. */
export interface ExitRecord {
  at: number;
  pid: string;
  reason: string;
  /** The reason as JSON-safe data (`serializeReason`). */
  data: unknown;
}

/** Options of {@link recordLifecycle}. */
export interface LifecycleLogOptions {
  /** Entries kept per actor id (default 20); exits kept per actor id: a quarter of it, at least 5. */
  perNode?: number;
  /** Actor ids remembered at most (default 10 000); the least recently active are forgotten. */
  maxNodes?: number;
}

/** What {@link recordLifecycle} returns. */
export interface LifecycleLog {
  /** Lifecycle entries of an actor id (`app/jobs/worker-6`), oldest first. */
  historyOf(id: string): LifecycleEntry[];
  /** The recent exits of an actor id, oldest first. */
  exitsOf(id: string): ExitRecord[];
  /** Stops listening to the runtime's bus. */
  dispose(): void;
}

interface Slot {
  history: LifecycleEntry[];
  exits: ExitRecord[];
}

/**
 * Records each process's lifecycle from the runtime's bus, by actor id. A restarted child keeps
 * its actor id, so its history reads across restarts: spawned, exited (reason), restarted, ...
 * Bounded per id and in ids, so a crash loop cannot grow it.
 */
export function recordLifecycle(runtime: Runtime, options: LifecycleLogOptions = {}): LifecycleLog {
  const perNode = options.perNode ?? 20;
  const perNodeExits = Math.max(5, Math.floor(perNode / 4));
  const maxNodes = options.maxNodes ?? 10_000;
  const slots = new Map<string, Slot>();

  const slot = (id: string): Slot => {
    let s = slots.get(id);
    if (s === undefined) {
      s = { history: [], exits: [] };
      slots.set(id, s);
      // One deletion per insertion keeps the bound without a scan.
      if (slots.size > maxNodes) slots.delete(slots.keys().next().value as string);
    }
    return s;
  };
  const push = <T>(list: T[], item: T, max: number) => {
    list.push(item);
    if (list.length > max) list.splice(0, list.length - max);
  };
  const note = (id: string, entry: LifecycleEntry) => push(slot(id).history, entry, perNode);
  const now = () => runtime.clock.now();

  const onSpawned = (e: ProcessSpawnedEvent) => note(e.id, { at: now(), pid: String(e.pid), event: 'spawned' });
  const onExited = (e: ProcessExitedEvent) => {
    const reason = formatReason(e.reason);
    const at = now();
    note(e.id, { at, pid: String(e.pid), event: 'exited', detail: reason });
    push(slot(e.id).exits, { at, pid: String(e.pid), reason, data: serializeReason(e.reason) }, perNodeExits);
  };
  const onStarted = (e: ChildStartedEvent) => {
    if (!e.restart) return;
    const id = runtime.info(e.pid)?.id;
    if (id === undefined) return;
    const replaced = e.previousPid !== undefined ? `, replaces ${String(e.previousPid)}` : '';
    note(id, { at: now(), pid: String(e.pid), event: 'restarted', detail: `restart ${e.restarts}${replaced}` });
  };
  const onStartFailed = (e: ChildStartFailedEvent) => {
    const id = runtime.info(e.supervisor)?.id;
    if (id !== undefined) note(id, { at: now(), pid: String(e.supervisor), event: 'startFailed', detail: `${e.id}: ${formatReason(e.reason)}` });
  };
  const onIntensity = (e: IntensityReachedEvent) => {
    const id = runtime.info(e.supervisor)?.id;
    if (id === undefined) return;
    const detail = `${e.id}: more than ${e.maxRestarts} restarts in ${e.maxSeconds} s`;
    note(id, { at: now(), pid: String(e.supervisor), event: 'intensityReached', detail });
  };
  const bus = runtime.events;
  bus.on('process.spawned', onSpawned);
  bus.on('process.exited', onExited);
  bus.on('supervisor.childStarted', onStarted);
  bus.on('supervisor.childStartFailed', onStartFailed);
  bus.on('supervisor.intensityReached', onIntensity);

  return {
    historyOf: (id) => [...(slots.get(id)?.history ?? [])],
    exitsOf: (id) => [...(slots.get(id)?.exits ?? [])],
    dispose: () => {
      bus.off('process.spawned', onSpawned);
      bus.off('process.exited', onExited);
      bus.off('supervisor.childStarted', onStarted);
      bus.off('supervisor.childStartFailed', onStartFailed);
      bus.off('supervisor.intensityReached', onIntensity);
    },
  };
}
