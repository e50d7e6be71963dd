import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { PulseError } from '../../errors.js';
import { COUNTRY_NAMES } from './countries.js';
import type { Mapping } from './mapping.js';

export type TabularFormat = 'csv' | 'parquet' | 'jsonl';

/** One mapped event as the mapping query wrote it. */
export interface MappedRow {
  readonly id: string | null;
  readonly type: string | null;
  readonly time: string | null;
  readonly data: string | null;
}

export interface ReaderOptions {
  /** DuckDB memory for reading (it spills to a temporary folder beyond it). */
  readonly memoryLimit?: string;
  readonly threads?: number;
  /** The longest CSV line accepted, in bytes. */
  readonly maxLineBytes?: number;
}

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;
const sqlName = (text: string) => `"${text.replaceAll('"', '""')}"`;

/**
 * Reads export files with mappings on a DuckDB of its own (in memory, spilling to a temporary
 * folder), never on the warehouse's connections: a big file's SQL never holds up a commit.
 * One file at a time.
 */
export class MappingReader {
  readonly #instance: DuckDBInstance;
  readonly #connection: DuckDBConnection;
  readonly #spill: string;
  readonly #maxLineBytes: number;

  private constructor(
    instance: DuckDBInstance,
    connection: DuckDBConnection,
    spill: string,
    maxLine: number,
  ) {
    this.#instance = instance;
    this.#connection = connection;
    this.#spill = spill;
    this.#maxLineBytes = maxLine;
  }

  static async open(options: ReaderOptions = {}): Promise<MappingReader> {
    const spill = mkdtempSync(join(tmpdir(), 'pulse-files-'));
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: options.memoryLimit ?? '512MB',
      threads: String(options.threads ?? 2),
      temp_directory: spill,
    });
    const connection = await instance.connect();
    await connection.run(`SET TimeZone = 'UTC'`);
    const names = Object.entries(COUNTRY_NAMES)
      .map(([name, code]) => `(${sqlString(name)}, ${sqlString(code)})`)
      .join(', ');
    await connection.run(`CREATE TABLE country_codes (name VARCHAR PRIMARY KEY, code VARCHAR)`);
    await connection.run(`INSERT INTO country_codes VALUES ${names}`);
    return new MappingReader(instance, connection, spill, options.maxLineBytes ?? 1024 * 1024);
  }

  /**
   * Loads the file's rows into `source_rows` and runs the mapping into `mapped`. Returns the rows
   * read and the events the mapping made; nothing is delivered yet.
   */
  async map(
    path: string,
    format: TabularFormat,
    mapping: Mapping,
  ): Promise<{ rows: number; events: number }> {
    await this.#connection.run('DROP TABLE IF EXISTS source_rows; DROP TABLE IF EXISTS mapped');
    const read =
      format === 'csv'
        ? // RFC 4180 only: a stray quote is an error, not a character the sniffer guesses around.
          `read_csv(${sqlString(path)}, all_varchar = true, header = true, strict_mode = true, ` +
          `delim = ',', quote = '"', escape = '"', max_line_size = ${this.#maxLineBytes})`
        : format === 'parquet'
          ? `read_parquet(${sqlString(path)})`
          : `read_json(${sqlString(path)}, format = 'newline_delimited', maximum_object_size = ${this.#maxLineBytes})`;
    try {
      await this.#connection.run(
        `CREATE TEMP TABLE source_rows AS SELECT row_number() OVER () AS _row, * FROM ${read}`,
      );
    } catch (error) {
      const message = (error as Error).message;
      if (/Maximum line size of \d+ bytes exceeded|maximum_object_size/.test(message)) {
        const line = /Error on Line: (\d+)/.exec(message)?.[1];
        throw new PulseError(
          'PULSE_ERR_FILE_LINE_TOO_LONG',
          `${line ? `line ${line}` : 'a line'} is longer than ${this.#maxLineBytes} bytes (max_line_bytes)`,
          { field: line ? `line ${line}` : 'file' },
        );
      }
      throw new PulseError(
        'PULSE_ERR_FILE_UNREADABLE',
        `not a readable ${format.toUpperCase()} file: ${firstLine(message)}`,
        {
          field: 'file',
        },
      );
    }
    const described = await this.#connection.runAndReadAll(`DESCRIBE source_rows`);
    const present = new Set(described.getRowObjectsJson().map((row) => String(row.column_name)));
    const missing = mapping.columns.filter((column) => !present.has(column));
    if (missing.length > 0) {
      throw new PulseError(
        'PULSE_ERR_FILE_COLUMNS',
        `mapping ${mapping.name} needs columns ${missing.map((c) => JSON.stringify(c)).join(', ')}, ` +
          `which the file lacks (it has ${[...present]
            .filter((c) => c !== '_row')
            .slice(0, 30)
            .map((c) => JSON.stringify(c))
            .join(', ')})`,
        { field: 'columns', details: { missing } },
      );
    }
    for (const column of mapping.optional.filter((c) => !present.has(c))) {
      await this.#connection.run(`ALTER TABLE source_rows ADD COLUMN ${sqlName(column)} VARCHAR`);
    }
    const rows = Number((await this.#scalar('SELECT count(*) FROM source_rows')) ?? 0);
    try {
      await this.#connection.run(`CREATE TEMP TABLE mapped AS ${mapping.sql}`);
    } catch (error) {
      throw new PulseError(
        'PULSE_ERR_FILE_UNREADABLE',
        `mapping ${mapping.name} failed on this file: ${firstLine((error as Error).message)}`,
        { field: 'mapping' },
      );
    }
    const events = Number((await this.#scalar('SELECT count(*) FROM mapped')) ?? 0);
    return { rows, events };
  }

  /** The mapped events in file order, `size` at a time: only one chunk is in memory. */
  async *events(size: number): AsyncGenerator<MappedRow[]> {
    const result = await this.#connection.stream(
      'SELECT id::VARCHAR, type::VARCHAR, time::VARCHAR, data::VARCHAR FROM mapped ORDER BY seq',
    );
    let batch: MappedRow[] = [];
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const [id, type, time, data] of chunk.getRows()) {
        batch.push({
          id: id as string | null,
          type: type as string | null,
          time: time as string | null,
          data: data as string | null,
        });
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield batch;
  }

  /** Frees the tables of the last file. */
  async clear(): Promise<void> {
    await this.#connection.run('DROP TABLE IF EXISTS source_rows; DROP TABLE IF EXISTS mapped');
  }

  async close(): Promise<void> {
    this.#connection.closeSync();
    this.#instance.closeSync();
    rmSync(this.#spill, { recursive: true, force: true });
  }

  async #scalar(sql: string): Promise<unknown> {
    const reader = await this.#connection.runAndReadAll(sql);
    return reader.getRowsJson()[0]?.[0];
  }
}

/** DuckDB's errors run over many lines; the first two say what went wrong. */
function firstLine(message: string): string {
  return message
    .split('\n')
    .slice(0, 2)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(' ')
    .slice(0, 500);
}
