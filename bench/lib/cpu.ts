// CPU accounting for benchmark diagnostics (Linux /proc): how busy the whole machine was
// during a measurement, and how much CPU one process used.

import { readFileSync } from 'node:fs';

export interface MachineCpu {
  readonly busy: number;
  readonly total: number;
}

/** Jiffies of all CPUs from /proc/stat (null where there is no /proc). */
export function machineCpu(): MachineCpu | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1, 9).map(Number);
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return { busy, total: busy + idle! + iowait! };
  } catch {
    return null;
  }
}

/** Share of the machine's CPU time (all cores) that was busy between two readings, 0..1. */
export function busyShare(before: MachineCpu | null, after: MachineCpu | null): number | null {
  if (before === null || after === null || after.total === before.total) return null;
  return Number(((after.busy - before.busy) / (after.total - before.total)).toFixed(2));
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat; null if unknown. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] and [12] are utime and stime (fields 14 and 15 of proc(5)), in clock ticks
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
