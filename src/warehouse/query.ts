import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';

/** A result row as JSON-safe values: DECIMAL and BIGINT come back as strings, never as floats. */
export type Row = Record<string, string | number | boolean | null>;

/** Runs one read query with bound parameters; the only way the layers above read the warehouse. */
export async function queryRows(
  connection: DuckDBConnection,
  sql: string,
  params?: Record<string, DuckDBValue> | DuckDBValue[],
): Promise<Row[]> {
  const reader = await connection.runAndReadAll(sql, params as never);
  return reader.getRowObjectsJson() as Row[];
}
