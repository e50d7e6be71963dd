import type { Dimension, KpiDefinition, Measure } from './catalogue.js';
import { refsOf } from './compile.js';
import {
  compileBucketRows,
  compileBucketedLive,
  TAIL,
  type LabelledSpan,
  type Span,
} from './live-bucket-sql.js';
import type { LiveWindows } from './live-compile.js';
import { LIVE_WINDOWS, windowAlias } from './live-compile.js';
import type { PreparedQueries, Row } from '../warehouse/index.js';
import {
  BUCKET_DATABASE,
  ChangedMinutes,
  ceilTo,
  floorTo,
  keepBuckets,
  type BucketTable,
} from './bucket-tables.js';

const MINUTE_MS = 60_000;

/**
 * The whole minutes of one measure, aggregated once per minute and group into an in-memory table,
 * so a refresh re-reads only the minutes its runs changed (late events included), the minutes
 * that closed since the last one and the part-minutes at the windows' edges; the windows then sum
 * at most 1,440 small rows per group instead of a day of records.
 *
 * What changed comes from the model runs (`note`): the minutes of the business times of every row
 * a run rewrote in the measure's tables, before and after, or "everything" after a full build.
 */
export class MinuteBuckets {
  readonly #table: string;
  readonly #kpi: KpiDefinition;
  readonly #measure: Measure;
  readonly #sql: string;
  readonly #dimensions: readonly Dimension[];
  readonly inputs: readonly string[];
  /** Whole minutes held: [from, to); undefined until built. */
  #held: Span | undefined;
  readonly #dirty = new ChangedMinutes();
  readonly #buckets: BucketTable;
  /** One refresh at a time: the delete, insert and read of a table must not interleave. */
  #busy: Promise<unknown> = Promise.resolve();

  constructor(
    table: string,
    kpi: KpiDefinition,
    measure: Measure,
    sql: string,
    dimensions: readonly Dimension[],
  ) {
    this.#table = `${BUCKET_DATABASE}.${table}`;
    this.#kpi = kpi;
    this.#measure = measure;
    this.#sql = sql;
    this.#dimensions = dimensions;
    this.inputs = refsOf(sql);
    this.#buckets = {
      table: this.#table,
      unit: MINUTE_MS,
      column: 'minute',
      rows: (spans) => compileBucketRows(kpi, measure, sql, dimensions, spans),
    };
  }

  /** A run changed these minutes of an input, or (`'all'`) rebuilt it. */
  note(minutes: readonly number[] | 'all'): void {
    this.#dirty.note(minutes);
  }

  /** The live rows of every window (the shape of `compileLiveMeasure`), with the buckets brought up to date. */
  rows(connection: PreparedQueries, windows: LiveWindows, now: Date): Promise<Row[]> {
    const next = this.#busy.then(() => this.#rows(connection, windows, now));
    this.#busy = next.catch(() => undefined);
    return next;
  }

  async #rows(connection: PreparedQueries, windows: LiveWindows, now: Date): Promise<Row[]> {
    const end = floorTo(now.getTime(), MINUTE_MS);
    const starts = LIVE_WINDOWS.map((name) => windows[name].from.getTime());
    const need = { from: Math.min(end, ...starts.map((start) => ceilTo(start, MINUTE_MS))), to: end };
    await this.#bringUpTo(connection, need);
    // Every window ends now and shares the part-minute since `end`, read once. Each has one span of
    // whole minutes and one part-minute at its start, empty ones included: the SQL text stays the
    // same from one refresh to the next, so its prepared statement does too.
    const tail = { label: TAIL, from: end, to: now.getTime() };
    const closed: LabelledSpan[] = [];
    const edges: LabelledSpan[] = [tail];
    const sharing: string[] = [];
    for (const name of LIVE_WINDOWS) {
      const label = windowAlias(name);
      const from = windows[name].from.getTime();
      if (from > end) {
        // Starts inside the current minute (a midnight off the minute): its own rows only.
        edges.push({ label, from, to: tail.to });
        closed.push({ label, from: end, to: end });
        continue;
      }
      const wholeFrom = Math.max(ceilTo(from, MINUTE_MS), need.from);
      edges.push({ label, from, to: Math.min(wholeFrom, end) });
      closed.push({ label, from: Math.min(wholeFrom, end), to: end });
      sharing.push(label);
    }
    const query = compileBucketedLive(
      this.#kpi,
      this.#measure,
      this.#sql,
      this.#dimensions,
      this.#table,
      closed,
      edges,
      sharing,
    );
    return connection.rows(query.sql, query.params);
  }

  /** Builds what is missing of `need`, rebuilds its changed minutes and forgets older ones. */
  async #bringUpTo(connection: PreparedQueries, need: Span): Promise<void> {
    try {
      this.#held = await keepBuckets(connection, this.#buckets, this.#held, need, this.#dirty.take());
    } catch (error) {
      // Everything again at the next refresh, whatever was held.
      this.#dirty.forgetAll();
      throw error;
    }
  }
}
