export { openWarehouse } from './connection.js';
export { BACKFILL_MEMORY_LIMIT, batchThreads, servingThreads } from './defaults.js';
export type { Warehouse, WarehouseOptions } from './connection.js';
export { BronzeWriter } from './bronze-writer.js';
export type {
  CommitInfo,
  CommitRequest,
  CommitResult,
  QuarantineRecord,
  StagedEvent,
} from './bronze-writer.js';
export { createIngestor } from './ingest.js';
export type { Ingestor } from './ingest.js';
export { PreparePool } from './prepare-pool.js';
export { prepareItems } from './prepare.js';
export type { PreparedBatch } from './prepare.js';
export type { IngestResult, QuarantinedEvent, RawItem } from './ingest.js';
export { PreparedQueries, queryRows } from './query.js';
export { minuteStart, minuteStartMs } from './sql-time.js';
export type { Row } from './query.js';
export { insertApiKey, loadApiKeys, revokeApiKey } from './api-keys.js';
export { insertKpiComment, listKpiComments } from './comments.js';
export type { KpiComment } from './comments.js';
export { PrivacyBudgetLedger } from './dp-budget.js';
export type { BudgetSpend } from './dp-budget.js';
