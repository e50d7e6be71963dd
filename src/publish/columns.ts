/** A gold column as DuckDB declares it and as the mart stores it. */
export interface MartColumn {
  readonly name: string;
  readonly duckType: string;
  readonly pgType: string;
  /** The DuckDB expression that renders the value as PostgreSQL input text. */
  readonly select: string;
}

const SIMPLE: Readonly<Record<string, string>> = {
  BOOLEAN: 'boolean',
  TINYINT: 'smallint',
  SMALLINT: 'smallint',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  UTINYINT: 'smallint',
  USMALLINT: 'integer',
  UINTEGER: 'bigint',
  UBIGINT: 'numeric(20,0)',
  HUGEINT: 'numeric(38,0)',
  FLOAT: 'real',
  DOUBLE: 'double precision',
  VARCHAR: 'text',
  UUID: 'uuid',
  DATE: 'date',
  INTERVAL: 'interval',
};

/** Maps a DuckDB column type onto PostgreSQL: DECIMAL stays exact NUMERIC, every timestamp becomes timestamptz. */
export function martColumn(name: string, duckType: string): MartColumn {
  const quoted = quoteIdent(name);
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(duckType);
  if (decimal) {
    return { name, duckType, pgType: `numeric(${decimal[1]},${decimal[2]})`, select: `${quoted}::VARCHAR` };
  }
  if (duckType.startsWith('TIMESTAMP')) {
    // Stored in UTC (naive TIMESTAMP columns hold UTC by the warehouse's convention): say so explicitly.
    const utc = duckType === 'TIMESTAMP WITH TIME ZONE' ? `timezone('UTC', ${quoted})` : quoted;
    return {
      name,
      duckType,
      pgType: 'timestamptz',
      select: `strftime(${utc}, '%Y-%m-%d %H:%M:%S.%f') || '+00'`,
    };
  }
  const simple = SIMPLE[duckType];
  return { name, duckType, pgType: simple ?? 'text', select: `${quoted}::VARCHAR` };
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** One row in PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes. */
export function copyLine(values: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    const value = values[i];
    if (value === null || value === undefined) line += '\\N';
    else line += escapeCopy(String(value));
  }
  return `${line}\n`;
}

const SPECIAL = /[\\\t\n\r]/;

function escapeCopy(text: string): string {
  if (!SPECIAL.test(text)) return text;
  return text
    .replaceAll('\\', '\\\\')
    .replaceAll('\t', '\\t')
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r');
}
