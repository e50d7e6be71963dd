import type { SpanContext } from '@opentelemetry/api';
import type { EventMediaType } from './http/parse-body.js';

/** One item a source delivers: a parsed JSON value, or a piece of text that would not parse. */
export type SourceItem =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'unparseable'; readonly text: string; readonly message: string };

export interface SourceQuarantined {
  readonly index: number;
  readonly id: string | null;
  readonly rule: string;
  readonly field: string;
  readonly message: string;
}

/** What the pipeline answers for a delivered batch, once it is committed. */
export interface DeliveryReceipt {
  readonly batch_id: string;
  readonly accepted: number;
  readonly duplicates: number;
  readonly quarantined: number;
  readonly quarantined_events: readonly SourceQuarantined[];
}

export interface DeliveryMeta {
  /** Which source delivered the batch: `http`, `files`, `nats`, `demo`. */
  readonly sourceKind: string;
  readonly receivedAt?: Date;
  readonly batchId?: string;
  /** The request's correlation id (x-request-id), carried into the commit and the model run. */
  readonly correlationId?: string;
  /** The ingest span, parent of the commit span. */
  readonly trace?: SpanContext;
}

/**
 * How a source hands a batch to the pipeline: the promise settles only after the batch is
 * committed, so a source acknowledges upstream (HTTP 2xx, NATS ack) only then.
 */
export type Deliver = (items: readonly SourceItem[], meta: DeliveryMeta) => Promise<DeliveryReceipt>;

/** How the HTTP source hands over a raw body: parsed where the events are checked (off the main thread). */
export type DeliverBody = (
  mediaType: EventMediaType,
  text: string,
  maxEvents: number,
  meta: DeliveryMeta,
) => Promise<DeliveryReceipt>;

/**
 * A running source of events (http, files, nats): it hands batches to `deliver` and acknowledges them
 * upstream (HTTP 2xx, NATS ack, a file moved to done/) only once `deliver` has resolved, i.e. after the
 * commit, so a crash at any moment loses nothing acknowledged and a redelivery is only a duplicate.
 */
export interface Source {
  /** `http`, `files`, `nats`: the `sourceKind` of every batch it delivers. */
  readonly kind: string;
  /** Begins reading; resolves once the source is listening or consuming. */
  start(deliver: Deliver): Promise<void>;
  /** Stops taking new input and waits for batches in flight to be committed and acknowledged. */
  stop(): Promise<void>;
}
