/** A process's resource use, read from /proc (Linux): what the benchmarks charge each server. */
import { readFileSync } from 'node:fs';

function statFields(pid: number): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
}

/** CPU seconds used by a process so far (utime + stime, all threads). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds used by a process and all its descendants so far: its own, its
 * reaped children's (cutime + cstime) and its live children's, recursively.
 * PostgreSQL works in backends the postmaster forks, Redis rewrites its AOF in a fork.
 */
export function treeCpuSeconds(pid: number): number {
  let fields: string[];
  try {
    fields = statFields(pid);
  } catch {
    // Exited between listing and reading: its time is in its parent's cutime once reaped.
    return 0;
  }
  const own = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0) / 100;
  return own + childPids(pid).reduce((sum, child) => sum + treeCpuSeconds(child), 0);
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Resident memory of a process, in bytes. */
export function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
}
