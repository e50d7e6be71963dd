import type { DuckDBConnection } from '@duckdb/node-api';
import { minuteStartMs, queryRows } from '../warehouse/index.js';

/**
 * The business-time columns of a model: its TIMESTAMP columns but the bookkeeping ones (`_…`).
 * A KPI measure's `ts` is one of them, so the minutes of these columns in the rows a run rewrote
 * are the minutes whose aggregates the run may have changed.
 */
export async function businessTimeColumns(connection: DuckDBConnection, table: string): Promise<string[]> {
  const rows = await queryRows(
    connection,
    `SELECT column_name FROM duckdb_columns()
     WHERE table_name = $table AND schema_name = 'main' AND database_name = current_database()
       AND data_type IN ('TIMESTAMP WITH TIME ZONE', 'TIMESTAMP') AND column_name NOT LIKE '\\_%' ESCAPE '\\'
     ORDER BY column_index`,
    { table },
  );
  return rows.map((row) => String(row.column_name));
}

/** A list of the minutes (epoch ms) of `columns`. */
function minutesList(columns: readonly string[]): string {
  return `[${columns.map(minuteStartMs).join(', ')}]`;
}

/** The distinct minutes of `columns` over the rows of a table or a subquery (a run's delta, the rows it replaces). */
export async function minutesOf(
  connection: DuckDBConnection,
  table: string,
  columns: readonly string[],
): Promise<number[]> {
  if (columns.length === 0) return [];
  const rows = await queryRows(
    connection,
    `SELECT DISTINCT m FROM (SELECT unnest(${minutesList(columns)}) AS m FROM ${table}) WHERE m IS NOT NULL`,
  );
  return rows.map((row) => Number(row.m));
}
