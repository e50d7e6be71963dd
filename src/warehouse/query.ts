import type { DuckDBConnection, DuckDBPreparedStatement, DuckDBValue } from '@duckdb/node-api';

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

/**
 * Prepared statements of one connection, by SQL text: a query asked again and again with other
 * parameters (the live values, at every refresh) is planned once. Planning was a third of such a
 * query's time. A statement that fails is forgotten and tried once more unprepared, so a table
 * replaced since it was prepared (a full rebuild) costs one retry, never a wrong answer.
 */
export class PreparedQueries {
  readonly #connection: DuckDBConnection;
  readonly #statements = new Map<string, DuckDBPreparedStatement>();
  /** Texts kept at most: a query built with other literals each time must not grow the cache forever. */
  readonly #limit: number;

  constructor(connection: DuckDBConnection, limit = 256) {
    this.#connection = connection;
    this.#limit = limit;
  }

  async rows(sql: string, params: Record<string, DuckDBValue> = {}): Promise<Row[]> {
    let statement = this.#statements.get(sql);
    if (!statement) {
      if (this.#statements.size >= this.#limit) this.clear();
      statement = await this.#connection.prepare(sql);
      this.#statements.set(sql, statement);
    }
    try {
      statement.clearBindings();
      statement.bind(params as never);
      return (await statement.runAndReadAll()).getRowObjectsJson() as Row[];
    } catch {
      this.#statements.delete(sql);
      statement.destroySync();
      return queryRows(this.#connection, sql, params);
    }
  }

  clear(): void {
    for (const statement of this.#statements.values()) statement.destroySync();
    this.#statements.clear();
  }
}
