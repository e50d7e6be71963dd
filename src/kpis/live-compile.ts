import type { Dimension, KpiDefinition, Measure } from './catalogue.js';
import { expandMeasureSql, SNAPSHOT_AGGREGATES, type CompiledQuery } from './compile.js';
import type { NamedWindow, TimeWindow } from './windows.js';

export type LiveWindows = Readonly<Record<NamedWindow, TimeWindow>>;

export const LIVE_WINDOWS: readonly NamedWindow[] = ['today', '1h', '24h'];

/** Column names are SQL identifiers, so the windows get safe aliases. */
const ALIAS: Record<NamedWindow, string> = { today: 'today', '1h': 'h1', '24h': 'h24' };

export function windowAlias(window: NamedWindow): string {
  return ALIAS[window];
}

/**
 * One query for every live value of an additive KPI: all named windows at once (filtered
 * aggregates) and the total plus each breakdown at once (grouping sets), for one measure.
 * Rows: `dim` ('' for the total), `key`, and per window `v_<w>`, `asof_<w>`, `newest_<w>`,
 * plus `c_<component>_<w>` for the components of the numerator.
 */
export function compileLiveMeasure(
  kpi: KpiDefinition,
  measure: Measure,
  windows: LiveWindows,
  dimensions: readonly Dimension[],
  sql: string = measure.sql,
): CompiledQuery {
  const params: Record<string, string> = {};
  let lo = Infinity;
  let hi = -Infinity;
  const perWindow = LIVE_WINDOWS.map((name) => {
    const w = ALIAS[name];
    params[`f_${w}`] = windows[name].from.toISOString();
    params[`t_${w}`] = windows[name].to.toISOString();
    lo = Math.min(lo, windows[name].from.getTime());
    hi = Math.max(hi, windows[name].to.getTime());
    const inWindow = `FILTER (WHERE ts >= $f_${w}::TIMESTAMPTZ AND ts < $t_${w}::TIMESTAMPTZ)`;
    const total = measure.aggregate === 'sum' ? `sum(amount) ${inWindow}` : `count(DISTINCT key) ${inWindow}`;
    const exact = kpi.kind === 'money' ? `round(${total}, 2)` : total;
    const components = Object.keys(measure.components ?? {}).map(
      (name) =>
        `, round(sum(amount) FILTER (WHERE component = '${name}' AND ts >= $f_${w}::TIMESTAMPTZ AND ts < $t_${w}::TIMESTAMPTZ), 2)::VARCHAR AS c_${name}_${w}`,
    );
    return `${exact}::VARCHAR AS v_${w}, epoch_ms(max(ts) ${inWindow}) AS asof_${w}, epoch_ms(max(_ingested_at) ${inWindow}) AS newest_${w}${components.join('')}`;
  });
  params.lo = new Date(lo).toISOString();
  params.hi = new Date(hi).toISOString();
  const grouping = groupingSets(dimensions);
  return {
    sql: `SELECT ${grouping.columns},
       ${perWindow.join(',\n       ')}
FROM (${expandMeasureSql(kpi, sql)}) AS rows_
WHERE ts >= $lo::TIMESTAMPTZ AND ts < $hi::TIMESTAMPTZ
GROUP BY ${grouping.groupBy}`,
    params,
  };
}

/** Inventory Risk at one instant, the total and each breakdown at once. */
export function compileLiveSnapshot(kpi: KpiDefinition, at: Date): CompiledQuery {
  if (!kpi.snapshot) throw new Error(`KPI ${kpi.id} is not a snapshot KPI`);
  const grouping = groupingSets(kpi.dimensions);
  return {
    sql: `SELECT ${grouping.columns},
       ${SNAPSHOT_AGGREGATES}
FROM (${expandMeasureSql(kpi, kpi.snapshot.sql)}) AS rows_
GROUP BY ${grouping.groupBy}`,
    params: { at: at.toISOString() },
  };
}

/**
 * The total and one breakdown per dimension in one pass: `dim` names the dimension of a row ('' for
 * the total) and `key` its value; `grouping()` tells a real NULL value from an aggregated-out column.
 */
function groupingSets(dims: readonly Dimension[]): { columns: string; groupBy: string } {
  const name = dims.map((d) => `WHEN grouping(${d}) = 0 THEN '${d}'`).join(' ');
  const key = dims.map((d) => `WHEN grouping(${d}) = 0 THEN ${d}::VARCHAR`).join(' ');
  return {
    columns:
      dims.length > 0
        ? `CASE ${name} ELSE '' END AS dim, CASE ${key} END AS key`
        : `'' AS dim, NULL::VARCHAR AS key`,
    groupBy: `GROUPING SETS (${['()', ...dims.map((d) => `(${d})`)].join(', ')})`,
  };
}
