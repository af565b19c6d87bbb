// Memory of a server's process set, for bench/imap-idle.ts (Linux /proc). The set is given as
// pids ("123" or "123,456") or a `pgrep -f` pattern, and always includes every descendant of
// the processes named, found afresh at each reading from the parent pids in /proc/PID/stat.
// This process and its ancestors are never part of the set (a pattern given on our own
// command line matches it). Readings: VmRSS (/proc/PID/status) and Pss
// (/proc/PID/smaps_rollup) in bytes, summed; a process that exits while being read is
// skipped.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface MemoryReading {
  readonly processes: number;
  /** Sum of VmRSS, bytes. */
  readonly rss: number;
  /** Sum of Pss, bytes (0 where smaps_rollup is unreadable). */
  readonly pss: number;
}

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Parent pid of every process. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (stat === null) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    out.set(Number(name), ppid);
  }
  return out;
}

function ancestorsOfSelf(parent: ReadonlyMap<number, number>): Set<number> {
  const out = new Set<number>();
  for (let p: number | undefined = process.pid; p !== undefined && p > 0 && !out.has(p); p = parent.get(p)) {
    out.add(p);
  }
  return out;
}

function roots(spec: string): number[] {
  if (/^\d+(,\d+)*$/.test(spec)) return spec.split(',').map(Number);
  try {
    return execFileSync('pgrep', ['-f', spec], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** The pids of `spec` and all their descendants, without this process and its ancestors. */
export function processSet(spec: string): number[] {
  const parent = parents();
  const excluded = ancestorsOfSelf(parent);
  const set = new Set(roots(spec).filter((p) => !excluded.has(p) && parent.has(p)));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (set.has(ppid) && !set.has(pid) && !excluded.has(pid)) {
        set.add(pid);
        grew = true;
      }
    }
  }
  return [...set];
}

function kbField(text: string | null, field: string): number | null {
  const m = text === null ? null : new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m === null ? null : Number(m[1]) * 1024;
}

export function readMemory(spec: string): MemoryReading {
  let processes = 0;
  let rss = 0;
  let pss = 0;
  for (const pid of processSet(spec)) {
    const r = kbField(read(`/proc/${pid}/status`), 'VmRSS');
    if (r === null) continue; // gone, or a kernel thread
    processes++;
    rss += r;
    pss += kbField(read(`/proc/${pid}/smaps_rollup`), 'Pss') ?? 0;
  }
  return { processes, rss, pss };
}

/** This process's soft limit on open files (null if unknown or unlimited). */
export function fdLimit(): number | null {
  const m = /^Max open files\s+(\d+)/m.exec(read('/proc/self/limits') ?? '');
  return m === null ? null : Number(m[1]);
}
