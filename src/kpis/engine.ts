import type { DuckDBConnection } from '@duckdb/node-api';
import { PulseError } from '../errors.js';
import { queryRows, type Row } from '../warehouse/index.js';
import type { Catalogue, Dimension, KpiDefinition } from './catalogue.js';
import { DIMENSIONS } from './catalogue.js';
import {
  baseAnswer,
  componentsOf,
  pointOf,
  revenueShare,
  snapshotPointOf,
  type KpiAnswer,
  type KpiPoint,
} from './answer.js';
import { isCurrencyCode } from '../contracts/index.js';
import {
  compileMeasureQuery,
  convertsCurrency,
  compileSnapshotQuery,
  kpiInputs,
  SERIES_GRAINS,
  type SeriesGrain,
} from './compile.js';
import { drillRecords } from './drill.js';
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
  /** Confines the answer to one marketplace seller's rows. */
  readonly seller?: string | undefined;
  /** The reporting currency of money KPIs (ISO 4217, default EUR); it needs FX rates. */
  readonly currency?: string | undefined;
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

  get timeZone(): string {
    return this.#timeZone;
  }

  /** The window a request names, resolved against the clock now. */
  resolveWindow(request: KpiRequest): TimeWindow {
    return this.#window(request, this.#now());
  }

  /** A dense series over an explicit window (what forecasts read). */
  async series(
    id: string,
    request: { from: string; to: string; series: SeriesGrain; seller?: string | undefined },
  ): Promise<readonly { ts: string; value: string | number | null }[]> {
    return (await this.compute(id, request)).series ?? [];
  }

  /** One page of the records under a KPI's value in a window, optionally for one dimension value. */
  async drill(
    id: string,
    request: KpiRequest & { dimension?: string; value?: string | null; limit: number; offset: number },
  ): Promise<{ rows: Row[]; next_offset: number | null }> {
    const kpi = this.definition(id);
    if (request.seller !== undefined && !kpi.dimensions.includes('seller')) {
      throw new PulseError('PULSE_ERR_FORBIDDEN', `${kpi.id} is not available per seller`, { field: 'id' });
    }
    const dimension = parseBy(kpi, request.dimension);
    if (dimension === undefined && request.value !== undefined) {
      throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'value needs a dimension', { field: 'value' });
    }
    return drillRecords(this.#connection, kpi, {
      window: this.#window(request, this.#now()),
      filter: dimension === undefined ? undefined : { dimension, value: request.value ?? null },
      seller: request.seller,
      limit: request.limit,
      offset: request.offset,
    });
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
    await this.#checkCurrency(request.currency);
    const answers: KpiAnswer[] = [];
    for (const kpi of this.catalogue.kpis) {
      if (request.seller !== undefined && !kpi.dimensions.includes('seller')) continue;
      answers.push(await this.compute(kpi.id, { ...request, by: undefined, series: undefined }));
    }
    return answers;
  }

  async compute(id: string, request: KpiRequest = {}): Promise<KpiAnswer> {
    const kpi = this.definition(id);
    if (request.seller !== undefined && !kpi.dimensions.includes('seller')) {
      throw new PulseError('PULSE_ERR_FORBIDDEN', `${kpi.id} is not available per seller`, { field: 'id' });
    }
    const now = this.#now();
    const window = this.#window(request, now);
    const by = parseBy(kpi, request.by);
    const series = parseSeries(request.series);
    await this.#checkCurrency(request.currency);
    if (series && by)
      throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'by and series cannot be combined', {
        field: 'series',
      });
    return kpi.snapshot
      ? this.#snapshot(kpi, window, by, series, now)
      : this.#additive(kpi, window, by, series, now, request.seller, request.currency);
  }

  /** Every money KPI can be asked for in a currency with FX rates; anything else is a 400 naming `currency`. */
  async #checkCurrency(currency: string | undefined): Promise<void> {
    if (currency === undefined || currency === 'EUR') return;
    if (!isCurrencyCode(currency)) {
      throw new PulseError(
        'PULSE_ERR_INVALID_PARAMETER',
        `currency must be an ISO 4217 code such as EUR or GBP, got "${currency.slice(0, 16)}"`,
        { field: 'currency' },
      );
    }
    const rows = await queryRows(
      this.#connection,
      'SELECT count(*)::INTEGER AS n FROM dim_fx_rate WHERE currency = $currency',
      { currency },
    );
    if (Number(rows[0]?.n ?? 0) === 0) {
      throw new PulseError(
        'PULSE_ERR_INVALID_PARAMETER',
        `currency ${currency} has no FX rates: send fx.rate events for it to report in it`,
        { field: 'currency' },
      );
    }
  }

  async #additive(
    kpi: KpiDefinition,
    window: TimeWindow,
    by: Dimension | undefined,
    series: SeriesGrain | undefined,
    now: Date,
    seller?: string,
    currency?: string,
  ): Promise<KpiAnswer> {
    const run = async (b?: Dimension, s?: SeriesGrain): Promise<Row[]> => {
      const query = compileMeasureQuery(kpi, {
        window,
        by: b,
        series: s,
        timeZone: this.#timeZone,
        seller,
        currency,
      });
      return queryRows(this.#connection, query.sql, query.params);
    };
    const totalRow = (await run())[0] ?? {};
    const base = this.#base(kpi, window, totalRow, now);
    const answer = convertsCurrency(kpi, { currency }) ? { ...base, unit: currency as string } : base;
    const point = (row: Row): KpiPoint => pointOf(kpi, row.numerator, row.denominator);
    let extra: Partial<KpiAnswer> = {};
    const components = componentsOf(kpi, (name) => totalRow[`component_${name}`]);
    if (components) extra = { components };
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
          (row) => pointOf(kpi, row.numerator, row.denominator).value,
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
    const point = (row: Row): KpiPoint => snapshotPointOf(row.numerator, row.denominator);
    const totalRow = (await at(window.to))[0] ?? {};
    let extra: Partial<KpiAnswer> = {
      revenue_share: revenueShare(totalRow.revenue_at_risk, totalRow.revenue_total),
    };
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
    return baseAnswer(kpi, kpiInputs(kpi), window, row.as_of, row.newest_ingest, now);
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
