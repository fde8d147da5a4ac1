import { readFileSync, readdirSync } from 'node:fs';

/**
 * OS pids of Python bridge processes of this Node process that are still alive: on Linux, every
 * child whose command line names `xotp_bridge` (from /proc, so one started between two samples
 * is seen too); elsewhere, those of `seen` that still answer signal 0.
 */
export function leftoverPython(seen: Iterable<number>): number[] {
  if (process.platform === 'linux') {
    const out: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(ppid) !== process.pid || state === 'Z' || state === 'X') continue;
        if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('xotp_bridge')) out.push(Number(entry));
      } catch {
        // It vanished while we looked.
      }
    }
    return out;
  }
  return [...seen].filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}
