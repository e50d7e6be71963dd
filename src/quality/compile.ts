import type { QualityRule, TableSpec } from './rules.js';

/**
 * Which rows a pass looks at: every row (`full`), or those a model run wrote, whose
 * `_updated_seq` is above the run's low watermark.
 */
export type Scope = { readonly mode: 'full' } | { readonly mode: 'incremental'; readonly lo: bigint };

/** Rules checked row by row (all but freshness and volume, which look at time). */
export const ROW_KINDS = new Set([
  'not_null',
  'not_empty',
  'unique',
  'range',
  'accepted_values',
  'pattern',
  'fx_present',
  'relationship',
]);

const FX_TABLE = 'silver_fx_rates';

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The rows of a scope, over the table aliased `t`. */
export function scopeFilter(scope: Scope): string {
  return scope.mode === 'full' ? 'TRUE' : `t._updated_seq > ${scope.lo.toString()}`;
}

/** The condition a failing row meets, over the table aliased `t`. */
export function failingPredicate(rule: QualityRule): string {
  const column = `t.${rule.columns[0] ?? ''}`;
  const where = rule.where ? `(${rule.where}) AND ` : '';
  let condition: string;
  switch (rule.kind) {
    case 'not_null':
      condition = `${column} IS NULL`;
      break;
    case 'not_empty':
      condition = `(${column} IS NULL OR trim(${column}::VARCHAR) = '')`;
      break;
    case 'range': {
      const parts: string[] = [];
      if (rule.min !== undefined) parts.push(`${column} ${rule.exclusiveMin ? '<=' : '<'} ${rule.min}`);
      if (rule.max !== undefined) parts.push(`${column} > ${rule.max}`);
      if (rule.minColumn) parts.push(`${column} < t.${rule.minColumn}`);
      condition = `coalesce(${parts.join(' OR ')}, FALSE)`;
      break;
    }
    case 'accepted_values':
      condition = `${column} IS NOT NULL AND ${column} NOT IN (${(rule.values ?? []).map(quote).join(', ')})`;
      break;
    case 'pattern':
      condition = `${column} IS NOT NULL AND NOT regexp_full_match(${column}, ${quote(rule.pattern ?? '')})`;
      break;
    case 'relationship': {
      const to = rule.to as { table: string; column: string };
      condition = `${column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${to.table} r WHERE r.${to.column} = ${column})`;
      break;
    }
    case 'fx_present':
      condition =
        `t.${rule.currency} <> 'EUR' AND t.${rule.at} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${FX_TABLE} f ` +
        `WHERE f.currency = t.${rule.currency} AND f.hour = date_trunc('hour', t.${rule.at}))`;
      break;
    default:
      throw new Error(`rule ${rule.id}: ${rule.kind} is not a row rule`);
  }
  return `${where}${condition}`;
}

/**
 * One SELECT returning `(rule, checked, failed)` for a row rule within a scope. For uniqueness,
 * checked counts the distinct keys in scope and failed those stored more than once in the table.
 */
export function compileCount(rule: QualityRule, scope: Scope, replacesWholeKeys = false): string {
  const id = quote(rule.id);
  if (rule.kind === 'unique') {
    const keys = rule.columns.join(', ');
    // A model that replaces every row of a key it touches (its unique key within the rule's columns)
    // leaves every copy of a key in scope inside the scope: the new rows alone tell, without a scan.
    const inScope =
      scope.mode === 'full'
        ? ''
        : replacesWholeKeys
          ? ` WHERE ${scopeFilter(scope)}`
          : ` SEMI JOIN (SELECT DISTINCT ${keys} FROM ${rule.table} t WHERE ${scopeFilter(scope)}) s USING (${keys})`;
    return (
      `SELECT ${id} AS rule, count(*) AS checked, count(*) FILTER (WHERE n > 1) AS failed FROM ` +
      `(SELECT ${keys}, count(*) AS n FROM ${rule.table} t${inScope} GROUP BY ${keys})`
    );
  }
  return (
    `SELECT ${id} AS rule, count(*) AS checked, count(*) FILTER (WHERE ${failingPredicate(rule)}) AS failed ` +
    `FROM ${rule.table} t WHERE ${scopeFilter(scope)}`
  );
}

/** The failing rows of a row rule, as their key columns (at most `limit`, in key order). */
export function compileFailing(rule: QualityRule, table: TableSpec, scope: Scope, limit: number): string {
  if (rule.kind === 'unique') {
    const keys = rule.columns.join(', ');
    const inScope =
      scope.mode === 'full'
        ? ''
        : ` SEMI JOIN (SELECT DISTINCT ${keys} FROM ${rule.table} t WHERE ${scopeFilter(scope)}) s USING (${keys})`;
    return (
      `SELECT ${keys} FROM ${rule.table} t${inScope} GROUP BY ${keys} HAVING count(*) > 1 ` +
      `ORDER BY ${keys} LIMIT ${limit}`
    );
  }
  const keys = table.key.map((column) => `t.${column}`).join(', ');
  return (
    `SELECT DISTINCT ${keys} FROM ${rule.table} t WHERE ${scopeFilter(scope)} AND (${failingPredicate(rule)}) ` +
    `ORDER BY ${keys} LIMIT ${limit}`
  );
}

/**
 * Rows per hour of the table's business time for the hour under test and the same hour of the
 * `weeks` weeks before, with the table's first timestamp (weeks before it are not history).
 */
export function compileVolume(rule: QualityRule, table: TableSpec): string {
  const weeks = rule.weeks ?? 4;
  const hours = Array.from({ length: weeks + 1 }, (_, i) => `$hour::TIMESTAMPTZ - INTERVAL ${i * 7} DAY`);
  return (
    `SELECT epoch_ms(date_trunc('hour', ${table.time})) AS hour_ms, count(*) AS n FROM ${rule.table} ` +
    `WHERE ${table.time} >= $hour::TIMESTAMPTZ - INTERVAL ${weeks * 7} DAY AND ${table.time} < $hour::TIMESTAMPTZ + INTERVAL 1 HOUR ` +
    `AND date_trunc('hour', ${table.time}) IN (${hours.join(', ')}) GROUP BY ALL`
  );
}

/**
 * The robust z-score of `current` against `history`: 0.6745 × (x − median) / MAD. With a MAD of
 * zero (a flat history) any change is infinitely far; `minDeviation` keeps small absolute changes
 * from counting as anomalies either way.
 */
export function robustZ(
  current: number,
  history: readonly number[],
): { z: number; median: number; mad: number } {
  const median = medianOf(history);
  const mad = medianOf(history.map((value) => Math.abs(value - median)));
  const deviation = current - median;
  const z = mad === 0 ? (deviation === 0 ? 0 : Math.sign(deviation) * Infinity) : (0.6745 * deviation) / mad;
  return { z, median, mad };
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
