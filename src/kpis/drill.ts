import type { DuckDBConnection } from '@duckdb/node-api';
import { PulseError } from '../errors.js';
import { queryRows, type Row } from '../warehouse/index.js';
import type { Dimension, KpiDefinition } from './catalogue.js';
import { expandMeasureSql, type CompiledQuery } from './compile.js';
import type { TimeWindow } from './windows.js';

export const DRILL_MAX_LIMIT = 500;

export interface DrillQuery {
  readonly window: TimeWindow;
  /** Only the records of this dimension value (null: those with no value). */
  readonly filter?: { readonly dimension: Dimension; readonly value: string | null } | undefined;
  readonly seller?: string | undefined;
  readonly limit: number;
  readonly offset: number;
}

/** The catalogue's drill SQL of a KPI, filtered to a window (and a dimension value), newest first. */
export function compileDrillQuery(kpi: KpiDefinition, query: DrillQuery): CompiledQuery {
  if (!kpi.drill) {
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `${kpi.id} has no records to drill into`, {
      field: 'id',
    });
  }
  const params: Record<string, string> = {
    from: query.window.from.toISOString(),
    to: query.window.to.toISOString(),
  };
  const where = ['ts >= $from::TIMESTAMPTZ', 'ts < $to::TIMESTAMPTZ'];
  if (query.filter) {
    // The dimension is one of the catalogue's names, checked by the caller: safe to splice.
    if (query.filter.value === null) where.push(`${query.filter.dimension} IS NULL`);
    else {
      where.push(`${query.filter.dimension}::VARCHAR = $value`);
      params.value = query.filter.value;
    }
  }
  if (query.seller !== undefined) {
    where.push('seller::VARCHAR = $seller');
    params.seller = query.seller;
  }
  return {
    sql: `SELECT epoch_ms(ts) AS ts_ms, * EXCLUDE (ts)
      FROM (${expandMeasureSql(kpi, kpi.drill.sql)}) records
      WHERE ${where.join(' AND ')}
      ORDER BY ts DESC, record, record_key
      LIMIT ${query.limit + 1} OFFSET ${query.offset}`,
    params,
  };
}

/** One page of the records under a value, and the offset of the next page (null at the end). */
export async function drillRecords(
  connection: DuckDBConnection,
  kpi: KpiDefinition,
  query: DrillQuery,
): Promise<{ rows: Row[]; next_offset: number | null }> {
  const compiled = compileDrillQuery(kpi, query);
  const rows = await queryRows(connection, compiled.sql, compiled.params);
  const more = rows.length > query.limit;
  return {
    rows: rows.slice(0, query.limit).map(({ ts_ms, ...rest }) => ({
      ts: new Date(Number(ts_ms)).toISOString(),
      ...rest,
    })),
    next_offset: more ? query.offset + query.limit : null,
  };
}
