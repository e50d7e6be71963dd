import type { DeliveryReceipt } from '../types.js';

/** Why an event of a file was quarantined: the event id, and the rule and field it failed. */
export interface QuarantineReason {
  readonly id: string | null;
  readonly rule: string;
  readonly field: string;
  readonly message: string;
}

/** The JSON report written next to a file once it has moved to done/ or failed/. */
export interface FileReport {
  readonly file: string;
  readonly status: 'done' | 'failed';
  readonly format: string;
  readonly mapping: string | null;
  /** Rows (CSV, Parquet) or lines (JSONL) read from the file. */
  readonly rows_read: number;
  /** Events made from them (an order of several rows is one event). */
  readonly events: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly quarantined: number;
  /** How many events failed each rule, by `rule field`. */
  readonly quarantined_by_reason: Readonly<Record<string, number>>;
  /** The first quarantined events, each with its reason. */
  readonly quarantined_events: readonly QuarantineReason[];
  readonly error: { readonly code: string; readonly message: string; readonly field?: string } | null;
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
  /** Rows read per second over the whole file. */
  readonly rows_per_second: number;
}

export const MAX_REPORTED_QUARANTINED = 1000;

/** Adds up the receipts of a file's batches as they commit. */
export class ReportTally {
  accepted = 0;
  duplicates = 0;
  quarantined = 0;
  events = 0;
  readonly byReason: Record<string, number> = {};
  readonly reasons: QuarantineReason[] = [];

  add(receipt: DeliveryReceipt, delivered: number): void {
    this.events += delivered;
    this.accepted += receipt.accepted;
    this.duplicates += receipt.duplicates;
    this.quarantined += receipt.quarantined;
    for (const q of receipt.quarantined_events) {
      const key = `${q.rule} ${q.field}`;
      this.byReason[key] = (this.byReason[key] ?? 0) + 1;
      if (this.reasons.length < MAX_REPORTED_QUARANTINED)
        this.reasons.push({ id: q.id, rule: q.rule, field: q.field, message: q.message });
    }
  }
}
