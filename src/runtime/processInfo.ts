import type { Pid } from './pid.js';

/** What `runtime.info(pid)` tells about a live process. */
export interface ProcessInfo {
  pid: Pid;
  /** Readable place in the tree, also the xstate actor id (`app/pool/worker-3`). */
  id: string;
  name: string | undefined;
  parent: Pid;
  status: 'alive' | 'exiting';
  trapExit: boolean;
  links: Pid[];
  /** How many monitors watch it. */
  monitoredBy: number;
  /** The xstate snapshot status of its actor. */
  snapshotStatus: string;
}

/** One node of `runtime.tree()`. */
export interface ProcessTreeNode {
  pid: Pid;
  id: string;
  name: string | undefined;
  status: 'alive' | 'exiting';
  children: ProcessTreeNode[];
}
