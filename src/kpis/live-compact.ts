import {
  BUCKET_DATABASE,
  capSpans,
  ceilTo,
  ChangedMinutes,
  createMemoryTable,
  floorTo,
  iso,
  keepBuckets,
  mergeSpans,
  padSpans,
  withinSpans,
  type BucketTable,
} from './bucket-tables.js';
import type { Compaction, KpiDefinition } from './catalogue.js';
import type { CompiledQuery } from './compile.js';
import type { Span } from './live-bucket-sql.js';
import { compileLiveSnapshot } from './live-compile.js';
import type { PreparedQueries, Row } from '../warehouse/index.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * One table of a snapshot KPI read compacted: an in-memory table kept from what the runs changed
 * (`note`, as for minute buckets), and the relation that stands for the table in the KPI's SQL.
 */
abstract class CompactTable {
  readonly inputs: readonly string[];
  protected readonly input: string;
  protected readonly table: string;
  protected readonly time: string;
  readonly #dirty = new ChangedMinutes();

  constructor(table: string, input: string, time: string) {
    this.table = `${BUCKET_DATABASE}.${table}`;
    this.input = input;
    this.inputs = [input];
    this.time = time;
  }

  note(minutes: readonly number[] | 'all'): void {
    this.#dirty.note(minutes);
  }

  /** Brings the compact table up to `now` and answers the relation to read in the table's place. */
  async relation(connection: PreparedQueries, now: number): Promise<CompiledQuery> {
    try {
      return await this.bringUpTo(connection, now, this.#dirty.take());
    } catch (error) {
      this.#dirty.forgetAll();
      throw error;
    }
  }

  protected abstract bringUpTo(
    connection: PreparedQueries,
    now: number,
    dirty: ReadonlySet<number> | 'all',
  ): Promise<CompiledQuery>;
}

/**
 * Each key's newest row before the last whole minute, beside the table's rows since then. Valid for
 * SQL that takes each key's latest row as of an instant no earlier than now; the table must only
 * gain rows (an incremental model without a unique key), or a rewritten row could outlive its key's
 * newest. Late rows are folded in from the minutes the runs report.
 */
export class LatestRows extends CompactTable {
  readonly #keys: readonly string[];
  /** Rows before this instant (a whole minute) are folded into the table. */
  #held: number | undefined;

  constructor(table: string, input: string, spec: { latest_by: readonly string[]; time: string }) {
    super(table, input, spec.time);
    this.#keys = spec.latest_by;
  }

  protected async bringUpTo(
    connection: PreparedQueries,
    now: number,
    dirty: ReadonlySet<number> | 'all',
  ): Promise<CompiledQuery> {
    const end = floorTo(now, MINUTE_MS);
    const newest = `QUALIFY row_number() OVER (PARTITION BY ${this.#keys.join(', ')} ORDER BY ${this.time} DESC) = 1`;
    const held = this.#held;
    this.#held = undefined;
    // A clock that went back would see rows past it folded in: build again.
    if (dirty === 'all' || held === undefined || end < held) {
      await createMemoryTable(connection, this.table, {
        sql: `SELECT * FROM ${this.input} WHERE ${this.time} < $end::TIMESTAMPTZ ${newest}`,
        params: { end: iso(end) },
      });
    } else {
      const spans = [...dirty].filter((m) => m < held).map((m) => ({ from: m, to: m + MINUTE_MS }));
      if (end > held) spans.push({ from: held, to: end });
      const fold = padSpans(capSpans(mergeSpans(spans)));
      if (fold.length > 0) {
        const params: Record<string, string> = {};
        await connection.rows(
          `CREATE OR REPLACE TABLE ${this.table} AS
           SELECT * FROM (
             SELECT * FROM ${this.table}
             UNION ALL BY NAME
             SELECT * FROM ${this.input} WHERE ${withinSpans(this.time, fold, params)}
           ) ${newest}`,
          params,
        );
      }
    }
    this.#held = end;
    return {
      sql: `SELECT * FROM ${this.table}
  UNION ALL BY NAME
  SELECT * FROM ${this.input} WHERE ${this.time} >= $${this.input}_held::TIMESTAMPTZ`,
      params: { [`${this.input}_held`]: iso(end) },
    };
  }
}

/**
 * Sums per whole bucket (an hour or a UTC day) and group over the last `days` days, beside the
 * table's own rows in the part buckets at both ends; a bucket's time is its first instant. Valid
 * for SQL that sums `sum` over groups of `sum_by` columns with `time` in [now − `days` days, now)
 * (a narrower range would cut buckets apart). Buckets the runs changed (late rows, rewritten rows)
 * are summed again.
 *
 * Days read fewer rows than hours: an hour of a busy shop's order lines already holds most SKUs,
 * so hour buckets of 28 days hold about as many rows as the lines themselves.
 */
export class PeriodSums extends CompactTable {
  readonly #by: readonly string[];
  readonly #sums: readonly string[];
  readonly #days: number;
  readonly #per: number;
  /** Whole buckets held: [from, to); undefined until built. */
  #held: Span | undefined;
  readonly #buckets: BucketTable;

  constructor(
    table: string,
    input: string,
    spec: {
      sum_by: readonly string[];
      time: string;
      sum: readonly string[];
      days: number;
      per: 'hour' | 'day';
    },
  ) {
    super(table, input, spec.time);
    this.#by = spec.sum_by;
    this.#sums = spec.sum;
    this.#days = spec.days;
    this.#per = spec.per === 'day' ? DAY_MS : HOUR_MS;
    this.#buckets = {
      table: this.table,
      unit: this.#per,
      column: 'bucket_',
      rows: (spans) => this.#bucketRows(spans),
    };
  }

  /** The buckets of `spans`, one row per bucket and group (UTC days, as the warehouse's times). */
  #bucketRows(spans: readonly Span[]): CompiledQuery {
    const params: Record<string, string> = {};
    // Epoch arithmetic, not date_trunc: the same UTC buckets at a third of the cost per row.
    const sql = `SELECT to_timestamp((epoch_ms(${this.time}) // ${this.#per}) * ${this.#per / 1000}) AS bucket_, ${this.#by.join(', ')},
       ${this.#sums.map((column) => `sum(${column}) AS ${column}`).join(', ')}
FROM ${this.input} WHERE ${withinSpans(this.time, spans, params)}
GROUP BY ALL`;
    return { sql, params };
  }

  protected async bringUpTo(
    connection: PreparedQueries,
    now: number,
    dirty: ReadonlySet<number> | 'all',
  ): Promise<CompiledQuery> {
    const cut = now - this.#days * DAY_MS;
    const need = { from: ceilTo(cut, this.#per), to: floorTo(now, this.#per) };
    this.#held = await keepBuckets(connection, this.#buckets, this.#held, need, dirty);
    const columns = [...this.#by, ...this.#sums].join(', ');
    // One range per branch: an OR of two ranges would scan every row group instead of pruning.
    const p = this.input;
    return {
      sql: `SELECT ${columns}, bucket_ AS ${this.time} FROM ${this.table}
  WHERE bucket_ >= $${p}_from::TIMESTAMPTZ AND bucket_ < $${p}_to::TIMESTAMPTZ
  UNION ALL BY NAME
  SELECT ${columns}, ${this.time} FROM ${this.input}
  WHERE ${this.time} >= $${p}_cut::TIMESTAMPTZ AND ${this.time} < $${p}_from::TIMESTAMPTZ
  UNION ALL BY NAME
  SELECT ${columns}, ${this.time} FROM ${this.input} WHERE ${this.time} >= $${p}_to::TIMESTAMPTZ`,
      params: { [`${p}_cut`]: iso(cut), [`${p}_from`]: iso(need.from), [`${p}_to`]: iso(need.to) },
    };
  }
}

/**
 * A snapshot KPI whose catalogue entry declares compactions: each refresh brings its compact
 * tables up to date, then runs the KPI's own SQL with them in the tables' place. Reading 28 days
 * of orders and every inventory snapshot at each refresh grows with history; this reads the days.
 */
export class CompactSnapshot {
  readonly #kpi: KpiDefinition;
  readonly tables: readonly CompactTable[];
  /** One refresh at a time: the rebuild and read of a compact table must not interleave. */
  #busy: Promise<unknown> = Promise.resolve();

  constructor(kpi: KpiDefinition, prefix: string) {
    this.#kpi = kpi;
    this.tables = Object.entries(kpi.snapshot?.compact ?? {}).map(([input, spec]: [string, Compaction]) => {
      const table = `${prefix}${kpi.id}_${input}`;
      return 'latest_by' in spec
        ? new LatestRows(table, input, spec)
        : new PeriodSums(table, input, { ...spec, per: spec.per ?? 'hour' });
    });
  }

  rows(connection: PreparedQueries, now: Date): Promise<Row[]> {
    const next = this.#busy.then(() => this.#rows(connection, now));
    this.#busy = next.catch(() => undefined);
    return next;
  }

  async #rows(connection: PreparedQueries, now: Date): Promise<Row[]> {
    const relations = new Map<string, CompiledQuery>();
    for (const table of this.tables) {
      relations.set(table.inputs[0] as string, await table.relation(connection, now.getTime()));
    }
    const query = compileLiveSnapshot(this.#kpi, now, relations);
    return connection.rows(query.sql, query.params);
  }
}
