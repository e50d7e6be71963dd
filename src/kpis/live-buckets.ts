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

const MINUTE_MS = 60_000;
/** Rebuilds at most this many separate spans of minutes; closer ones merge (rebuilding more is exact too). */
const MAX_REBUILD_SPANS = 8;

export const BUCKET_DATABASE = 'pulse_live';

const floorMinute = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;
const ceilMinute = (ms: number): number => Math.ceil(ms / MINUTE_MS) * MINUTE_MS;

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
  /** Minutes the runs changed since the last refresh took them; 'all' after a full build. */
  #dirty: Set<number> | 'all' = 'all';
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
  }

  /** A run changed these minutes of an input, or (`'all'`) rebuilt it. */
  note(minutes: readonly number[] | 'all'): void {
    if (minutes === 'all') this.#dirty = 'all';
    else if (this.#dirty !== 'all') for (const minute of minutes) this.#dirty.add(minute);
  }

  /** The live rows of every window (the shape of `compileLiveMeasure`), with the buckets brought up to date. */
  rows(connection: PreparedQueries, windows: LiveWindows, now: Date): Promise<Row[]> {
    const next = this.#busy.then(() => this.#rows(connection, windows, now));
    this.#busy = next.catch(() => undefined);
    return next;
  }

  async #rows(connection: PreparedQueries, windows: LiveWindows, now: Date): Promise<Row[]> {
    const end = floorMinute(now.getTime());
    const starts = LIVE_WINDOWS.map((name) => windows[name].from.getTime());
    const need = { from: Math.min(end, ...starts.map(ceilMinute)), to: end };
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
      const wholeFrom = Math.max(ceilMinute(from), need.from);
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
    const held = this.#held;
    // Taken before reading: a run that commits from now on is noted again for the next refresh.
    const dirty = this.#dirty;
    this.#dirty = new Set();
    try {
      if (dirty === 'all' || !held || need.from >= held.to || need.from < held.from) {
        // Nothing held that is still needed (or a window reaches further back): build it all.
        this.#held = undefined;
        await connection.rows(`ATTACH IF NOT EXISTS ':memory:' AS ${BUCKET_DATABASE}`);
        const query = compileBucketRows(this.#kpi, this.#measure, this.#sql, this.#dimensions, [need]);
        await connection.rows(`CREATE OR REPLACE TABLE ${this.#table} AS ${query.sql}`, query.params);
        this.#held = need;
        return;
      }
      const minutes = [...dirty].filter((m) => m >= need.from && m < held.to);
      const spans = minutes.map((m) => ({ from: m, to: m + MINUTE_MS }));
      if (held.to < need.to) spans.push({ from: held.to, to: need.to });
      const rebuild = padSpans(capSpans(mergeSpans(spans)));
      if (held.from < need.from || rebuild.length > 0) {
        const params: Record<string, string> = { evict: new Date(need.from).toISOString() };
        const where = rebuild.map((span, i) => {
          params[`f${i}`] = new Date(span.from).toISOString();
          params[`t${i}`] = new Date(span.to).toISOString();
          return ` OR (minute >= $f${i}::TIMESTAMPTZ AND minute < $t${i}::TIMESTAMPTZ)`;
        });
        await connection.rows(
          `DELETE FROM ${this.#table} WHERE minute < $evict::TIMESTAMPTZ${where.join('')}`,
          params,
        );
      }
      if (rebuild.length > 0) {
        const query = compileBucketRows(this.#kpi, this.#measure, this.#sql, this.#dimensions, rebuild);
        await connection.rows(`INSERT INTO ${this.#table} ${query.sql}`, query.params);
      }
      this.#held = { from: need.from, to: Math.max(need.to, held.to) };
    } catch (error) {
      // Half applied: build again from the rows at the next refresh.
      this.#held = undefined;
      this.#dirty = 'all';
      throw error;
    }
  }
}

/**
 * Padded with empty spans to 1, 2, 4 or 8: a refresh's SQL then takes one of four texts, and the
 * prepared statements stay few (each holds a plan).
 */
export function padSpans(spans: readonly Span[]): Span[] {
  if (spans.length === 0) return [];
  let size = 1;
  while (size < spans.length) size *= 2;
  const last = spans[spans.length - 1] as Span;
  return [...spans, ...Array.from({ length: size - spans.length }, () => ({ from: last.to, to: last.to }))];
}

/** Sorted spans with touching or overlapping ones joined. */
export function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.from - b.from);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged[merged.length - 1];
    if (last && span.from <= last.to)
      merged[merged.length - 1] = { from: last.from, to: Math.max(last.to, span.to) };
    else merged.push(span);
  }
  return merged;
}

/** At most MAX_REBUILD_SPANS spans: the two closest are joined until it fits (the gap is rebuilt too). */
export function capSpans(spans: readonly Span[], max = MAX_REBUILD_SPANS): Span[] {
  const result = [...spans];
  while (result.length > max) {
    let best = 0;
    for (let i = 1; i < result.length - 1; i += 1) {
      const gap = (result[i + 1] as Span).from - (result[i] as Span).to;
      if (gap < (result[best + 1] as Span).from - (result[best] as Span).to) best = i;
    }
    const [a, b] = [result[best] as Span, result[best + 1] as Span];
    result.splice(best, 2, { from: a.from, to: b.to });
  }
  return result;
}
