import type { ContractValidator, EventType } from '../contracts/index.js';
import { protectData, redactForQuarantine, redactText, type Tokeniser } from '../privacy/index.js';
import type { SourceItem, SourceQuarantined } from '../sources/index.js';
import type { QuarantineRecord, StagedEvent } from './bronze-writer.js';
import { eventKeysOf } from './event-keys.js';

/** A batch checked and protected, ready for one commit: pure data, so it can cross a worker boundary. */
export interface PreparedBatch {
  readonly events: StagedEvent[];
  /** The events' dedupe keys (`eventKeysOf` of their ids), hashed here rather than on the thread that commits. */
  readonly keys: Uint32Array;
  readonly quarantined: QuarantineRecord[];
  readonly report: SourceQuarantined[];
}

/** Caps what one quarantined payload may occupy, so a hostile 10 MB field cannot bloat the table. */
const MAX_QUARANTINE_PAYLOAD_CHARS = 64 * 1024;

/**
 * Checks every item against its contract and strips personal data: valid events become bronze
 * rows, the others quarantine records with the rule and field that failed. No I/O.
 */
export function prepareItems(
  items: readonly SourceItem[],
  validator: ContractValidator,
  tokeniser: Tokeniser,
): PreparedBatch {
  const events: StagedEvent[] = [];
  const quarantined: QuarantineRecord[] = [];
  const report: SourceQuarantined[] = [];
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
  return { events, keys: eventKeysOf(events.map((event) => event.id)), quarantined, report };
}

function truncate(text: string): string {
  return text.length <= MAX_QUARANTINE_PAYLOAD_CHARS
    ? text
    : `${text.slice(0, MAX_QUARANTINE_PAYLOAD_CHARS)}…[truncated]`;
}
