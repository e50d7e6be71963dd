import { randomUUID } from 'node:crypto';
import { jetstream, type PubAck } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { ContractValidator } from '../contracts/index.js';
import { PulseError } from '../errors.js';
import type { Deliver, SourceQuarantined } from '../sources/index.js';

export interface PublisherOptions {
  readonly subjectPrefix: string;
  readonly publishTimeoutMs: number;
  /** False while the connection to NATS is down: producers are answered 503 at once. */
  readonly connected: () => boolean;
}

/** The subject of events that failed their contract: they travel on so the worker quarantines them. */
export const INVALID_SUBJECT_SUFFIX = 'invalid';

/**
 * The gateway's `deliver`: checks each event against its contract (to answer the producer with the
 * same receipt `pulse start` gives), then publishes every item, valid or not, to JetStream and
 * resolves only once JetStream has acknowledged every publish, i.e. once the events are durable in
 * the stream. Invalid items are published too, so the worker quarantines them in the warehouse
 * with the same reason. It does not tokenise: the worker is the one place that holds the token key.
 */
export function createPublisher(
  nc: NatsConnection,
  validator: ContractValidator,
  options: PublisherOptions,
): Deliver {
  const js = jetstream(nc, { timeout: options.publishTimeoutMs });
  const jsonHeaders = () => {
    const h = headers();
    h.set('content-type', 'application/cloudevents+json');
    return h;
  };
  return async (items, meta) => {
    if (!options.connected()) {
      throw new PulseError(
        'PULSE_ERR_STREAM_UNAVAILABLE',
        'The gateway is not connected to NATS: retry later',
      );
    }
    const report: SourceQuarantined[] = [];
    const publishes: Promise<PubAck>[] = [];
    let valid = 0;
    items.forEach((item, index) => {
      if (item.kind === 'unparseable') {
        report.push({ index, id: null, rule: 'json', field: '(event)', message: item.message });
        publishes.push(
          js.publish(`${options.subjectPrefix}.${INVALID_SUBJECT_SUFFIX}`, item.text, {
            headers: jsonHeaders(),
          }),
        );
        return;
      }
      const result = validator.validate(item.value);
      const payload = JSON.stringify(item.value);
      if (result.ok) {
        valid += 1;
        // The event id as message id: a producer's retry within the stream's duplicate window is
        // dropped by JetStream itself; later ones by the warehouse.
        publishes.push(
          js.publish(`${options.subjectPrefix}.${result.event.type}`, payload, {
            headers: jsonHeaders(),
            msgID: result.event.id,
          }),
        );
        return;
      }
      const { rule, field, message } = result.violation;
      report.push({ index, id: result.eventId ?? null, rule, field, message });
      publishes.push(
        js.publish(`${options.subjectPrefix}.${INVALID_SUBJECT_SUFFIX}`, payload, { headers: jsonHeaders() }),
      );
    });
    let acks: PubAck[];
    try {
      acks = await Promise.all(publishes);
    } catch (error) {
      // Some events may be in the stream already: the producer's retry is then only a duplicate.
      throw new PulseError('PULSE_ERR_STREAM_UNAVAILABLE', undefined, { cause: error });
    }
    const duplicates = acks.filter((ack, index) => ack.duplicate && !isInvalid(report, index)).length;
    return {
      batch_id: meta.batchId ?? randomUUID(),
      accepted: valid - duplicates,
      duplicates,
      quarantined: report.length,
      quarantined_events: report,
    };
  };
}

function isInvalid(report: readonly SourceQuarantined[], index: number): boolean {
  return report.some((entry) => entry.index === index);
}
