/**
 * CPU and memory of a process from /proc (Linux only): what `npm run bench:idle` samples.
 * Two CPU measures: utime + stime from /proc/<pid>/stat (clock ticks, usually 10 ms, so
 * coarse at idle), and the scheduler's nanosecond run time summed over the process's threads
 * (/proc/<pid>/task/<tid>/schedstat), which is exact enough for a 0.05% process.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime. 100 on every Linux this runs on; `getconf CLK_TCK` to check. */
export const CLOCK_TICKS_PER_S = 100;

export interface ProcSample {
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  /** Run time of all live threads, ns. */
  runNs: number;
  rssKb: number;
}

/** Reads one sample; throws naming the pid and file when the process is gone or the file unreadable. */
export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the name start at field 3 (state): utime is field 14, stime field 15.
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!Number.isFinite(cpuTicks) || rss === null) throw new Error(`/proc/${pid}: cannot read utime/stime or VmRSS`);
  let runNs = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      runNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read: its time is lost either way.
    }
  }
  return { cpuTicks, runNs, rssKb: Number(rss[1]) };
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
