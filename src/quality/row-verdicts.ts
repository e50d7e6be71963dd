import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from '../warehouse/index.js';
import { compileCount, compileFailing, failingPredicate, scopeFilter, type Scope } from './compile.js';
import type { RuleState } from './runner.js';
import type { QualityRule, RuleSet } from './rules.js';

/** A row rule and the rows it looks at. */
export interface ScopedRule {
  readonly rule: QualityRule;
  readonly scope: Scope;
}

/**
 * All row rules in two statements: the uniqueness counts, and the other rules as one bit mask per
 * row (bit i: the row fails rule i), counted by mask. One aggregate per table instead of one per
 * rule: DuckDB's cost on a refresh's few rows is per aggregate, and this pass gates the KPIs.
 */
export async function rowVerdicts(
  connection: DuckDBConnection,
  rules: RuleSet,
  items: readonly ScopedRule[],
  now: Date,
  sampleSize: number,
  uniqueKeys: ReadonlyMap<string, readonly string[]> = new Map(),
): Promise<RuleState[]> {
  if (items.length === 0) return [];
  const checkedOf = new Map<number, number>();
  const failedOf = new Map<number, number>();
  const unique = items.flatMap((item, i) =>
    item.rule.kind === 'unique'
      ? [
          `SELECT ${i} AS i, checked, failed FROM (${compileCount(item.rule, item.scope, replacesWholeKeys(item.rule, uniqueKeys))})`,
        ]
      : [],
  );
  const groups = maskGroups(items);
  const masked = groups.map(
    (group, g) =>
      `SELECT ${g} AS g, (${group.members
        .map(
          (i, bit) =>
            `CASE WHEN ${failingPredicate((items[i] as { rule: QualityRule }).rule)} THEN ${2n ** BigInt(bit)} ELSE 0 END`,
        )
        .join(' + ')})::BIGINT AS mask FROM ${group.table} t WHERE ${scopeFilter(group.scope)}`,
  );
  const uniqueRows = unique.length > 0 ? await queryRows(connection, unique.join('\nUNION ALL\n')) : [];
  const maskRows =
    masked.length > 0
      ? await queryRows(
          connection,
          `SELECT g, mask::VARCHAR AS mask, count(*) AS n FROM (${masked.join('\nUNION ALL\n')}) GROUP BY g, mask`,
        )
      : [];
  for (const row of uniqueRows) {
    checkedOf.set(Number(row.i), Number(row.checked));
    failedOf.set(Number(row.i), Number(row.failed));
  }
  for (const row of maskRows) {
    const group = groups[Number(row.g)] as MaskGroup;
    const n = Number(row.n);
    const mask = BigInt(String(row.mask));
    group.members.forEach((i, bit) => {
      checkedOf.set(i, (checkedOf.get(i) ?? 0) + n);
      if ((mask >> BigInt(bit)) & 1n) failedOf.set(i, (failedOf.get(i) ?? 0) + n);
    });
  }
  const verdicts: RuleState[] = [];
  for (const [i, { rule, scope }] of items.entries()) {
    const checked = checkedOf.get(i) ?? 0;
    const failed = failedOf.get(i) ?? 0;
    let sample: Record<string, unknown>[] = [];
    if (failed > 0) {
      const table = rules.tables.get(rule.table);
      if (table) sample = await queryRows(connection, compileFailing(rule, table, scope, sampleSize));
    }
    verdicts.push({
      rule,
      status: failed > 0 ? 'fail' : 'pass',
      checked,
      failed,
      sample,
      at: now.toISOString(),
    });
  }
  return verdicts;
}

interface MaskGroup {
  readonly table: string;
  readonly scope: Scope;
  /** Indexes into the pass's rules; a member's position is its bit in the mask. */
  readonly members: number[];
}

/** The row rules (but uniqueness) by table and scope, at most 62 to a group: a mask is a BIGINT. */
function maskGroups(items: readonly ScopedRule[]): MaskGroup[] {
  const groups: MaskGroup[] = [];
  const open = new Map<string, MaskGroup>();
  items.forEach((item, i) => {
    if (item.rule.kind === 'unique') return;
    const key = `${item.rule.table}|${item.scope.mode === 'full' ? 'full' : item.scope.lo.toString()}`;
    let group = open.get(key);
    if (!group || group.members.length === 62) {
      group = { table: item.rule.table, scope: item.scope, members: [] };
      open.set(key, group);
      groups.push(group);
    }
    group.members.push(i);
  });
  return groups;
}

/** True when the rule's table replaces whole keys (an upsert model whose key is within the rule's columns). */
function replacesWholeKeys(rule: QualityRule, uniqueKeys: ReadonlyMap<string, readonly string[]>): boolean {
  const key = uniqueKeys.get(rule.table);
  return key !== undefined && key.length > 0 && key.every((column) => rule.columns.includes(column));
}
