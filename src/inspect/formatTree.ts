import type { ProcessTreeNode } from '../runtime/processInfo.js';
import type { InspectedNode } from './inspectTree.js';

/**
 * Renders a tree as indented text, one process per line. Given `runtime.tree()`:
 *
 * ```text
 * app <app.0>
 * ├─ app/counter <app.1> name=counter
 * └─ app/sup <app.2>
 *    └─ app/sup/worker-3 <app.3> (exiting)
 * ```
 *
 * Given `inspectTree(runtime)`, each line also says the kind and state, the restart count and
 * the last exit reason, a bridge's OS pid and a pool's counters:
 *
 * ```text
 * app <app.0> [other active]
 * └─ app/jobs <app.1> name=jobs [supervisor running]
 *    └─ app/jobs/worker-2 <app.4> [server running] restarts=1 last exit: Error: boom
 * ```
 */
export function formatTree(root: ProcessTreeNode | InspectedNode): string {
  const lines: string[] = [label(root)];
  const walk = (node: ProcessTreeNode | InspectedNode, prefix: string) => {
    const children = node.children as Array<ProcessTreeNode | InspectedNode>;
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${label(child)}`);
      walk(child, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(root, '');
  return lines.join('\n');
}

function label(node: ProcessTreeNode | InspectedNode): string {
  const name = node.name !== undefined ? ` name=${node.name}` : '';
  const status = node.status === 'alive' ? '' : ` (${node.status})`;
  const base = `${node.id} ${String(node.pid)}${name}${status}`;
  if (!('kind' in node)) return base;
  const parts = [`${base} [${node.kind} ${node.state}]`];
  if (node.restarts !== undefined && node.restarts > 0) parts.push(`restarts=${node.restarts}`);
  if (node.osPid !== undefined) parts.push(`os pid ${node.osPid}`);
  if (node.pool) parts.push(`ready ${node.pool.ready}/${node.pool.size}, busy ${node.pool.busy}, queued ${node.pool.queued}`);
  if (node.breaker) parts.push(`circuit ${node.breaker.state}`);
  if (node.supervisor) {
    for (const c of node.supervisor.idleChildren) parts.push(`${c.id}: ${c.restarting ? 'restarting' : 'not running'}`);
  }
  if (node.lastExit !== undefined) parts.push(`last exit: ${node.lastExit}`);
  return parts.join(' ');
}
