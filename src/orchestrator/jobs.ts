import type { RunResult } from '../models/index.js';
import type { SlaMonitor } from './sla.js';

export interface CadenceJob {
  readonly name: string;
  /** The KPIs the job keeps fresh (for the record: the refresh covers every model). */
  readonly kpis: readonly string[];
  readonly everyMs: number;
  /** The job must finish within this many ms of its scheduled start. */
  readonly slaMs?: number | undefined;
}

/**
 * Refresh jobs on a fixed cadence (one per KPI cadence), on top of the continuous loop: each tick
 * refreshes the models (recorded with the job's name as trigger) and checks the job's SLA.
 * A tick that finds the previous one still running is skipped, never queued.
 */
export class CadenceJobs {
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running = new Set<string>();
  readonly #refresh: (trigger: string) => Promise<RunResult | undefined>;
  readonly #sla: SlaMonitor;
  readonly #log: (message: string, error: unknown) => void;

  constructor(
    refresh: (trigger: string) => Promise<RunResult | undefined>,
    sla: SlaMonitor,
    log: (message: string, error: unknown) => void,
  ) {
    this.#refresh = refresh;
    this.#sla = sla;
    this.#log = log;
  }

  start(jobs: readonly CadenceJob[]): void {
    for (const job of jobs) {
      const timer = setInterval(() => void this.tick(job), job.everyMs);
      timer.unref();
      this.#timers.push(timer);
    }
  }

  /** One run of a job (the timer's, or a test's). */
  async tick(job: CadenceJob): Promise<RunResult | undefined> {
    if (this.#running.has(job.name)) return undefined;
    this.#running.add(job.name);
    const started = performance.now();
    try {
      const result = await this.#refresh(job.name);
      this.#sla.check(
        job.name,
        job.slaMs,
        performance.now() - started,
        result?.runId ?? null,
        `KPIs ${job.kpis.join(', ')}`,
      );
      return result;
    } catch (error) {
      this.#log(`job ${job.name} failed`, error);
      return undefined;
    } finally {
      this.#running.delete(job.name);
    }
  }

  stop(): void {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
  }
}
