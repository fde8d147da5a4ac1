import type { ProcessTreeNode } from '../runtime/processInfo.js';
import type { InspectedNode } from './inspectTree.js';
import { stateColour } from './stateColour.js';

/**
 * The tree as a Mermaid flowchart (paste it into a Markdown file or mermaid.live). Given
 * `inspectTree(runtime)`, each box also shows its kind, state and restart count, and is coloured
 * by state as the viewer colours it.
 *
 * @example
 * ```ts
 * writeFileSync('tree.mmd', toMermaid(inspectTree(runtime)));
 * ```
 */
export function toMermaid(root: ProcessTreeNode | InspectedNode): string {
  const lines = ['flowchart TD'];
  const classes = new Map<string, string[]>();
  const walk = (node: ProcessTreeNode | InspectedNode) => {
    const id = `p${pidNumber(String(node.pid))}`;
    lines.push(`  ${id}["${text(node)}"]`);
    if ('kind' in node) {
      const colour = stateColour(node.state, node.status);
      const list = classes.get(colour) ?? [];
      list.push(id);
      classes.set(colour, list);
    }
    for (const child of node.children as Array<ProcessTreeNode | InspectedNode>) {
      lines.push(`  ${id} --> p${pidNumber(String(child.pid))}`);
      walk(child);
    }
  };
  walk(root);
  for (const [colour, ids] of classes) {
    lines.push(`  classDef ${colour} fill:${fills[colour as keyof typeof fills]},stroke:#333,color:#111`);
    lines.push(`  class ${ids.join(',')} ${colour}`);
  }
  return lines.join('\n');
}

const fills = { ok: '#b7e4c7', busy: '#ffe8a3', stopping: '#d9d9d9', failed: '#f4a6a6', other: '#cfe2ff' };

function text(node: ProcessTreeNode | InspectedNode): string {
  const head = escape(`${node.id.slice(node.id.lastIndexOf('/') + 1)} ${String(node.pid)}`);
  if (!('kind' in node)) return node.name !== undefined ? `${head}<br/>${escape(`name=${node.name}`)}` : head;
  const restarts = node.restarts ? ` ↻${node.restarts}` : '';
  return `${head}<br/>${escape(`${node.kind} · ${node.state}${restarts}`)}`;
}

/** Mermaid labels in quotes take entity codes (#60; for <); a quote or a bracket would end them. */
function escape(s: string): string {
  return s.replace(/[&"<>[\]{}|#]/g, (c) => `#${c.charCodeAt(0)};`);
}

function pidNumber(pid: string): string {
  const m = /\.(\d+)>$/.exec(pid);
  return m ? m[1]! : pid.replace(/\W/g, '_');
}
