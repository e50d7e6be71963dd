import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How often new threads (DuckDB's, libuv's, workers') are looked for: they start at the loop's priority. */
const SWEEP_MS = 1_000;

export interface BackgroundPriority {
  /** Threads lowered and still running. */
  readonly lowered: () => number;
  readonly stop: () => void;
}

/**
 * Lowers every thread of this process but the event loop's `nice` steps below it (at most to 19),
 * now and as new ones start. The event loop answers the API and pushes SSE. On two cores it
 * competes with DuckDB's queries and the ingest workers, and a read that waits for the scheduler
 * waits out a background thread's whole slice. This changes who runs first when both want a core,
 * not how much work there is: on an idle core the background runs at full speed.
 *
 * Linux only: a thread's id is a pid there, and `setpriority` on it moves that thread alone. Where
 * `/proc/self/task` is missing, nothing is changed. Raising a nice value back needs privileges, so
 * the change lasts for the life of the process.
 */
export function lowerBackgroundThreads(
  nice: number,
  options: { readonly taskDir?: string; readonly sweepMs?: number } = {},
): BackgroundPriority {
  if (!Number.isInteger(nice) || nice < 1 || nice > 19)
    throw new RangeError(`nice must be 1–19, got ${nice}`);
  const taskDir = options.taskDir ?? '/proc/self/task';
  // The event loop runs on the process's first thread, whose id is the pid.
  const main = process.pid;
  const target = Math.min(19, getPriority(main) + nice);
  const done = new Set<number>();
  const sweep = (): void => {
    let threads: number[];
    try {
      threads = readdirSync(taskDir).map(Number);
    } catch {
      return;
    }
    // A thread id can be reused once its thread has ended: forget the ended ones.
    const present = new Set(threads);
    for (const thread of done) if (!present.has(thread)) done.delete(thread);
    for (const thread of threads) {
      if (thread === main || done.has(thread)) continue;
      try {
        setPriority(thread, target);
        done.add(thread);
      } catch {
        // The thread ended between the listing and the call.
      }
    }
  };
  sweep();
  const timer = setInterval(sweep, options.sweepMs ?? SWEEP_MS);
  timer.unref();
  return { lowered: () => done.size, stop: () => clearInterval(timer) };
}
