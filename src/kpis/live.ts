import type { DuckDBConnection } from '@duckdb/node-api';
import { PreparedQueries, type Row } from '../warehouse/index.js';
import {
  baseAnswer,
  componentsOf,
  heldAnswer,
  lagMs,
  pointOf,
  revenueShare,
  snapshotPointOf,
  type HoldLookup,
  type KpiAnswer,
  type KpiPoint,
} from './answer.js';
import {
  isCustomerDimension,
  type Catalogue,
  type Dimension,
  type KpiDefinition,
  type Measure,
} from './catalogue.js';
import { kpiInputs, refsOf } from './compile.js';
import {
  compileLiveMeasure,
  widenLiveRows,
  compileLiveSnapshot,
  LIVE_WINDOWS,
  windowAlias,
  type LiveWindows,
} from './live-compile.js';
import { resolveNamedWindow, type NamedWindow } from './windows.js';
import { LiveBucketSet, type RunSource } from './live-bucket-set.js';
import { summableByMinute } from './live-bucket-sql.js';
import { answerJson, renderAnswersJson, type AnswerJson } from './live-json.js';

/** One live value: a KPI in a named window, as a total or broken down by one dimension. */
export interface LiveValue {
  readonly key: string;
  readonly id: string;
  readonly window: NamedWindow;
  readonly by: Dimension | null;
  readonly answer: KpiAnswer;
  /** Ingest time of the newest event included, for lag at read time. */
  readonly newestIngestMs: number | null;
}

export type LiveListener = (changed: readonly LiveValue[]) => void;

export function liveKey(id: string, window: NamedWindow, by: Dimension | null): string {
  return `${id}|${window}|${by ?? ''}`;
}

/**
 * Every KPI in every named window (today, 1h, 24h), as a total and by each of its dimensions, held
 * in memory and swapped whole after each refresh: readers never touch DuckDB and never see half a
 * refresh. One query per measure computes all windows and breakdowns at once.
 */
export class LiveKpis {
  /** One per connection: the same queries run at every refresh, planned once each. */
  readonly #connections: readonly PreparedQueries[];
  readonly #catalogue: Catalogue;
  readonly #timeZone: string;
  readonly #now: () => Date;
  readonly #listeners = new Set<LiveListener>();
  readonly #hold: HoldLookup;
  /** The KPIs held at the last recompute: a change of hold makes a KPI due. */
  #held = new Set<string>();
  #values: ReadonlyMap<string, LiveValue> = new Map();
  #computedAt: Date | undefined;
  /** performance.now() when the recompute behind `#values` began reading (see `readStartedAt`). */
  #readStartedAt: number | undefined;
  readonly #json = new WeakMap<LiveValue, AnswerJson>();
  /** The last text rendered per value or window (`#rendered`). */
  readonly #renders = new Map<string, { values: ReadonlyMap<string, LiveValue>; ms: number; body: Buffer }>();
  #fullAt: Date | undefined;
  /** Minute buckets per measure and breakdown set, once runs are followed (`followRuns`). */
  #buckets: LiveBucketSet | undefined;

  /** With several connections, the KPIs are computed in parallel, one connection each at a time. */
  constructor(
    connections: DuckDBConnection | readonly DuckDBConnection[],
    catalogue: Catalogue,
    options: { timeZone: string; now?: () => Date; hold?: HoldLookup },
  ) {
    this.#connections = (Array.isArray(connections) ? connections : [connections as DuckDBConnection]).map(
      (connection: DuckDBConnection) => new PreparedQueries(connection),
    );
    this.#hold = options.hold ?? (() => undefined);
    this.#catalogue = catalogue;
    this.#timeZone = options.timeZone;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Sums the measures that allow it from minute buckets, and reads snapshot KPIs' declared compact
   * tables, kept current from what each committed run of `runner` changed. Without it every
   * refresh aggregates the windows' rows (the reference).
   */
  followRuns(runner: RunSource): () => void {
    const inputs = this.#catalogue.kpis.flatMap((kpi) => [
      ...measureVariants(kpi).flatMap((variant) =>
        summableByMinute(variant.measure, variant.sql) ? refsOf(variant.sql) : [],
      ),
      ...Object.keys(kpi.snapshot?.compact ?? {}),
    ]);
    this.#buckets = new LiveBucketSet(runner, inputs);
    return this.#buckets.unfollow;
  }

  get computedAt(): Date | undefined {
    return this.#computedAt;
  }

  /**
   * performance.now() when the recompute whose values are served began reading the warehouse:
   * they include every commit made before it. What else reads the warehouse (an alert's forecast)
   * compares with it to know whether the live values have caught up with what it read.
   */
  get readStartedAt(): number | undefined {
    return this.#readStartedAt;
  }

  /** The value with its lag as of now. */
  get(id: string, window: NamedWindow, by: Dimension | null = null): KpiAnswer | undefined {
    const value = this.#values.get(liveKey(id, window, by));
    return value && withLag(value, this.#now());
  }

  all(window: NamedWindow): KpiAnswer[] {
    const now = this.#now();
    return this.#totals(window).map((value) => withLag(value, now));
  }

  /** `get`'s answer as JSON text, serialised once per refresh: the fast path of the API. */
  getJson(id: string, window: NamedWindow, by: Dimension | null = null): Buffer | undefined {
    const key = liveKey(id, window, by);
    return this.#rendered(key, (now) => {
      const value = this.#values.get(key);
      return value && renderAnswersJson([this.#jsonOf(value)], now);
    });
  }

  /** `{"kpis": all(window)}` as JSON text; undefined while no KPI has a value. */
  allJson(window: NamedWindow): Buffer | undefined {
    return this.#rendered(window, (now) => {
      const answers = this.#totals(window).map((value) => this.#jsonOf(value));
      return answers.length === 0 ? undefined : renderAnswersJson(answers, now, '{"kpis":[', ']}');
    });
  }

  /**
   * The text `render` makes of the current values at this millisecond, made once: the lag is in
   * whole milliseconds, so every read within one gets the same bytes.
   */
  #rendered(key: string, render: (now: Date) => Buffer | undefined): Buffer | undefined {
    const now = this.#now();
    const last = this.#renders.get(key);
    if (last && last.values === this.#values && last.ms === now.getTime()) return last.body;
    const body = render(now);
    if (body !== undefined) this.#renders.set(key, { values: this.#values, ms: now.getTime(), body });
    return body;
  }

  /** Every KPI's total in `window` that has a value, in catalogue order. */
  #totals(window: NamedWindow): LiveValue[] {
    return this.#catalogue.kpis.flatMap((kpi) => {
      const value = this.#values.get(liveKey(kpi.id, window, null));
      return value ? [value] : [];
    });
  }

  /** A value unchanged by a refresh is the same object after it, so its text outlives the swap. */
  #jsonOf(value: LiveValue): AnswerJson {
    let json = this.#json.get(value);
    if (!json) {
      json = answerJson(value.answer, value.newestIngestMs);
      this.#json.set(value, json);
    }
    return json;
  }

  values(): Iterable<LiveValue> {
    return this.#values.values();
  }

  subscribe(listener: LiveListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Recomputes, swaps in and tells subscribers what changed. Given the models a refresh wrote,
   * only the KPIs reading them are recomputed; the others keep their values (and their windows)
   * until the next full recompute, which `maxAgeMs` bounds.
   *
   * `gate`: the quality pass of the same refresh. The values are computed while it runs, but the
   * holds are read, and the values swapped in, only once it has settled: a KPI the pass holds never
   * shows the numbers it was held for, not even for an instant.
   */
  async recompute(
    changedModels?: ReadonlySet<string>,
    maxAgeMs = 5_000,
    gate?: Promise<unknown>,
  ): Promise<readonly LiveValue[]> {
    const readStarted = performance.now();
    const now = this.#now();
    const windows = Object.fromEntries(
      LIVE_WINDOWS.map((name) => [name, resolveNamedWindow(name, now, this.#timeZone)]),
    ) as unknown as LiveWindows;
    const previous = this.#values;
    const full = !changedModels || !this.#fullAt || now.getTime() - this.#fullAt.getTime() >= maxAgeMs;
    const computed = new Map<string, LiveValue[]>();
    const computeAll = async (kpis: readonly KpiDefinition[]): Promise<void> => {
      let cursor = 0;
      const work = async (connection: PreparedQueries): Promise<void> => {
        while (cursor < kpis.length) {
          const kpi = kpis[cursor++] as KpiDefinition;
          computed.set(
            kpi.id,
            kpi.snapshot
              ? await this.#snapshot(connection, kpi, windows, now)
              : await this.#additive(connection, kpi, windows, now),
          );
        }
      };
      await Promise.all(this.#connections.map(work));
    };
    await computeAll(
      this.#catalogue.kpis.filter((kpi) => full || kpiInputs(kpi).some((input) => changedModels?.has(input))),
    );
    await gate?.catch(() => undefined);
    const holds = new Map(
      this.#catalogue.kpis.flatMap((kpi) => {
        const hold = this.#hold(kpi.id);
        return hold ? [[kpi.id, hold] as const] : [];
      }),
    );
    // A KPI held or released by this pass is recomputed even if its inputs did not change.
    await computeAll(
      this.#catalogue.kpis.filter(
        (kpi) => !computed.has(kpi.id) && holds.has(kpi.id) !== this.#held.has(kpi.id),
      ),
    );
    const next = new Map(full ? [] : [...previous].filter(([, value]) => !computed.has(value.id)));
    for (const [id, values] of computed) {
      const hold = holds.get(id);
      for (const value of values) {
        // Held: the last good numbers stay, marked with the rules holding them.
        next.set(
          value.key,
          hold
            ? {
                ...value,
                ...lastGoodOf(previous.get(value.key), value),
                answer: heldAnswer(previous.get(value.key)?.answer, value.answer, hold),
              }
            : value,
        );
      }
    }
    this.#held = new Set(holds.keys());
    this.#values = next;
    this.#computedAt = now;
    this.#readStartedAt = readStarted;
    if (full) this.#fullAt = now;
    const changed = [...next.values()].filter((value) => {
      const before = previous.get(value.key);
      return !before || fingerprint(before.answer) !== fingerprint(value.answer);
    });
    if (changed.length > 0) for (const listener of this.#listeners) listener(changed);
    return changed;
  }

  async #query(
    connection: PreparedQueries,
    sql: { sql: string; params: Readonly<Record<string, string>> },
  ): Promise<Row[]> {
    return connection.rows(sql.sql, sql.params);
  }

  async #additive(
    connection: PreparedQueries,
    kpi: KpiDefinition,
    windows: LiveWindows,
    now: Date,
  ): Promise<LiveValue[]> {
    const numerator = kpi.numerator;
    if (!numerator) return [];
    const overridden = (d: Dimension) => Boolean(numerator.sql_by?.[d] ?? kpi.denominator?.sql_by?.[d]);
    const shared = liveDimensionsOf(kpi).filter((d) => !overridden(d));
    const rows = new Map<string, { num?: Row; den?: Row }>();
    const collect = async (
      side: 'num' | 'den',
      dims: readonly Dimension[],
      sql?: string,
      only?: Dimension,
    ) => {
      const measure = side === 'num' ? numerator : kpi.denominator;
      if (!measure) return;
      const text = sql ?? measure.sql;
      const buckets = this.#buckets?.of(kpi, side, measure, text, dims);
      const long = buckets
        ? await buckets.rows(connection, windows, now)
        : await this.#query(connection, compileLiveMeasure(kpi, measure, windows, dims, text));
      for (const [key, row] of widenLiveRows(long)) {
        if (only && row.dim !== only) continue;
        rows.set(key, { ...rows.get(key), [side]: row });
      }
    };
    await collect('num', shared);
    await collect('den', shared);
    for (const d of liveDimensionsOf(kpi).filter(overridden)) {
      await collect('num', [d], numerator.sql_by?.[d], d);
      await collect('den', [d], kpi.denominator?.sql_by?.[d], d);
    }
    const inputs = kpiInputs(kpi);
    const values: LiveValue[] = [];
    for (const window of LIVE_WINDOWS) {
      const w = windowAlias(window);
      const total = rows.get('|\u0000') ?? {};
      const newest = maxOf(total.num?.[`newest_${w}`], total.den?.[`newest_${w}`]);
      const base = baseAnswer(
        kpi,
        inputs,
        windows[window],
        maxOf(total.num?.[`asof_${w}`], total.den?.[`asof_${w}`]),
        newest,
        now,
      );
      const components = componentsOf(kpi, (name) => total.num?.[`c_${name}_${w}`]);
      const totalAnswer: KpiAnswer = {
        ...base,
        ...(components ? { components } : {}),
        ...pointOf(kpi, total.num?.[`v_${w}`], total.den?.[`v_${w}`]),
      };
      values.push({
        key: liveKey(kpi.id, window, null),
        id: kpi.id,
        window,
        by: null,
        answer: totalAnswer,
        newestIngestMs: newest,
      });
      for (const dim of liveDimensionsOf(kpi)) {
        const breakdown: KpiPoint[] = [];
        for (const [key, pair] of rows) {
          if (!key.startsWith(`${dim}|`)) continue;
          if (maxOf(pair.num?.[`asof_${w}`], pair.den?.[`asof_${w}`]) === null) continue;
          const raw = key.slice(dim.length + 1);
          breakdown.push({
            key: raw === '\u0000' ? null : raw,
            ...pointOf(kpi, pair.num?.[`v_${w}`], pair.den?.[`v_${w}`]),
          });
        }
        values.push(breakdownValue(kpi.id, window, dim, totalAnswer, breakdown, newest));
      }
    }
    return values;
  }

  async #snapshot(
    connection: PreparedQueries,
    kpi: KpiDefinition,
    windows: LiveWindows,
    now: Date,
  ): Promise<LiveValue[]> {
    const compact = this.#buckets?.snapshotOf(kpi);
    const rows = compact
      ? await compact.rows(connection, now)
      : await this.#query(connection, compileLiveSnapshot(kpi, now));
    const total = rows.find((row) => row.dim === '') ?? {};
    const inputs = kpiInputs(kpi);
    const newest =
      total.newest_ingest === undefined || total.newest_ingest === null ? null : Number(total.newest_ingest);
    const values: LiveValue[] = [];
    for (const window of LIVE_WINDOWS) {
      const totalAnswer: KpiAnswer = {
        ...baseAnswer(kpi, inputs, windows[window], total.as_of, newest, now),
        revenue_share: revenueShare(total.revenue_at_risk, total.revenue_total),
        ...snapshotPointOf(total.numerator, total.denominator),
      };
      values.push({
        key: liveKey(kpi.id, window, null),
        id: kpi.id,
        window,
        by: null,
        answer: totalAnswer,
        newestIngestMs: newest,
      });
      for (const dim of liveDimensionsOf(kpi)) {
        const breakdown = rows
          .filter((row) => row.dim === dim)
          .map((row) => ({
            key: row.key === null ? null : String(row.key),
            ...snapshotPointOf(row.numerator, row.denominator),
          }));
        values.push(breakdownValue(kpi.id, window, dim, totalAnswer, breakdown, newest));
      }
    }
    return values;
  }
}

/** A KPI broken down by one dimension: the total's answer with the points sorted by key, null last. */
function breakdownValue(
  id: string,
  window: NamedWindow,
  dim: Dimension,
  total: KpiAnswer,
  breakdown: KpiPoint[],
  newestIngestMs: number | null,
): LiveValue {
  return {
    key: liveKey(id, window, dim),
    id,
    window,
    by: dim,
    answer: { ...total, by: dim, breakdown: breakdown.sort(byKey) },
    newestIngestMs,
  };
}

function withLag(value: LiveValue, now: Date): KpiAnswer {
  return { ...value.answer, lag_ms: lagMs(value.newestIngestMs, now) };
}

function maxOf(a: unknown, b: unknown): number | null {
  const values = [a, b].filter((v) => v !== null && v !== undefined).map(Number);
  return values.length === 0 ? null : Math.max(...values);
}

function byKey(a: KpiPoint, b: KpiPoint): number {
  if (a.key === b.key) return 0;
  if (a.key === null || a.key === undefined) return 1;
  if (b.key === null || b.key === undefined) return -1;
  return a.key < b.key ? -1 : 1;
}

function lastGoodOf(previous: LiveValue | undefined, current: LiveValue): Pick<LiveValue, 'newestIngestMs'> {
  return { newestIngestMs: previous ? previous.newestIngestMs : current.newestIngestMs };
}

/** What makes a value different for a subscriber: the numbers and their as_of, not the moving clock. */
function fingerprint(answer: KpiAnswer): string {
  return JSON.stringify([
    answer.value,
    answer.numerator,
    answer.denominator,
    answer.components,
    answer.breakdown,
    answer.as_of,
    answer.revenue_share,
    answer.quality,
    answer.quality_hold?.rules,
  ]);
}

/** Every measure SQL a KPI's live values run: each side's own, and its overrides per dimension. */
function measureVariants(kpi: KpiDefinition): { measure: Measure; sql: string }[] {
  return [kpi.numerator, kpi.denominator].flatMap((measure) =>
    measure
      ? [
          { measure, sql: measure.sql },
          ...liveDimensionsOf(kpi).flatMap((d) => {
            const sql = measure.sql_by?.[d];
            return sql ? [{ measure, sql }] : [];
          }),
        ]
      : [],
  );
}

/** Customer dimensions are answered on request with differential privacy, never held live. */
function liveDimensionsOf(kpi: KpiDefinition): readonly Dimension[] {
  return kpi.dimensions.filter((dimension) => !isCustomerDimension(dimension));
}
