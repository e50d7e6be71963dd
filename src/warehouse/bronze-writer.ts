import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { PulseError } from '../errors.js';

/** An event that passed its contract and privacy, ready for bronze. */
export interface StagedEvent {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly time: string | null;
  /** The protected `data`, as JSON text. */
  readonly data: string;
}

/** An event that failed its contract, kept with the reason (payload already redacted). */
export interface QuarantineRecord {
  readonly eventId: string | null;
  readonly eventType: string | null;
  readonly rule: string;
  readonly field: string;
  readonly message: string;
  readonly payload: string;
}

export interface CommitRequest {
  readonly batchId: string;
  readonly sourceKind: string;
  readonly receivedAt: Date;
  readonly events: readonly StagedEvent[];
  readonly quarantined: readonly QuarantineRecord[];
}

export interface CommitResult {
  readonly accepted: number;
  /** Ids that were already stored, or repeated earlier in the same commit group. */
  readonly duplicateIds: readonly string[];
  readonly quarantined: number;
  /** The highest ingest sequence in the warehouse after this commit. */
  readonly lastSeq: bigint;
}

/** What the writer reports after each group commit. */
export interface CommitInfo {
  readonly lastSeq: bigint;
  readonly events: number;
  /** When the oldest request of the group was received: its ingest-to-commit time is the group's worst. */
  readonly oldestReceivedAt: Date;
  readonly durationMs: number;
}

interface Pending {
  readonly request: CommitRequest;
  readonly resolve: (result: CommitResult) => void;
  readonly reject: (error: unknown) => void;
}

const STAGING_TABLE = 'bronze_staging';

/**
 * Appends to bronze with a durable group commit: requests that arrive while a commit is running are
 * coalesced into the next transaction, and each caller's promise settles only after that
 * transaction commits. Deduplication by event id happens inside the same transaction, against the
 * primary key, so a resent event is counted as a duplicate and never stored twice.
 */
export class BronzeWriter {
  readonly #connection: DuckDBConnection;
  readonly #maxGroupEvents: number;
  readonly #maxQueuedEvents: number;
  #queue: Pending[] = [];
  #queuedEvents = 0;
  #draining = false;
  #nextSeq = 0n;
  #nextQuarantineId = 0n;
  #onCommit: ((info: CommitInfo) => void) | undefined;

  private constructor(connection: DuckDBConnection, maxGroupEvents: number, maxQueuedEvents: number) {
    this.#connection = connection;
    this.#maxGroupEvents = maxGroupEvents;
    this.#maxQueuedEvents = maxQueuedEvents;
  }

  /**
   * `maxGroupEvents` caps one transaction; `maxQueuedEvents` caps what may wait for a commit:
   * past it, `submit` refuses (the HTTP source answers 503 with Retry-After), so memory stays bounded.
   */
  static async open(
    connection: DuckDBConnection,
    options: { maxGroupEvents?: number; maxQueuedEvents?: number } = {},
  ): Promise<BronzeWriter> {
    const writer = new BronzeWriter(
      connection,
      options.maxGroupEvents ?? 50_000,
      options.maxQueuedEvents ?? 200_000,
    );
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE ${STAGING_TABLE} AS SELECT * FROM bronze_events LIMIT 0`,
    );
    await connection.run(`ALTER TABLE ${STAGING_TABLE} ALTER event_time TYPE VARCHAR`);
    await connection.run(`ALTER TABLE ${STAGING_TABLE} ALTER ingested_at TYPE BIGINT`);
    const reader = await connection.runAndReadAll(
      `SELECT coalesce((SELECT max(ingest_seq) FROM bronze_events), 0)::VARCHAR AS seq,
              coalesce((SELECT max(quarantine_id) FROM quarantine), 0)::VARCHAR AS qid`,
    );
    const row = reader.getRowObjectsJson()[0];
    writer.#nextSeq = BigInt(String(row?.seq ?? '0')) + 1n;
    writer.#nextQuarantineId = BigInt(String(row?.qid ?? '0')) + 1n;
    return writer;
  }

  /** The highest ingest sequence committed so far. */
  get lastSeq(): bigint {
    return this.#nextSeq - 1n;
  }

  /** Events waiting for a commit. */
  get queuedEvents(): number {
    return this.#queuedEvents;
  }

  /** Called after every successful commit (the refresh loop listens here). */
  onCommit(listener: (info: CommitInfo) => void): void {
    this.#onCommit = listener;
  }

  submit(request: CommitRequest): Promise<CommitResult> {
    const size = request.events.length + request.quarantined.length;
    if (this.#queuedEvents > 0 && this.#queuedEvents + size > this.#maxQueuedEvents) {
      return Promise.reject(
        new PulseError('PULSE_ERR_OVERLOADED', undefined, {
          details: { queued_events: this.#queuedEvents, retry_after_s: 1 },
        }),
      );
    }
    this.#queuedEvents += size;
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  /** Resolves when every submitted request has been committed or failed. */
  async drained(): Promise<void> {
    while (this.#draining || this.#queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#takeGroup();
        const size = group.reduce((n, p) => n + p.request.events.length + p.request.quarantined.length, 0);
        const started = performance.now();
        try {
          const results = await this.#commitGroup(group.map((p) => p.request));
          this.#queuedEvents -= size;
          group.forEach((pending, i) => pending.resolve(results[i] as CommitResult));
          this.#onCommit?.({
            lastSeq: this.lastSeq,
            events: size,
            oldestReceivedAt: group.reduce(
              (oldest, p) => (p.request.receivedAt < oldest ? p.request.receivedAt : oldest),
              new Date(8.64e15),
            ),
            durationMs: performance.now() - started,
          });
        } catch (error) {
          this.#queuedEvents -= size;
          for (const pending of group) pending.reject(error);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #takeGroup(): Pending[] {
    let events = 0;
    let count = 0;
    for (const pending of this.#queue) {
      if (count > 0 && events + pending.request.events.length > this.#maxGroupEvents) break;
      events += pending.request.events.length;
      count += 1;
    }
    return this.#queue.splice(0, count);
  }

  async #commitGroup(requests: readonly CommitRequest[]): Promise<CommitResult[]> {
    const connection = this.#connection;
    const seen = new Set<string>();
    const staged: string[][] = requests.map(() => []);
    const repeated: string[][] = requests.map(() => []);
    const seqBefore = this.#nextSeq;
    const quarantineBefore = this.#nextQuarantineId;
    await connection.run('BEGIN TRANSACTION');
    try {
      const staging = await connection.createAppender(STAGING_TABLE, 'main', 'temp');
      const quarantine = await connection.createAppender('quarantine');
      requests.forEach((request, i) => {
        for (const event of request.events) {
          if (seen.has(event.id)) {
            repeated[i]?.push(event.id);
            continue;
          }
          seen.add(event.id);
          staged[i]?.push(event.id);
          appendStaged(staging, this.#nextSeq++, event, request);
        }
        for (const record of request.quarantined) {
          appendQuarantine(quarantine, this.#nextQuarantineId++, record, request);
        }
      });
      staging.closeSync();
      quarantine.closeSync();
      const inserted = await connection.runAndReadAll(
        `INSERT INTO bronze_events
           SELECT ingest_seq, event_id, event_type, source, event_time::TIMESTAMPTZ,
                  make_timestamp(ingested_at * 1000)::TIMESTAMPTZ, batch_id, data
           FROM ${STAGING_TABLE} ORDER BY ingest_seq
         ON CONFLICT DO NOTHING RETURNING event_id`,
      );
      const stored = new Set(inserted.getRows().map((row) => String(row[0])));
      await connection.run(`DELETE FROM ${STAGING_TABLE}`);
      await connection.run('COMMIT');
      return requests.map((request, i) => {
        const ids = staged[i] ?? [];
        const newIds = ids.filter((id) => stored.has(id));
        const duplicateIds = [...(repeated[i] ?? []), ...ids.filter((id) => !stored.has(id))];
        return {
          accepted: newIds.length,
          duplicateIds,
          quarantined: request.quarantined.length,
          lastSeq: this.lastSeq,
        };
      });
    } catch (error) {
      this.#nextSeq = seqBefore;
      this.#nextQuarantineId = quarantineBefore;
      await connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

function appendStaged(
  appender: DuckDBAppender,
  seq: bigint,
  event: StagedEvent,
  request: CommitRequest,
): void {
  appender.appendBigInt(seq);
  appender.appendVarchar(event.id);
  appender.appendVarchar(event.type);
  appender.appendVarchar(event.source);
  if (event.time === null) appender.appendNull();
  else appender.appendVarchar(event.time);
  appender.appendBigInt(BigInt(request.receivedAt.getTime()));
  appender.appendVarchar(request.batchId);
  appender.appendVarchar(event.data);
  appender.endRow();
}

function appendQuarantine(
  appender: DuckDBAppender,
  id: bigint,
  record: QuarantineRecord,
  request: CommitRequest,
): void {
  appender.appendBigInt(id);
  appender.appendVarchar(request.receivedAt.toISOString());
  appender.appendVarchar(request.batchId);
  appender.appendVarchar(request.sourceKind);
  for (const value of [record.eventId, record.eventType]) {
    if (value === null) appender.appendNull();
    else appender.appendVarchar(value);
  }
  appender.appendVarchar(record.rule);
  appender.appendVarchar(record.field);
  appender.appendVarchar(record.message);
  appender.appendVarchar(record.payload);
  appender.endRow();
}
