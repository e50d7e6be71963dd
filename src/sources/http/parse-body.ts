import { PulseError } from '../../errors.js';
import type { SourceItem } from '../types.js';

/** The media types `POST /v1/events` accepts, and how each is read. */
export const EVENT_MEDIA_TYPES = {
  'application/cloudevents+json': 'single',
  'application/cloudevents-batch+json': 'batch',
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
} as const;

export type EventMediaType = keyof typeof EVENT_MEDIA_TYPES;

/**
 * Turns a request body into the items of a batch. A body that is not JSON at all is refused as a
 * whole (400); in NDJSON, a line that does not parse is kept as an item of its own and quarantined,
 * so one bad line never costs the good ones.
 */
export function parseEventsBody(mediaType: EventMediaType, body: string, maxEvents: number): SourceItem[] {
  if (body.trim().length === 0) throw new PulseError('PULSE_ERR_EMPTY_BODY');
  const mode = EVENT_MEDIA_TYPES[mediaType];
  if (mode === 'ndjson') return parseNdjson(body, maxEvents);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new PulseError(
      'PULSE_ERR_MALFORMED_BODY',
      `The request body is not valid JSON: ${(error as Error).message}`,
      { field: '(body)' },
    );
  }
  if (Array.isArray(value)) {
    if (mode === 'single') {
      throw new PulseError(
        'PULSE_ERR_MALFORMED_BODY',
        'application/cloudevents+json carries one event (an object); send an array as application/cloudevents-batch+json',
        { field: '(body)' },
      );
    }
    if (value.length === 0) throw new PulseError('PULSE_ERR_EMPTY_BODY', 'The batch is empty');
    if (value.length > maxEvents)
      throw new PulseError(
        'PULSE_ERR_BATCH_TOO_LARGE',
        `The batch has ${value.length} events; the limit is ${maxEvents}`,
        { field: '(body)' },
      );
    return value.map((item: unknown) => ({ kind: 'value', value: item }));
  }
  if (mode === 'batch') throw new PulseError('PULSE_ERR_BATCH_NOT_ARRAY', undefined, { field: '(body)' });
  return [{ kind: 'value', value }];
}

function parseNdjson(body: string, maxEvents: number): SourceItem[] {
  const items: SourceItem[] = [];
  let start = 0;
  let line = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    line += 1;
    const text = body.slice(start, end).trim();
    start = end + 1;
    if (text.length === 0) continue;
    if (items.length >= maxEvents) {
      throw new PulseError(
        'PULSE_ERR_BATCH_TOO_LARGE',
        `The batch has more than ${maxEvents} events; the limit is ${maxEvents}`,
        { field: '(body)' },
      );
    }
    try {
      items.push({ kind: 'value', value: JSON.parse(text) });
    } catch (error) {
      items.push({
        kind: 'unparseable',
        text,
        message: `line ${line} is not valid JSON: ${(error as Error).message}`,
      });
    }
  }
  if (items.length === 0) throw new PulseError('PULSE_ERR_EMPTY_BODY');
  return items;
}
