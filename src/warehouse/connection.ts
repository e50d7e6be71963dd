import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { batchThreads, DEFAULT_CHECKPOINT_THRESHOLD, DEFAULT_MEMORY_LIMIT } from './defaults.js';
import { migrate } from './migrations.js';

export interface WarehouseOptions {
  /** DuckDB file; `:memory:` for throw-away runs. */
  readonly path: string;
  /** DuckDB's own cap. */
  readonly memoryLimit?: string;
  /** DuckDB's threads; default every core (a serving process passes `servingThreads()`). */
  readonly threads?: number;
  /** WAL size that triggers a checkpoint. */
  readonly checkpointThreshold?: string;
}

/**
 * One DuckDB file with a connection per role: DuckDB serialises statements on a connection, so the
 * writer (bronze appends), the model runner and the readers each get their own, and MVCC keeps
 * their snapshots apart.
 */
export interface Warehouse {
  readonly path: string;
  readonly writer: DuckDBConnection;
  readonly modeller: DuckDBConnection;
  readonly reader: DuckDBConnection;
  /** Another connection on the same file (closed with the warehouse). */
  connect(): Promise<DuckDBConnection>;
  close(): Promise<void>;
}

export async function openWarehouse(options: WarehouseOptions): Promise<Warehouse> {
  const instance = await DuckDBInstance.create(options.path, {
    memory_limit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
    threads: String(options.threads ?? batchThreads()),
    checkpoint_threshold: options.checkpointThreshold ?? DEFAULT_CHECKPOINT_THRESHOLD,
  });
  const writer = await instance.connect();
  // Timestamps are stored and compared in UTC; the business time zone is applied explicitly in SQL.
  await writer.run(`SET GLOBAL TimeZone = 'UTC'`);
  await migrate(writer);
  // A process that was killed never checkpointed: its WAL was just replayed, and would be again at
  // every start until the 512 MB threshold. Folding it into the file now keeps each restart's
  // replay to what the last process wrote. Not fatal: a file that cannot be written still serves.
  if (options.path !== ':memory:') await writer.run('CHECKPOINT').catch(() => undefined);
  const modeller = await instance.connect();
  const reader = await instance.connect();
  const extra: DuckDBConnection[] = [];
  let closed = false;
  return {
    path: options.path,
    writer,
    modeller,
    reader,
    async connect() {
      const connection = await instance.connect();
      extra.push(connection);
      return connection;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const connection of [...extra, reader, modeller, writer]) connection.closeSync();
      instance.closeSync();
    },
  };
}
