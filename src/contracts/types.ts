/** The event types of the producer-facing contracts (DESIGN.md §8). */
export const EVENT_TYPES = [
  'order.placed',
  'order.status_changed',
  'shipment.dispatched',
  'shipment.delivered',
  'return.initiated',
  'return.refunded',
  'session.started',
  'support_case.resolved',
  'inventory.snapshot',
  'product.upserted',
  'customer.upserted',
  'channel.upserted',
  'fx.rate',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** A CloudEvents 1.0 envelope in structured JSON mode. */
export interface CloudEvent<Data = Record<string, unknown>> {
  readonly specversion: '1.0';
  /** Unique per event: the dedupe key. */
  readonly id: string;
  readonly source: string;
  readonly type: EventType;
  /** RFC 3339 time the producer emitted the event. */
  readonly time?: string;
  /** Pins a contract version, e.g. `pulse://contracts/order.placed/1`. */
  readonly dataschema?: string;
  readonly datacontenttype?: string;
  readonly subject?: string;
  readonly data: Data;
}

/** Why an event failed its contract: the rule and the field, always both. */
export interface Violation {
  /** Stable rule id, e.g. `required`, `type`, `enum`, `format`, `money`, `unknown_type`, `json`. */
  readonly rule: string;
  /** Path of the offending field, e.g. `data.lines[0].quantity`, or `id`, or `(body)`. */
  readonly field: string;
  readonly message: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly event: CloudEvent }
  | {
      readonly ok: false;
      readonly violation: Violation;
      /** The envelope's id and type when they could be read, for the quarantine record. */
      readonly eventId?: string;
      readonly eventType?: string;
    };
