import type { DuckDBConnection } from '@duckdb/node-api';
import { PulseError } from '../errors.js';
import { queryRows, type Row } from '../warehouse/index.js';
import type { Catalogue, Dimension, KpiDefinition } from './catalogue.js';
import { DIMENSIONS } from './catalogue.js';
import {
  compileMeasureQuery,
  compileSnapshotQuery,
  kpiInputs,
  SERIES_GRAINS,
  type SeriesGrain,
} from './compile.js';
import {
  NAMED_WINDOWS,
  resolveNamedWindow,
  startOfBusinessDay,
  type NamedWindow,
  type TimeWindow,
} from './windows.js';

/** What a client asks for: a named window or an explicit range, optionally a breakdown or a series. */
export interface KpiRequest {
  readonly window?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly by?: string | undefined;
  readonly series?: string | undefined;
}

export interface KpiPoint {
  readonly key?: string | null;
  readonly ts?: string;
  readonly value: string | number | null;
  readonly numerator: string | number | null;
  readonly denominator: string | number | null;
}

/** The answer of DESIGN.md §9. */
export interface KpiAnswer {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly window: { readonly from: string; readonly to: string };
  readonly value: string | number | null;
  readonly numerator: string | number | null;
  readonly denominator: string | number | null;
  readonly components?: Readonly<Record<string, string>>;
  readonly revenue_share?: number | null;
  readonly breakdown?: readonly KpiPoint[];
  readonly series?: readonly { ts: string; value: string | number | null }[];
  readonly as_of: string | null;
  readonly lag_ms: number | null;
  readonly definition_version: number;
  readonly quality: 'ok';
  readonly definition: {
    readonly description: string;
    readonly owner: string;
    readonly direction: KpiDefinition['direction'];
    readonly bands: KpiDefinition['bands'];
    readonly cadence: string;
  };
  readonly lineage: { readonly inputs: readonly string[] };
}

const MAX_SERIES_POINTS = 10_000;
const MAX_SNAPSHOT_POINTS = 400;
const GRAIN_MS: Record<Exclude<SeriesGrain, 'day'>, number> = { minute: 60_000, hour: 3_600_000 };

/**
 * Computes governed KPI values from the gold tables, for any window, breakdown or series, by
 * compiling the catalogue's measure SQL. Money stays exact (DECIMAL → text) all the way.
 */
export class KpiEngine {
  readonly #connection: DuckDBConnection;
  readonly #byId: ReadonlyMap<string, KpiDefinition>;
  readonly #timeZone: string;
  readonly #now: () => Date;
  readonly catalogue: Catalogue;

  constructor(
    connection: DuckDBConnection,
    catalogue: Catalogue,
    options: { timeZone: string; now?: () => Date },
  ) {
    this.#connection = connection;
    this.catalogue = catalogue;
    this.#byId = new Map(catalogue.kpis.map((kpi) => [kpi.id, kpi]));
    this.#timeZone = options.timeZone;
    this.#now = options.now ?? (() => new Date());
  }

  definition(id: string): KpiDefinition {
    const kpi = this.#byId.get(id);
    if (!kpi)
      throw new PulseError(
        'PULSE_ERR_UNKNOWN_KPI',
        `No KPI "${id}"; known: ${[...this.#byId.keys()].join(', ')}`,
        { field: 'id' },
      );
    return kpi;
  }

  async computeAll(request: KpiRequest = {}): Promise<KpiAnswer[]> {
    const answers: KpiAnswer[] = [];
    for (const kpi of this.catalogue.kpis)
      answers.push(await this.compute(kpi.id, { ...request, by: undefined, series: undefined }));
    return answers;
  }

  async compute(id: string, request: KpiRequest = {}): Promise<KpiAnswer> {
    const kpi = this.definition(id);
    const now = this.#now();
    const window = this.#window(request, now);
    const by = parseBy(kpi, request.by);
    const series = parseSeries(request.series);
    if (series && by)
      throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'by and series cannot be combined', {
        field: 'series',
      });
    return kpi.snapshot
      ? this.#snapshot(kpi, window, by, series, now)
      : this.#additive(kpi, window, by, series, now);
  }

  async #additive(
    kpi: KpiDefinition,
    window: TimeWindow,
    by: Dimension | undefined,
    series: SeriesGrain | undefined,
    now: Date,
  ): Promise<KpiAnswer> {
    const run = async (b?: Dimension, s?: SeriesGrain): Promise<Row[]> => {
      const query = compileMeasureQuery(kpi, { window, by: b, series: s, timeZone: this.#timeZone });
      return queryRows(this.#connection, query.sql, query.params);
    };
    const totalRow = (await run())[0] ?? {};
    const answer = this.#base(kpi, window, totalRow, now);
    const point = (row: Row) => ({
      value: valueOf(kpi, row),
      numerator: measureOf(kpi, row.numerator),
      denominator: kpi.denominator ? measureOf(kpi, row.denominator) : null,
    });
    const components = Object.entries(kpi.numerator?.components ?? {});
    let extra: Partial<KpiAnswer> = {};
    if (components.length > 0) {
      extra = {
        components: Object.fromEntries(
          components.map(([name, sign]) => [
            name,
            formatMoney(signed(String(totalRow[`component_${name}`] ?? '0'), sign)),
          ]),
        ),
      };
    }
    if (by)
      extra = {
        ...extra,
        breakdown: (await run(by)).map((row) => ({
          key: row.grp === null ? null : String(row.grp),
          ...point(row),
        })),
      };
    if (series)
      extra = {
        ...extra,
        series: this.#fillSeries(
          window,
          series,
          await run(undefined, series),
          (row) => valueOf(kpi, row),
          kpi,
        ),
      };
    return { ...answer, ...extra, ...point(totalRow) };
  }

  async #snapshot(
    kpi: KpiDefinition,
    window: TimeWindow,
    by: Dimension | undefined,
    series: SeriesGrain | undefined,
    now: Date,
  ): Promise<KpiAnswer> {
    const at = async (instant: Date, b?: Dimension): Promise<Row[]> => {
      const query = compileSnapshotQuery(kpi, instant, b);
      return queryRows(this.#connection, query.sql, query.params);
    };
    const point = (row: Row) => ({
      value: Number(row.numerator ?? 0),
      numerator: Number(row.numerator ?? 0),
      denominator: Number(row.denominator ?? 0),
    });
    const totalRow = (await at(window.to))[0] ?? {};
    let extra: Partial<KpiAnswer> = { revenue_share: share(totalRow) };
    if (by)
      extra = {
        ...extra,
        breakdown: (await at(window.to, by)).map((row) => ({
          key: row.grp === null ? null : String(row.grp),
          ...point(row),
        })),
      };
    if (series) {
      const ends = this.#bucketStarts(window, series)
        .map((start, i, all) => all[i + 1] ?? window.to)
        .slice(0, MAX_SNAPSHOT_POINTS);
      const points = [];
      for (const end of ends)
        points.push({ ts: end.toISOString(), value: Number((await at(end))[0]?.numerator ?? 0) });
      extra = { ...extra, series: points };
    }
    return { ...this.#base(kpi, window, totalRow, now), ...extra, ...point(totalRow) };
  }

  #base(
    kpi: KpiDefinition,
    window: TimeWindow,
    row: Row,
    now: Date,
  ): Omit<KpiAnswer, 'value' | 'numerator' | 'denominator'> {
    const asOf = row.as_of === null || row.as_of === undefined ? null : new Date(Number(row.as_of));
    const newest =
      row.newest_ingest === null || row.newest_ingest === undefined ? null : Number(row.newest_ingest);
    return {
      id: kpi.id,
      label: kpi.label,
      unit: kpi.unit,
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      as_of: asOf ? asOf.toISOString() : null,
      lag_ms: newest === null ? null : Math.max(0, now.getTime() - newest),
      definition_version: kpi.definition_version,
      quality: 'ok',
      definition: {
        description: kpi.description,
        owner: kpi.owner,
        direction: kpi.direction,
        bands: kpi.bands,
        cadence: kpi.cadence,
      },
      lineage: { inputs: kpiInputs(kpi) },
    };
  }

  #window(request: KpiRequest, now: Date): TimeWindow {
    if (request.from !== undefined || request.to !== undefined) {
      if (request.window !== undefined) {
        throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'Give either window or from/to, not both', {
          field: 'window',
        });
      }
      const from = parseInstant(request.from, 'from');
      const to = request.to === undefined ? now : parseInstant(request.to, 'to');
      if (from.getTime() >= to.getTime())
        throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'from must be before to', { field: 'from' });
      return { from, to };
    }
    const name = request.window ?? 'today';
    if (!(NAMED_WINDOWS as readonly string[]).includes(name)) {
      throw new PulseError(
        'PULSE_ERR_INVALID_PARAMETER',
        `window must be one of ${NAMED_WINDOWS.join(', ')}, got "${name}"`,
        { field: 'window' },
      );
    }
    return resolveNamedWindow(name as NamedWindow, now, this.#timeZone);
  }

  #bucketStarts(window: TimeWindow, grain: SeriesGrain): Date[] {
    const starts: Date[] = [];
    if (grain === 'day') {
      let day = startOfBusinessDay(window.from, this.#timeZone);
      while (day < window.to) {
        starts.push(day);
        // 26 h is always past the next local midnight, whatever DST does.
        day = startOfBusinessDay(new Date(day.getTime() + 26 * 3_600_000), this.#timeZone);
        if (starts.length > MAX_SERIES_POINTS) break;
      }
    } else {
      const step = GRAIN_MS[grain];
      for (let t = Math.floor(window.from.getTime() / step) * step; t < window.to.getTime(); t += step) {
        starts.push(new Date(t));
        if (starts.length > MAX_SERIES_POINTS) break;
      }
    }
    if (starts.length > MAX_SERIES_POINTS) {
      throw new PulseError(
        'PULSE_ERR_INVALID_PARAMETER',
        `series=${grain} over this window has more than ${MAX_SERIES_POINTS} points; use a coarser grain`,
        { field: 'series' },
      );
    }
    return starts;
  }

  #fillSeries(
    window: TimeWindow,
    grain: SeriesGrain,
    rows: Row[],
    value: (row: Row) => string | number | null,
    kpi: KpiDefinition,
  ) {
    const byTs = new Map(rows.map((row) => [Number(row.grp), row]));
    const empty = kpi.kind === 'money' ? '0.00' : null;
    return this.#bucketStarts(window, grain).map((start) => {
      const row = byTs.get(start.getTime());
      return { ts: start.toISOString(), value: row ? value(row) : empty };
    });
  }
}

function parseInstant(value: string | undefined, field: string): Date {
  if (
    value === undefined ||
    !/^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d))?$/.test(value)
  ) {
    throw new PulseError(
      'PULSE_ERR_INVALID_PARAMETER',
      `${field} must be an RFC 3339 timestamp (e.g. 2026-03-10T00:00:00Z), got "${value ?? ''}"`,
      { field },
    );
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `${field} is not a real date: "${value}"`, { field });
  return date;
}

function parseBy(kpi: KpiDefinition, by: string | undefined): Dimension | undefined {
  if (by === undefined) return undefined;
  if (!(DIMENSIONS as readonly string[]).includes(by) || !kpi.dimensions.includes(by as Dimension)) {
    throw new PulseError(
      'PULSE_ERR_INVALID_PARAMETER',
      `${kpi.id} can be broken down by ${kpi.dimensions.join(', ')}; got "${by}"`,
      { field: 'by' },
    );
  }
  return by as Dimension;
}

function parseSeries(series: string | undefined): SeriesGrain | undefined {
  if (series === undefined) return undefined;
  if (!(SERIES_GRAINS as readonly string[]).includes(series)) {
    throw new PulseError(
      'PULSE_ERR_INVALID_PARAMETER',
      `series must be one of ${SERIES_GRAINS.join(', ')}, got "${series}"`,
      { field: 'series' },
    );
  }
  return series as SeriesGrain;
}

function measureOf(kpi: KpiDefinition, raw: unknown): string | number | null {
  if (kpi.kind === 'money') return raw === null || raw === undefined ? '0.00' : formatMoney(String(raw));
  return raw === null || raw === undefined ? (kpi.kind === 'index' ? null : 0) : Number(raw);
}

function valueOf(kpi: KpiDefinition, row: Row): string | number | null {
  if (kpi.kind === 'money') return measureOf(kpi, row.numerator);
  const numerator = row.numerator === null || row.numerator === undefined ? 0 : Number(row.numerator);
  const denominator = row.denominator === null || row.denominator === undefined ? 0 : Number(row.denominator);
  return denominator === 0 ? null : numerator / denominator;
}

function share(row: Row): number | null {
  const total = row.revenue_total === null || row.revenue_total === undefined ? 0 : Number(row.revenue_total);
  if (total === 0) return null;
  return Number(row.revenue_at_risk ?? 0) / total;
}

/** Normalises a DECIMAL rendered by DuckDB to exactly two decimals ("12.5" → "12.50"). */
export function formatMoney(text: string): string {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const cents = `${fraction}00`.slice(0, 2);
  const formatted = `${whole}.${cents}`;
  return negative && formatted !== '0.00' ? `-${formatted}` : formatted;
}

function signed(text: string, sign: 1 | -1): string {
  if (sign === 1) return text;
  return text.startsWith('-') ? text.slice(1) : text === '0' || text === '0.00' ? text : `-${text}`;
}
