import type { Dimension, KpiDefinition, Measure } from './catalogue.js';
import type { TimeWindow } from './windows.js';

export const SERIES_GRAINS = ['minute', 'hour', 'day'] as const;
export type SeriesGrain = (typeof SERIES_GRAINS)[number];

export interface CompiledQuery {
  readonly sql: string;
  readonly params: Readonly<Record<string, string>>;
}

export interface MeasureQuery {
  readonly window: TimeWindow;
  readonly by?: Dimension | undefined;
  readonly series?: SeriesGrain | undefined;
  readonly timeZone: string;
  /** Only the rows of this marketplace seller (a seller's key sees nothing else). */
  readonly seller?: string | undefined;
  /** The reporting currency of money KPIs (default EUR): each row converts at its own hour's rate. */
  readonly currency?: string | undefined;
}

const REF = /\{\{\s*ref\(\s*'([a-z0-9_]+)'\s*\)\s*\}\}/g;
const WEIGHT = /\{\{\s*weight\(\s*'([a-z0-9_]+)'\s*\)\s*\}\}/g;
const AT = /\{\{\s*at\s*\}\}/g;

/** The gold tables a measure's SQL (or several, joined) reads. */
export function refsOf(sql: string): string[] {
  return [...new Set([...sql.matchAll(REF)].map((m) => m[1] as string))].sort();
}

/** The gold tables a KPI reads: its lineage one step up. */
export function kpiInputs(kpi: KpiDefinition): string[] {
  const texts = [
    kpi.numerator?.sql,
    ...Object.values(kpi.numerator?.sql_by ?? {}),
    kpi.denominator?.sql,
    kpi.snapshot?.sql,
  ];
  return refsOf(texts.filter((text) => text !== undefined).join('\n'));
}

/**
 * The measure SQL with refs, weights and the snapshot instant filled in; `tables` names what to
 * read in place of a ref (a relation the query defines).
 */
export function expandMeasureSql(
  kpi: KpiDefinition,
  sql: string,
  tables?: ReadonlyMap<string, string>,
): string {
  return sql
    .replace(REF, (_all, name: string) => tables?.get(name) ?? name)
    .replace(WEIGHT, (_all, column: string) => {
      const weights = Object.entries(kpi.weights ?? {});
      const cases = weights.map(
        ([key, weight]) => `WHEN '${key.replaceAll("'", "''")}' THEN ${weight}::DECIMAL(9, 4)`,
      );
      return `(CASE ${column} ${cases.join(' ')} ELSE 1::DECIMAL(9, 4) END)`;
    })
    .replace(AT, '$at::TIMESTAMPTZ');
}

function groupExpression(query: MeasureQuery): string {
  if (query.series === 'minute') return `epoch_ms(date_trunc('minute', ts))`;
  if (query.series === 'hour') return `epoch_ms(date_trunc('hour', ts))`;
  if (query.series === 'day') return `epoch_ms(timezone($tz, date_trunc('day', timezone($tz, ts))))`;
  if (query.by) return `${query.by}::VARCHAR`;
  return 'NULL::VARCHAR';
}

/**
 * Converts each row's EUR amount to the reporting currency at the rate of the hour of its business
 * time (or the latest earlier hour), the rule silver uses to convert into EUR, so an amount first
 * converted from that currency comes back exactly. Integer arithmetic in 1e-12 units keeps it
 * DECIMAL (DuckDB divides decimals as doubles); a row with no rate is held out, as in EUR.
 */
function inReportingCurrency(rowsSql: string): string {
  return `SELECT rows_.* REPLACE (
    CASE WHEN rows_.amount IS NULL OR fx_.rate_to_eur IS NULL THEN NULL
         ELSE ((rows_.amount * 1000000000000)::HUGEINT * 10000000000
               // (fx_.rate_to_eur * 10000000000)::HUGEINT)::DECIMAL(38, 0) * 0.000000000001::DECIMAL(13, 12)
    END::DECIMAL(38, 12) AS amount)
  FROM (${rowsSql}) AS rows_
  ASOF LEFT JOIN dim_fx_rate fx_ ON fx_.currency = $currency AND rows_.ts >= fx_.hour`;
}

/** True when the query asks for money in a currency other than EUR. */
export function convertsCurrency(kpi: KpiDefinition, query: { currency?: string | undefined }): boolean {
  return kpi.kind === 'money' && query.currency !== undefined && query.currency !== 'EUR';
}

function measureSelect(kpi: KpiDefinition, measure: Measure, query: MeasureQuery, alias: string): string {
  const sql = (query.by && measure.sql_by?.[query.by]) ?? measure.sql;
  const rows = convertsCurrency(kpi, query)
    ? inReportingCurrency(expandMeasureSql(kpi, sql))
    : expandMeasureSql(kpi, sql);
  const grouped = query.by !== undefined || query.series !== undefined;
  const total = measure.aggregate === 'sum' ? 'sum(amount)' : 'count(DISTINCT key)';
  const exact = kpi.kind === 'money' ? `round(${total}, 2)` : total;
  const components = Object.keys(measure.components ?? {}).map(
    (name) => `, round(sum(amount) FILTER (WHERE component = '${name}'), 2)::VARCHAR AS component_${name}`,
  );
  return `${alias} AS (
  SELECT ${groupExpression(query)} AS grp,
         ${exact}::VARCHAR AS value${components.join('')},
         epoch_ms(max(ts)) AS as_of,
         epoch_ms(max(_ingested_at)) AS newest_ingest
  FROM (${rows}) AS rows_
  WHERE ts >= $from::TIMESTAMPTZ AND ts < $to::TIMESTAMPTZ${query.seller !== undefined ? ' AND seller = $seller' : ''}
  ${grouped ? 'GROUP BY 1' : ''}
)`;
}

/**
 * Compiles an additive KPI (a numerator and an optional denominator) for one window into one SQL
 * query: one row per group (the whole window, a dimension value or a time bucket) with the exact
 * numerator and denominator as text, the newest business time and the newest ingest time.
 */
export function compileMeasureQuery(kpi: KpiDefinition, query: MeasureQuery): CompiledQuery {
  if (!kpi.numerator) throw new Error(`KPI ${kpi.id} is a snapshot KPI`);
  const numerator = measureSelect(kpi, kpi.numerator, query, 'num');
  const componentColumns = Object.keys(kpi.numerator.components ?? {}).map(
    (name) => `, num.component_${name}`,
  );
  const params: Record<string, string> = {
    from: query.window.from.toISOString(),
    to: query.window.to.toISOString(),
  };
  if (query.series === 'day') params.tz = query.timeZone;
  if (query.seller !== undefined) params.seller = query.seller;
  if (convertsCurrency(kpi, query)) params.currency = query.currency as string;
  if (!kpi.denominator) {
    return {
      sql: `WITH ${numerator}
SELECT grp, value AS numerator, NULL AS denominator${componentColumns.join('')}, as_of, newest_ingest FROM num ORDER BY grp NULLS LAST`,
      params,
    };
  }
  const denominator = measureSelect(kpi, kpi.denominator, query, 'den');
  return {
    sql: `WITH ${numerator},
${denominator}
SELECT coalesce(num.grp, den.grp) AS grp, num.value AS numerator, den.value AS denominator${componentColumns.join('')},
       greatest(num.as_of, den.as_of) AS as_of, greatest(num.newest_ingest, den.newest_ingest) AS newest_ingest
FROM num FULL OUTER JOIN den ON num.grp IS NOT DISTINCT FROM den.grp
ORDER BY 1 NULLS LAST`,
    params,
  };
}

/**
 * Compiles a point-in-time KPI (Inventory Risk) at `at`: one row per group with the count at
 * risk, the count evaluated and the revenue share.
 */
/** What a point-in-time KPI aggregates over its rows (one per SKU evaluated). */
export const SNAPSHOT_AGGREGATES = `count(*) FILTER (WHERE at_risk)::VARCHAR AS numerator,
       count(*)::VARCHAR AS denominator,
       (sum(revenue) FILTER (WHERE at_risk))::VARCHAR AS revenue_at_risk,
       sum(revenue)::VARCHAR AS revenue_total,
       epoch_ms(max(ts)) AS as_of,
       epoch_ms(max(_ingested_at)) AS newest_ingest`;

export function compileSnapshotQuery(kpi: KpiDefinition, at: Date, by?: Dimension): CompiledQuery {
  if (!kpi.snapshot) throw new Error(`KPI ${kpi.id} is not a snapshot KPI`);
  const group = by ? `${by}::VARCHAR` : 'NULL::VARCHAR';
  return {
    sql: `SELECT ${group} AS grp,
       ${SNAPSHOT_AGGREGATES}
FROM (${expandMeasureSql(kpi, kpi.snapshot.sql)}) AS rows_
${by ? 'GROUP BY 1' : ''}
ORDER BY 1 NULLS LAST`,
    params: { at: at.toISOString() },
  };
}
