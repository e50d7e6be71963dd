import type { AvroCodec } from '../../contracts/avro.js';
import type { SourceItem } from '../types.js';

/** The content types a NATS message may carry (the `content-type` header; JSON when absent). */
export const NATS_JSON_TYPES = new Set(['application/cloudevents+json', 'application/json']);
export const NATS_AVRO_TYPES = new Set([
  'application/avro',
  'avro/binary',
  'application/vnd.apache.avro+binary',
]);

/** The header naming the event type of an Avro message (CloudEvents binary-mode attribute name). */
export const CE_TYPE_HEADER = 'ce-type';

/** How much of an undecodable message is kept in the quarantine, as text. */
const QUARANTINE_PREVIEW_BYTES = 1024;

export interface RawMessage {
  readonly data: Uint8Array;
  header(name: string): string | undefined;
}

/**
 * Turns one message into a source item. A message that cannot be read (not JSON, bad Avro, an
 * unknown content type) becomes an `unparseable` item: the pipeline quarantines it with the reason
 * and the message is then acknowledged, so a poison message never blocks the stream.
 */
export function messageToItem(message: RawMessage, avro: AvroCodec): SourceItem {
  const contentType = (message.header('content-type') ?? 'application/cloudevents+json')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (NATS_JSON_TYPES.has(contentType)) {
    const text = Buffer.from(message.data).toString('utf8');
    try {
      return { kind: 'value', value: JSON.parse(text) };
    } catch (error) {
      return {
        kind: 'unparseable',
        text,
        message: `the message is not valid JSON: ${(error as Error).message}`,
      };
    }
  }
  if (NATS_AVRO_TYPES.has(contentType)) {
    const type = message.header(CE_TYPE_HEADER);
    if (!type) {
      return unreadable(message, `an Avro message needs the ${CE_TYPE_HEADER} header naming its event type`);
    }
    try {
      return { kind: 'value', value: avro.decode(type, message.data) };
    } catch (error) {
      return unreadable(
        message,
        `the Avro message of type "${type}" does not decode: ${(error as Error).message}`,
      );
    }
  }
  return unreadable(
    message,
    `unsupported content type "${contentType}": send application/cloudevents+json or application/avro`,
  );
}

function unreadable(message: RawMessage, reason: string): SourceItem {
  const preview = Buffer.from(message.data.subarray(0, QUARANTINE_PREVIEW_BYTES)).toString('base64');
  return { kind: 'unparseable', text: `base64:${preview}`, message: reason };
}
