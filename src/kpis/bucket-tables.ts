import type { CompiledQuery } from './compile.js';
import type { Span } from './live-bucket-sql.js';
import type { PreparedQueries } from '../warehouse/index.js';

/**
 * What the live values keep in memory between refreshes: tables of buckets (a minute, an hour, a
 * day) in an in-memory database, kept from what the model runs changed, shared by the minute
 * buckets of additive KPIs and the compact tables of snapshot KPIs.
 */

export const BUCKET_DATABASE = 'pulse_live';
/** Rebuilds at most this many separate spans; closer ones merge (rebuilding more is exact too). */
const MAX_REBUILD_SPANS = 8;

export const floorTo = (ms: number, unit: number): number => Math.floor(ms / unit) * unit;
export const ceilTo = (ms: number, unit: number): number => Math.ceil(ms / unit) * unit;
export const iso = (ms: number): string => new Date(ms).toISOString();

/** The minutes the runs changed since a refresh last took them; 'all' until built and after a rebuild. */
export class ChangedMinutes {
  #dirty: Set<number> | 'all' = 'all';

  /** A run changed these minutes of an input, or (`'all'`) rebuilt it. */
  note(minutes: readonly number[] | 'all'): void {
    if (minutes === 'all') this.#dirty = 'all';
    else if (this.#dirty !== 'all') for (const minute of minutes) this.#dirty.add(minute);
  }

  /** What was noted, taken before reading: a run that commits from now on is noted for the next refresh. */
  take(): ReadonlySet<number> | 'all' {
    const dirty = this.#dirty;
    this.#dirty = new Set();
    return dirty;
  }

  /** A rebuild failed half-way: build it all from the rows at the next refresh. */
  forgetAll(): void {
    this.#dirty = 'all';
  }
}

/** `column` within any of `spans`, its bounds added to `params` as $f<i> and $t<i>. */
export function withinSpans(column: string, spans: readonly Span[], params: Record<string, string>): string {
  return spans
    .map((span, i) => {
      params[`f${i}`] = iso(span.from);
      params[`t${i}`] = iso(span.to);
      return `(${column} >= $f${i}::TIMESTAMPTZ AND ${column} < $t${i}::TIMESTAMPTZ)`;
    })
    .join(' OR ');
}

/** (Re)creates `table` in the in-memory database from a query. */
export async function createMemoryTable(
  connection: PreparedQueries,
  table: string,
  query: CompiledQuery,
): Promise<void> {
  await connection.rows(`ATTACH IF NOT EXISTS ':memory:' AS ${BUCKET_DATABASE}`);
  await connection.rows(`CREATE OR REPLACE TABLE ${table} AS ${query.sql}`, query.params);
}

/** A table of buckets `unit` ms wide, each named by its first instant in `column`. */
export interface BucketTable {
  readonly table: string;
  readonly unit: number;
  readonly column: string;
  /** The rows of the buckets of `spans`, one per bucket and group. */
  rows(spans: readonly Span[]): CompiledQuery;
}

/**
 * Builds what `buckets` lacks of `need`, rebuilds the buckets the runs changed and forgets older
 * ones; answers the span it then holds. With nothing held that is still needed (or `need`
 * reaching further back than what is held), it builds all of `need`.
 */
export async function keepBuckets(
  connection: PreparedQueries,
  buckets: BucketTable,
  held: Span | undefined,
  need: Span,
  dirty: ReadonlySet<number> | 'all',
): Promise<Span> {
  if (dirty === 'all' || !held || need.from >= held.to || need.from < held.from) {
    await createMemoryTable(connection, buckets.table, buckets.rows([need]));
    return need;
  }
  const changed = [...new Set([...dirty].map((m) => floorTo(m, buckets.unit)))].filter(
    (bucket) => bucket >= need.from && bucket < held.to,
  );
  const spans = changed.map((bucket) => ({ from: bucket, to: bucket + buckets.unit }));
  if (held.to < need.to) spans.push({ from: held.to, to: need.to });
  const rebuild = padSpans(capSpans(mergeSpans(spans)));
  if (held.from < need.from || rebuild.length > 0) {
    const params: Record<string, string> = { evict: iso(need.from) };
    const stale = rebuild.length > 0 ? ` OR ${withinSpans(buckets.column, rebuild, params)}` : '';
    await connection.rows(
      `DELETE FROM ${buckets.table} WHERE ${buckets.column} < $evict::TIMESTAMPTZ${stale}`,
      params,
    );
  }
  if (rebuild.length > 0) {
    const query = buckets.rows(rebuild);
    await connection.rows(`INSERT INTO ${buckets.table} BY NAME ${query.sql}`, query.params);
  }
  return { from: need.from, to: Math.max(need.to, held.to) };
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
