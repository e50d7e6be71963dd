import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';

/** A column as `from_json` reads it: its name in the JSON object and the DuckDB type of its values. */
export interface JsonColumn {
  readonly name: string;
  readonly type: 'BIGINT' | 'VARCHAR' | 'BOOLEAN' | 'TIMESTAMPTZ';
}

/** A value a JSON column holds (a bigint within ±2^53 goes as a JSON number). */
export type JsonCell = string | number | bigint | boolean | null;

/**
 * Groups of at most this many rows go in as one JSON text; larger ones through the appender.
 *
 * An appender's flush runs on the calling thread, the event loop, and costs about 1.5 ms however
 * few rows it holds (measured here: 1.8 ms for 80 rows of bronze staging, 0.4 ms for 10 integers).
 * The JSON text is bound in about 3 µs a row and parsed by DuckDB on its own thread, so a small
 * group costs the event loop about 0.3 ms. Past a few hundred rows the binding costs as much as the
 * appender and the parsing more CPU in all, and the appender is the faster bulk path.
 */
export const JSON_INSERT_MAX_ROWS = 256;

/**
 * Nor more than this many characters of strings: a group of a few large events would otherwise
 * make a text of hundreds of MB (held twice while it is bound), or one past V8's longest string.
 */
export const JSON_INSERT_MAX_CHARS = 1 << 20;

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_EXACT = BigInt(Number.MIN_SAFE_INTEGER);

/**
 * Inserts rows into one table through a single VARCHAR parameter: `{"column": [values…], …}`, read
 * by `from_json` and unnested column by column, in a statement prepared once per connection.
 */
export class JsonInsert {
  readonly #connection: DuckDBConnection;
  readonly #sql: string;
  readonly #columns: readonly JsonColumn[];
  #prepared: Promise<DuckDBPreparedStatement> | undefined;

  constructor(connection: DuckDBConnection, table: string, columns: readonly JsonColumn[]) {
    this.#connection = connection;
    this.#columns = columns;
    const structure = JSON.stringify(Object.fromEntries(columns.map((c) => [c.name, [c.type]])));
    const unnested = columns.map((c) => `unnest(j."${c.name}")`).join(', ');
    this.#sql = `INSERT INTO ${table} SELECT ${unnested} FROM (SELECT from_json($rows, '${structure}') AS j)`;
  }

  /**
   * Whether these columns can go as JSON text exactly and cheaply: at most JSON_INSERT_MAX_ROWS rows
   * and JSON_INSERT_MAX_CHARS characters of strings, every string well formed (a lone surrogate is
   * invalid JSON for DuckDB, where the appender would store U+FFFD) and every bigint within the
   * range a JSON number holds exactly.
   */
  static fits(columns: readonly (readonly JsonCell[])[]): boolean {
    if ((columns[0]?.length ?? 0) > JSON_INSERT_MAX_ROWS) return false;
    let chars = 0;
    for (const column of columns) {
      for (const value of column) {
        if (typeof value === 'string') {
          chars += value.length;
          if (chars > JSON_INSERT_MAX_CHARS) return false;
          if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) return false;
        } else if (typeof value === 'bigint') {
          if (value > MAX_EXACT || value < MIN_EXACT) return false;
        }
      }
    }
    return true;
  }

  /** Inserts the rows, `columns` in the order given at construction, all of the same length. */
  async insert(columns: readonly (readonly JsonCell[])[]): Promise<void> {
    // unnest pads shorter lists with NULL: a missing or short column would store NULLs silently.
    const rows = columns[0]?.length ?? 0;
    if (columns.length !== this.#columns.length || columns.some((column) => column.length !== rows)) {
      throw new Error(`JsonInsert: expected ${this.#columns.length} columns of equal length`);
    }
    const text = JSON.stringify(
      Object.fromEntries(
        this.#columns.map((c, i) => {
          const values = columns[i] as readonly JsonCell[];
          return [
            c.name,
            c.type === 'BIGINT' ? values.map((v) => (typeof v === 'bigint' ? Number(v) : v)) : values,
          ];
        }),
      ),
    );
    // A failed prepare is tried again at the next insert rather than kept.
    this.#prepared ??= this.#connection.prepare(this.#sql).catch((error: unknown) => {
      this.#prepared = undefined;
      throw error;
    });
    const prepared = await this.#prepared;
    prepared.bindVarchar(1, text);
    try {
      await prepared.run();
    } finally {
      // The bound text would otherwise stay in memory until the next small group.
      prepared.clearBindings();
    }
  }
}
