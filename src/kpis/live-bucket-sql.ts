import type { Dimension, KpiDefinition, Measure } from './catalogue.js';
import { expandMeasureSql, type CompiledQuery } from './compile.js';
import { groupingSets } from './live-compile.js';
import { minuteStart } from '../warehouse/index.js';

/** The label of the part-minute since the last whole minute, which the windows share. */
export const TAIL = 'tail';

/** A half-open span of business time in epoch ms, and the window alias it counts for. */
export interface Span {
  readonly from: number;
  readonly to: number;
}
export interface LabelledSpan extends Span {
  readonly label: string;
}

/**
 * Measures a live value can sum from minute buckets. A sum always adds across minutes; a distinct
 * count only when each key has one time (declared in the catalogue). A measure that joins another
 * table is left to the row path: a change to the joined table's rows moves amounts in minutes that
 * no changed row of the measure's own table names.
 */
export function summableByMinute(measure: Measure, sql: string): boolean {
  if (measure.aggregate === 'count_distinct' && measure.one_time_per_key !== true) return false;
  return !/\bjoin\b/i.test(sql);
}

/** The aggregates of one group of rows, in the order the bucket table and the edge rows share. */
function partials(measure: Measure): string {
  const value = measure.aggregate === 'sum' ? 'sum(amount)' : 'count(DISTINCT key)';
  const components = Object.keys(measure.components ?? {}).map(
    (name) => `, sum(amount) FILTER (WHERE component = '${name}') AS c_${name}`,
  );
  return `${value} AS v, max(ts) AS last_ts, max(_ingested_at) AS last_ingest${components.join('')}`;
}

/** Each span's rows of the measure, labelled: one range filter per branch lets zone maps prune. */
function spanRows(
  kpi: KpiDefinition,
  sql: string,
  spans: readonly LabelledSpan[],
  params: Record<string, string>,
  prefix: string,
): string {
  const rows = expandMeasureSql(kpi, sql);
  return spans
    .map((span, i) => {
      params[`${prefix}f${i}`] = new Date(span.from).toISOString();
      params[`${prefix}t${i}`] = new Date(span.to).toISOString();
      return `SELECT '${span.label}' AS span_, * FROM (${rows}) AS r_ WHERE ts >= $${prefix}f${i}::TIMESTAMPTZ AND ts < $${prefix}t${i}::TIMESTAMPTZ`;
    })
    .join('\nUNION ALL\n');
}

/**
 * The minute buckets of `spans` (whole minutes), one row per minute and group (the total and
 * each dimension's values): the rows a bucket table holds.
 */
export function compileBucketRows(
  kpi: KpiDefinition,
  measure: Measure,
  sql: string,
  dimensions: readonly Dimension[],
  spans: readonly Span[],
): CompiledQuery {
  const params: Record<string, string> = {};
  const labelled = spans.map((span) => ({ ...span, label: '' }));
  const grouping = groupingSets(dimensions, ['minute_']);
  return {
    sql: `SELECT minute_ AS minute, ${grouping.columns}, ${partials(measure)}
FROM (SELECT ${minuteStart('ts')} AS minute_, * FROM (${spanRows(kpi, sql, labelled, params, 'b')}))
GROUP BY ${grouping.groupBy}`,
    params,
  };
}

/**
 * The live rows of a measure in the shape `compileLiveMeasure` answers (win, dim, key, v, asof,
 * newest, c_*): each window sums the buckets of its whole minutes (`closed`, by window alias) and
 * aggregates its own rows at the edges (`edges`, by window alias), plus the part-minute labelled
 * `tail`, read once and added to each window of `sharing`.
 */
export function compileBucketedLive(
  kpi: KpiDefinition,
  measure: Measure,
  sql: string,
  dimensions: readonly Dimension[],
  table: string,
  closed: readonly LabelledSpan[],
  edges: readonly LabelledSpan[],
  sharing: readonly string[],
): CompiledQuery {
  const params: Record<string, string> = {};
  const components = Object.keys(measure.components ?? {});
  const columns = ['v', 'last_ts', 'last_ingest', ...components.map((name) => `c_${name}`)];
  const total = kpi.kind === 'money' ? 'round(sum(v), 2)' : 'sum(v)';
  const closedValues = closed.map((span, i) => {
    params[`cf${i}`] = new Date(span.from).toISOString();
    params[`ct${i}`] = new Date(span.to).toISOString();
    return `('${span.label}', $cf${i}::TIMESTAMPTZ, $ct${i}::TIMESTAMPTZ)`;
  });
  // Which window each edge label counts for: its own, and the shared tail for each window sharing it.
  const labels = [...new Set(edges.map((span) => span.label))];
  const targets = labels.flatMap((label) =>
    label === TAIL ? sharing.map((name) => `('${label}', '${name}')`) : [`('${label}', '${label}')`],
  );
  const grouping = groupingSets(dimensions, ['span_']);
  const componentTotals = components.map(
    (name) => `,\n       round(sum(c_${name}), 2)::VARCHAR AS c_${name}`,
  );
  return {
    sql: `SELECT win, dim, key, ${total}::VARCHAR AS v, epoch_ms(max(last_ts)) AS asof, epoch_ms(max(last_ingest)) AS newest${componentTotals.join('')}
FROM (
  SELECT w_.name AS win, b_.dim, b_.key, ${columns.map((c) => `b_.${c}`).join(', ')}
  FROM ${table} AS b_ JOIN (VALUES ${closedValues.join(', ')}) AS w_(name, f, t) ON b_.minute >= w_.f AND b_.minute < w_.t
  UNION ALL
  SELECT m_.name AS win, e_.dim, e_.key, ${columns.map((c) => `e_.${c}`).join(', ')}
  FROM (
    SELECT span_ AS label, ${grouping.columns}, ${partials(measure)}
    FROM (${spanRows(kpi, sql, edges, params, 'e')}) AS rows_
    GROUP BY ${grouping.groupBy}
  ) AS e_ JOIN (VALUES ${targets.join(', ')}) AS m_(label, name) ON e_.label = m_.label
) AS parts_
GROUP BY win, dim, key`,
    params,
  };
}
