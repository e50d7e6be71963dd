import { randomUUID } from 'node:crypto';
import type { ContractValidator, EventType } from '../contracts/index.js';
import { protectData, redactForQuarantine, redactText, type Tokeniser } from '../privacy/index.js';
import type { Deliver, DeliveryReceipt, SourceItem, SourceQuarantined } from '../sources/index.js';
import type { BronzeWriter, QuarantineRecord, StagedEvent } from './bronze-writer.js';

export type RawItem = SourceItem;
export type IngestResult = DeliveryReceipt;
export type QuarantinedEvent = SourceQuarantined;

/** Caps what one quarantined payload may occupy, so a hostile 10 MB field cannot bloat the table. */
const MAX_QUARANTINE_PAYLOAD_CHARS = 64 * 1024;

/**
 * The door of the warehouse: every event is checked against its contract, stripped of personal
 * data, then committed to bronze (or, when it fails, to the quarantine) in one transaction.
 * Resolves only after the commit, so an acknowledgement means durable.
 */
export function createIngestor(deps: {
  validator: ContractValidator;
  tokeniser: Tokeniser;
  writer: BronzeWriter;
}): Deliver {
  const { validator, tokeniser, writer } = deps;
  return async (items, meta) => {
    const events: StagedEvent[] = [];
    const quarantined: QuarantineRecord[] = [];
    const report: QuarantinedEvent[] = [];
    items.forEach((item, index) => {
      if (item.kind === 'unparseable') {
        const record = {
          eventId: null,
          eventType: null,
          rule: 'json',
          field: '(event)',
          message: item.message,
          payload: truncate(redactText(item.text)),
        };
        quarantined.push(record);
        report.push({ index, id: null, rule: record.rule, field: record.field, message: record.message });
        return;
      }
      const result = validator.validate(item.value);
      if (result.ok) {
        const { event } = result;
        const policy = validator.piiFields.get(event.type) ?? { drop: [], tokenise: [] };
        events.push({
          id: event.id,
          type: event.type,
          source: event.source,
          time: event.time ?? null,
          data: JSON.stringify(protectData(event.data, policy, tokeniser)),
        });
        return;
      }
      const policy = result.eventType ? validator.piiFields.get(result.eventType as EventType) : undefined;
      const { rule, field, message } = result.violation;
      quarantined.push({
        eventId: result.eventId ?? null,
        eventType: result.eventType ?? null,
        rule,
        field,
        message,
        payload: truncate(JSON.stringify(redactForQuarantine(item.value, tokeniser, policy)) ?? 'null'),
      });
      report.push({ index, id: result.eventId ?? null, rule, field, message });
    });
    const batchId = meta.batchId ?? randomUUID();
    const committed = await writer.submit({
      batchId,
      sourceKind: meta.sourceKind,
      receivedAt: meta.receivedAt ?? new Date(),
      events,
      quarantined,
    });
    return {
      batch_id: batchId,
      accepted: committed.accepted,
      duplicates: committed.duplicateIds.length,
      quarantined: committed.quarantined,
      quarantined_events: report,
    };
  };
}

function truncate(text: string): string {
  return text.length <= MAX_QUARANTINE_PAYLOAD_CHARS
    ? text
    : `${text.slice(0, MAX_QUARANTINE_PAYLOAD_CHARS)}…[truncated]`;
}
