import { randomUUID } from 'node:crypto';
import type { ContractValidator } from '../contracts/index.js';
import type { Tokeniser } from '../privacy/index.js';
import {
  parseEventsBody,
  type Deliver,
  type DeliverBody,
  type DeliveryMeta,
  type DeliveryReceipt,
} from '../sources/index.js';
import type { BronzeWriter } from './bronze-writer.js';
import { prepareItems, type PreparedBatch } from './prepare.js';
import type { PrepareInput, PreparePool } from './prepare-pool.js';

export type {
  SourceItem as RawItem,
  DeliveryReceipt as IngestResult,
  SourceQuarantined as QuarantinedEvent,
} from '../sources/index.js';

export interface Ingestor {
  /** For sources that parse their own input (files, NATS, the demo). */
  readonly deliver: Deliver;
  /** For the HTTP source: the raw body is parsed where the events are checked. */
  readonly deliverBody: DeliverBody;
}

/**
 * The door of the warehouse: every event is checked against its contract, stripped of personal
 * data, then committed to bronze (or, when it fails, to the quarantine) in one transaction.
 * Resolves only after the commit, so an acknowledgement means durable. With a pool, the checking
 * runs on worker threads; without, in this thread.
 */
export function createIngestor(deps: {
  validator: ContractValidator;
  tokeniser: Tokeniser;
  writer: BronzeWriter;
  pool?: PreparePool | undefined;
}): Ingestor {
  const { validator, tokeniser, writer, pool } = deps;
  // Parsed items are checked here: sending parsed objects to a worker costs more than checking them.
  const prepare = (input: PrepareInput): Promise<PreparedBatch> | PreparedBatch => {
    if (pool && input.kind === 'body') return pool.prepare(input);
    const items =
      input.kind === 'body' ? parseEventsBody(input.mediaType, input.text, input.maxEvents) : input.items;
    return prepareItems(items, validator, tokeniser);
  };
  const commit = async (input: PrepareInput, meta: DeliveryMeta): Promise<DeliveryReceipt> => {
    const receivedAt = meta.receivedAt ?? new Date();
    const batch = await prepare(input);
    const batchId = meta.batchId ?? randomUUID();
    const committed = await writer.submit({
      batchId,
      sourceKind: meta.sourceKind,
      receivedAt,
      events: batch.events,
      keys: batch.keys,
      quarantined: batch.quarantined,
      ...(meta.correlationId !== undefined ? { correlationId: meta.correlationId } : {}),
      ...(meta.trace !== undefined ? { trace: meta.trace } : {}),
    });
    return {
      batch_id: batchId,
      accepted: committed.accepted,
      duplicates: committed.duplicateIds.length,
      quarantined: committed.quarantined,
      quarantined_events: batch.report,
    };
  };
  return {
    deliver: (items, meta) => commit({ kind: 'items', items }, meta),
    deliverBody: (mediaType, text, maxEvents, meta) =>
      commit({ kind: 'body', mediaType, text, maxEvents }, meta),
  };
}
