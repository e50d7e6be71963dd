import type { SpanContext } from '@opentelemetry/api';
import {
  BIGINT,
  DuckDBDataChunk,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBConnection,
} from '@duckdb/node-api';
import { PulseError } from '../errors.js';
import { JsonInsert, type JsonCell, type JsonColumn } from './json-insert.js';
import { EventKeySet, eventKeysOf, loadEventKeys, WORDS_PER_KEY } from './event-keys.js';

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
  /** The events' keys (`eventKeysOf` of their ids) when the caller hashed them already, as a prepare worker does. */
  readonly keys?: Uint32Array;
  readonly quarantined: readonly QuarantineRecord[];
  /** Who asked (the request's correlation id, else the batch id): logged by the run it triggers. */
  readonly correlationId?: string;
  readonly trace?: SpanContext;
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
  /** The requests of the group, in commit order. */
  readonly requests: readonly { readonly correlationId: string; readonly trace?: SpanContext }[];
}

interface Pending {
  readonly request: CommitRequest;
  readonly resolve: (result: CommitResult) => void;
  readonly reject: (error: unknown) => void;
}

const STAGING_TABLE = 'bronze_staging';
const BRONZE_COLUMNS = `md5_number(event_id), ingest_seq, event_id, event_type, source, event_time::TIMESTAMPTZ,
  make_timestamp(ingested_at * 1000)::TIMESTAMPTZ, batch_id, data`;

/**
 * Appends to bronze with a durable group commit: requests that arrive while a commit is running are
 * coalesced into the next transaction, and each caller's promise settles only after that
 * transaction commits. Deduplication by event id is against the keys of every stored event, held
 * in memory (EventKeySet, read from bronze before the first commit; see loadKeys): a resent event
 * is counted as a duplicate and never stored twice. The writer is the only one to insert into
 * bronze, so the set and the table agree: a group's keys join the set once its transaction has
 * committed.
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
  #lastFailure: Error | undefined;
  /** The stored events' keys, read on the first commit or by `loadKeys`. */
  #keys: EventKeySet | undefined;
  #loadingKeys: Promise<EventKeySet> | undefined;
  /** Small groups' inserts, prepared on first use (see JsonInsert.fits). */
  readonly #stagingJson: JsonInsert;
  readonly #quarantineJson: JsonInsert;

  private constructor(connection: DuckDBConnection, maxGroupEvents: number, maxQueuedEvents: number) {
    this.#connection = connection;
    this.#maxGroupEvents = maxGroupEvents;
    this.#maxQueuedEvents = maxQueuedEvents;
    this.#stagingJson = new JsonInsert(connection, STAGING_TABLE, STAGING_JSON);
    this.#quarantineJson = new JsonInsert(connection, 'quarantine', QUARANTINE_JSON);
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
      `CREATE OR REPLACE TEMP TABLE ${STAGING_TABLE} (ingest_seq BIGINT, event_id VARCHAR, event_type VARCHAR,
         source VARCHAR, event_time VARCHAR, ingested_at BIGINT, batch_id VARCHAR, data VARCHAR)`,
    );
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

  /** The error of the last commit when it failed (disk full, file read-only…); cleared by a success. */
  get lastFailure(): Error | undefined {
    return this.#lastFailure;
  }

  /**
   * Reads the stored events' keys now rather than at the first commit (which waits for them): a
   * serving process calls it before it accepts events, alone on the connection. Commands that
   * never ingest (backfill, run) never read them.
   */
  async loadKeys(): Promise<void> {
    if (this.#keys) return;
    this.#loadingKeys ??= loadEventKeys(this.#connection).finally(() => {
      this.#loadingKeys = undefined;
    });
    this.#keys = await this.#loadingKeys;
  }

  /** Events stored in bronze, each once (0 until the keys are read). */
  get storedEvents(): number {
    return this.#keys?.size ?? 0;
  }

  /** Bytes of memory the keys of the stored events take (0 until they are read). */
  get keyBytes(): number {
    return this.#keys?.bytes ?? 0;
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
    if (request.keys && request.keys.length !== request.events.length * WORDS_PER_KEY) {
      return Promise.reject(
        new Error(
          `bronze writer: ${request.events.length} events but ${request.keys.length / WORDS_PER_KEY} keys`,
        ),
      );
    }
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
          this.#lastFailure = undefined;
          group.forEach((pending, i) => pending.resolve(results[i] as CommitResult));
          this.#onCommit?.({
            lastSeq: this.lastSeq,
            events: size,
            oldestReceivedAt: group.reduce(
              (oldest, p) => (p.request.receivedAt < oldest ? p.request.receivedAt : oldest),
              new Date(8.64e15),
            ),
            durationMs: performance.now() - started,
            requests: group.map(({ request }) => ({
              correlationId: request.correlationId ?? request.batchId,
              ...(request.trace ? { trace: request.trace } : {}),
            })),
          });
        } catch (error) {
          this.#queuedEvents -= size;
          this.#lastFailure = error instanceof Error ? error : new Error(String(error));
          // Nothing of the group was stored: the callers answer 503 and the producers retry.
          const unavailable = new PulseError(
            'PULSE_ERR_UNAVAILABLE',
            'The warehouse could not commit the batch; nothing of it was stored',
            {
              details: { retry_after_s: 5 },
              cause: this.#lastFailure,
            },
          );
          for (const pending of group) pending.reject(unavailable);
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
    await this.loadKeys();
    const keys = this.#keys as EventKeySet;
    const groupEvents = requests.reduce((n, request) => n + request.events.length, 0);
    // The keys of the events this group stores, which finds ids repeated within the group: they
    // join the stored events' set once the group has committed.
    const stored = new EventKeySet(groupEvents, GROUP_SET_MIN_CAPACITY);
    const accepted = requests.map(() => 0);
    const duplicateIds: string[][] = requests.map(() => []);
    const rows = new StagingColumns();
    const seqBefore = this.#nextSeq;
    const quarantineBefore = this.#nextQuarantineId;
    const quarantine = new QuarantineColumns();
    requests.forEach((request, i) => {
      const receivedAt = BigInt(request.receivedAt.getTime());
      const requestKeys = request.keys ?? eventKeysOf(request.events.map((event) => event.id));
      request.events.forEach((event, e) => {
        if (keys.hasAt(requestKeys, e) || !stored.addAt(requestKeys, e)) {
          duplicateIds[i]?.push(event.id);
          return;
        }
        accepted[i] = (accepted[i] ?? 0) + 1;
        rows.push(this.#nextSeq++, event, receivedAt, request.batchId);
      });
      for (const record of request.quarantined) quarantine.push(this.#nextQuarantineId++, record, request);
    });
    await connection.run('BEGIN TRANSACTION');
    try {
      await insertColumns(quarantine, this.#quarantineJson, () => connection.createAppender('quarantine'));
      await insertColumns(rows, this.#stagingJson, () =>
        connection.createAppender(STAGING_TABLE, 'main', 'temp'),
      );
      if (rows.length > 0) {
        // The storage order within one group does not matter: zone maps see a group's sequence range.
        await connection.run(`INSERT INTO bronze_events SELECT ${BRONZE_COLUMNS} FROM ${STAGING_TABLE}`);
        await connection.run(`DELETE FROM ${STAGING_TABLE}`);
      }
      await connection.run('COMMIT');
    } catch (error) {
      this.#nextSeq = seqBefore;
      this.#nextQuarantineId = quarantineBefore;
      await connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
    keys.addAll(stored);
    return requests.map((request, i) => ({
      accepted: accepted[i] ?? 0,
      duplicateIds: duplicateIds[i] ?? [],
      quarantined: request.quarantined.length,
      lastSeq: this.lastSeq,
    }));
  }
}

/** A group's set of keys starts this small (slots), not at the stored events' set's minimum. */
const GROUP_SET_MIN_CAPACITY = 64;

const STAGING_TYPES = [BIGINT, VARCHAR, VARCHAR, VARCHAR, VARCHAR, BIGINT, VARCHAR, VARCHAR];
/** The staging columns as a small group's JSON text names them, in STAGING_TYPES' order. */
const STAGING_JSON: readonly JsonColumn[] = [
  { name: 'seq', type: 'BIGINT' },
  { name: 'id', type: 'VARCHAR' },
  { name: 'type', type: 'VARCHAR' },
  { name: 'source', type: 'VARCHAR' },
  { name: 'time', type: 'VARCHAR' },
  { name: 'received', type: 'BIGINT' },
  { name: 'batch', type: 'VARCHAR' },
  { name: 'data', type: 'VARCHAR' },
];
/** The quarantine table's columns, in its order. */
const QUARANTINE_JSON: readonly JsonColumn[] = [
  { name: 'id', type: 'BIGINT' },
  { name: 'received', type: 'TIMESTAMPTZ' },
  { name: 'batch', type: 'VARCHAR' },
  { name: 'source_kind', type: 'VARCHAR' },
  { name: 'event_id', type: 'VARCHAR' },
  { name: 'event_type', type: 'VARCHAR' },
  { name: 'rule', type: 'VARCHAR' },
  { name: 'field', type: 'VARCHAR' },
  { name: 'message', type: 'VARCHAR' },
  { name: 'payload', type: 'VARCHAR' },
];
/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

/**
 * The staged rows of one commit, column by column, appended as data chunks: the fastest bulk path
 * of the DuckDB Node API (about twice the row-by-row appender).
 */
class StagingColumns {
  readonly #columns: JsonCell[][] = STAGING_TYPES.map(() => []);

  get length(): number {
    return this.#columns[0]?.length ?? 0;
  }

  /** Column by column, in STAGING_TYPES' order. */
  get columns(): readonly (readonly JsonCell[])[] {
    return this.#columns;
  }

  push(seq: bigint, event: StagedEvent, receivedAt: bigint, batchId: string): void {
    const [seqs, ids, types, sources, times, received, batches, data] = this.#columns as [
      JsonCell[],
      JsonCell[],
      JsonCell[],
      JsonCell[],
      JsonCell[],
      JsonCell[],
      JsonCell[],
      JsonCell[],
    ];
    seqs.push(seq);
    ids.push(event.id);
    types.push(event.type);
    sources.push(event.source);
    times.push(event.time);
    received.push(receivedAt);
    batches.push(batchId);
    data.push(event.data);
  }

  appendTo(appender: DuckDBAppender): void {
    for (let start = 0; start < this.length; start += CHUNK_ROWS) {
      const end = Math.min(start + CHUNK_ROWS, this.length);
      const chunk = DuckDBDataChunk.create(STAGING_TYPES, end - start);
      chunk.setColumns(this.#columns.map((column) => column.slice(start, end)));
      appender.appendDataChunk(chunk);
    }
  }
}

/** The quarantine rows of one commit, column by column in the table's order. */
class QuarantineColumns {
  readonly columns: JsonCell[][] = QUARANTINE_JSON.map(() => []);

  get length(): number {
    return this.columns[0]?.length ?? 0;
  }

  push(id: bigint, record: QuarantineRecord, request: CommitRequest): void {
    const values: JsonCell[] = [
      id,
      request.receivedAt.toISOString(),
      request.batchId,
      request.sourceKind,
      record.eventId,
      record.eventType,
      record.rule,
      record.field,
      record.message,
      record.payload,
    ];
    values.forEach((value, i) => this.columns[i]?.push(value));
  }

  appendTo(appender: DuckDBAppender): void {
    for (let row = 0; row < this.length; row += 1) {
      for (const [i, column] of this.columns.entries()) {
        const value = column[row];
        if (value === null || value === undefined) appender.appendNull();
        else if (QUARANTINE_JSON[i]?.type === 'BIGINT') appender.appendBigInt(BigInt(value));
        else appender.appendVarchar(String(value));
      }
      appender.endRow();
    }
  }
}

/** One commit's rows of one table, column by column, that can also be appended row by row. */
interface Columns {
  readonly length: number;
  readonly columns: readonly (readonly JsonCell[])[];
  appendTo(appender: DuckDBAppender): void;
}

/**
 * Inserts the rows as one JSON text when they fit it; otherwise through an appender, which flushes
 * on the calling thread, the event loop (see JSON_INSERT_MAX_ROWS).
 */
async function insertColumns(
  rows: Columns,
  json: JsonInsert,
  createAppender: () => Promise<DuckDBAppender>,
): Promise<void> {
  if (rows.length === 0) return;
  if (JsonInsert.fits(rows.columns)) {
    await json.insert(rows.columns);
    return;
  }
  const appender = await createAppender();
  rows.appendTo(appender);
  appender.closeSync();
}
