/**
 * Repeats a benchmark run until it has N undisturbed ones. This machine is shared: before each run
 * it waits (a while) for the other processes to go quiet, and a run during which they used more
 * than BUSY_PERCENT of a core is discarded and done again (at most N times), then kept and flagged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { machineBusySeconds } from './pulse-process.js';
import type { CpuUse } from './report.js';

export const BUSY_PERCENT = 10;
const QUIET_PERCENT = 15;
const MAX_QUIET_WAIT_MS = 120_000;

/** CPU used by other processes (the whole machine minus this process) over `ms`, % of one core. */
export async function othersCpuPercent(ms: number): Promise<number> {
  const before = machineBusySeconds();
  const own = process.cpuUsage();
  await sleep(ms);
  const mine = process.cpuUsage(own);
  return Math.max(0, ((machineBusySeconds() - before - (mine.user + mine.system) / 1e6) / (ms / 1000)) * 100);
}

async function waitForQuiet(log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + MAX_QUIET_WAIT_MS;
  let busy = await othersCpuPercent(1000);
  if (busy < QUIET_PERCENT) return;
  log(`  other processes use ${busy.toFixed(0)} % of a core: waiting up to ${MAX_QUIET_WAIT_MS / 1000} s`);
  while (busy >= QUIET_PERCENT && Date.now() < deadline) busy = await othersCpuPercent(2000);
}

export interface Repeated<T> {
  readonly runs: T[];
  /** Runs thrown away because other processes took the cores. */
  readonly discarded: T[];
}

/** `once(i)` is called with the index (1-based) of the run it stands for: a redo gets the same one. */
export async function repeatRuns<T extends { cpuPercent: CpuUse }>(
  count: number,
  once: (index: number) => Promise<T>,
  log: (line: string) => void,
): Promise<Repeated<T>> {
  const runs: T[] = [];
  const discarded: T[] = [];
  while (runs.length < count) {
    await waitForQuiet(log);
    const run = await once(runs.length + 1);
    if (run.cpuPercent.others > BUSY_PERCENT && discarded.length < count) {
      discarded.push(run);
      log(`  run discarded: other processes used ${run.cpuPercent.others.toFixed(0)} % of a core; again`);
      continue;
    }
    runs.push(run);
  }
  return { runs, discarded };
}
