/** The warehouse's settings when the config names none (no imports: the config reads them too). */

/**
 * DuckDB's own cap (its default is 80 % of RAM, too greedy beside Node). With 1 GB the server stays
 * under 1.5 GiB of RSS through a 60 s ingest at full speed; 2 GB let it reach 1.6 GiB for the same
 * throughput.
 */
export const DEFAULT_MEMORY_LIMIT = '1GB';

/**
 * WAL size that triggers a checkpoint. Checkpoints hold up the commits behind them, so a large WAL
 * between them keeps ingest latency flat; it is replayed on restart.
 */
export const DEFAULT_CHECKPOINT_THRESHOLD = '512MB';
