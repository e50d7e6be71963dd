/** The warehouse's settings when the config names none (no imports: the config reads them too). */

/**
 * DuckDB's own cap (its default is 80 % of RAM, too greedy beside Node). Through a 60 s ingest at
 * full speed the server's RSS peaked at 1,582 MiB with 2 GB and 1,426 MiB with 1 GB, at the same
 * throughput (medians of 5 runs; BENCHMARKS.md).
 */
export const DEFAULT_MEMORY_LIMIT = '1GB';

/**
 * WAL size that triggers a checkpoint. Checkpoints hold up the commits behind them, so a large WAL
 * between them keeps ingest latency flat; it is replayed on restart.
 */
export const DEFAULT_CHECKPOINT_THRESHOLD = '512MB';
