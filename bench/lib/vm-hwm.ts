/** A process's peak resident set as Linux keeps it for that process alone. */
import { readFileSync } from 'node:fs';

/** `VmHWM` of `/proc/<pid>/status` in bytes (`self`: this process); 0 where there is none (gone, not Linux). */
export function vmHwmBytes(pid: number | string): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
