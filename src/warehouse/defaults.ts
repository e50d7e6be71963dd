/** The warehouse's settings when the config names none (no project imports: the config reads them too). */
import { availableParallelism } from 'node:os';

/**
 * DuckDB's own cap (its default is 80 % of RAM, too greedy beside Node). Through a 60 s ingest at
 * full speed the server's RSS peaked at 1,582 MiB with 2 GB and 1,426 MiB with 1 GB, at the same
 * throughput (medians of 5 runs); at 40,000 events/s, 1,445 MiB with 1 GB and 1,241 MiB with
 * 768 MB, at the same throughput again (3 alternating pairs; BENCHMARKS.md).
 */
export const DEFAULT_MEMORY_LIMIT = '768MB';

/**
 * `pulse backfill`'s cap: a rebuild of 10,000,000 order lines peaked at 1,692 MiB of RSS under 1 GB
 * (DuckDB's sorts and JSON parsing also allocate outside its cap) and at 1,039 MiB under 512 MB,
 * in the same time (76 s and 65 s).
 */
export const BACKFILL_MEMORY_LIMIT = '512MB';

/**
 * WAL size that triggers a checkpoint. Checkpoints hold up the commits behind them, so a large WAL
 * between them keeps ingest latency flat; it is replayed on restart.
 */
export const DEFAULT_CHECKPOINT_THRESHOLD = '512MB';

/**
 * DuckDB threads of a one-stage-at-a-time command (`backfill`, `load`, `run`): every core. A full
 * model run over 740,000 events took 3.3–3.7 s with 2 threads and 4.8–6.2 s with 1, on 2 cores.
 */
export function batchThreads(cores: number = availableParallelism()): number {
  return Math.max(1, cores);
}

/**
 * DuckDB threads of a serving process (`start`, `worker`): half the cores, at least one. Its stages
 * query at once, each on its own connection (bronze commits, a model run, a publication), and a
 * query also runs on the thread that called it: DuckDB's own threads then only oversubscribe the
 * cores. On 2 cores at 1,000,000 events a minute, 1 thread instead of 2 cut a model run from
 * 531–808 ms to 316–401 ms (means over 30 s, 3 runs each, alternated).
 */
export function servingThreads(cores: number = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / 2));
}
