import type { DuckDBConnection } from '@duckdb/node-api';

/** Where a model's changed keys are kept during its incremental run. */
export const CHANGED_KEYS_TABLE = 'pulse_changed_keys';

/** The body of CTE `name` in `sql` (between the parentheses of `name AS (…)`), with its bounds. */
export function findCte(sql: string, name: string): { start: number; end: number } | undefined {
  const text = stripped(sql);
  const head = new RegExp(`\\b${name}\\s+AS\\s*\\(`, 'i').exec(text);
  if (!head) return undefined;
  const start = head.index + head[0].length;
  let depth = 1;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return { start, end: i };
  }
  return undefined;
}

/**
 * The SQL with comments and quoted text blanked out (same length, so positions hold): parentheses
 * and names inside them must not count.
 */
function stripped(sql: string): string {
  return sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'|"(?:[^"]|"")*"/g, (part) =>
    part.replace(/[^\n]/g, ' '),
  );
}

/**
 * Computes the CTE that lists what changed since the watermark into a temporary table first, and
 * returns the model's SQL reading it from there. Inline, DuckDB estimates that CTE from the tables
 * it filters (a share of a table of days), so it builds its hash joins over the large sides and
 * probes them with the handful of changed keys; with the rows in a table, it knows how few there
 * are. On a day of history this halved fact_order's incremental run (108 → 54 ms).
 */
export async function materializeChangedKeys(
  connection: DuckDBConnection,
  sql: string,
  cte: string,
  model: string,
): Promise<string> {
  const bounds = findCte(sql, cte);
  if (!bounds)
    throw new Error(`model ${model}: changed_keys names CTE "${cte}", which its incremental SQL lacks`);
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${CHANGED_KEYS_TABLE} AS ${sql.slice(bounds.start, bounds.end)}`,
  );
  return `${sql.slice(0, bounds.start)}SELECT * FROM ${CHANGED_KEYS_TABLE}${sql.slice(bounds.end)}`;
}
