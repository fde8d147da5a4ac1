import type { ProcessTreeNode } from '../runtime/processInfo.js';

/**
 * Renders `runtime.tree()` as indented text, one process per line:
 *
 * ```text
 * app <app.0>
 * ├─ app/counter <app.1> name=counter
 * └─ app/sup <app.2>
 *    └─ app/sup/worker-3 <app.3> (exiting)
 * ```
 */
export function formatTree(root: ProcessTreeNode): string {
  const lines: string[] = [label(root)];
  const walk = (node: ProcessTreeNode, prefix: string) => {
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${label(child)}`);
      walk(child, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(root, '');
  return lines.join('\n');
}

function label(node: ProcessTreeNode): string {
  const name = node.name !== undefined ? ` name=${node.name}` : '';
  const status = node.status === 'alive' ? '' : ` (${node.status})`;
  return `${node.id} ${node.pid}${name}${status}`;
}
