import { readFileSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parse } from 'yaml';
import { queryRows } from '../warehouse/index.js';

export type Severity = 'error' | 'warn';

/** One data test, compiled to a query that returns the failing rows. */
export interface ModelTest {
  readonly name: string;
  readonly model: string;
  readonly column: string | null;
  readonly severity: Severity;
  readonly sql: string;
}

export interface ModelTestResult {
  readonly name: string;
  readonly model: string;
  readonly column: string | null;
  readonly severity: Severity;
  readonly failures: number;
  readonly status: 'pass' | 'warn' | 'fail';
}

type TestSpec = string | Record<string, Record<string, unknown> | null>;

interface ModelSpec {
  columns?: Record<string, TestSpec[]>;
  unique?: string[][];
  expressions?: { name: string; sql: string; severity?: Severity }[];
}

export const MODEL_TESTS_FILE = new URL('./tests.yaml', import.meta.url);

/** Compiles the YAML tests; a malformed entry is an error naming the model, column and test. */
export function loadModelTests(text: string = readFileSync(MODEL_TESTS_FILE, 'utf8')): ModelTest[] {
  const document = parse(text) as { models?: Record<string, ModelSpec> };
  const tests: ModelTest[] = [];
  for (const [model, spec] of Object.entries(document.models ?? {})) {
    for (const [column, specs] of Object.entries(spec.columns ?? {})) {
      for (const testSpec of specs) tests.push(compileColumnTest(model, column, testSpec));
    }
    for (const columns of spec.unique ?? []) {
      const key = columns.join(', ');
      tests.push({
        name: `unique(${key})`,
        model,
        column: key,
        severity: 'error',
        sql: `SELECT ${key}, count(*) AS n FROM ${model} GROUP BY ALL HAVING count(*) > 1`,
      });
    }
    for (const expression of spec.expressions ?? []) {
      tests.push({
        name: expression.name,
        model,
        column: null,
        severity: expression.severity ?? 'error',
        sql: `SELECT * FROM ${model} WHERE ${expression.sql}`,
      });
    }
  }
  return tests;
}

function compileColumnTest(model: string, column: string, spec: TestSpec): ModelTest {
  const [kind, options] = typeof spec === 'string' ? [spec, {}] : (Object.entries(spec)[0] ?? ['', {}]);
  const args = (options ?? {}) as Record<string, unknown>;
  const severity = (args.severity as Severity | undefined) ?? 'error';
  const base = { model, column, severity };
  switch (kind) {
    case 'not_null':
      return { ...base, name: `not_null(${column})`, sql: `SELECT * FROM ${model} WHERE ${column} IS NULL` };
    case 'unique':
      return {
        ...base,
        name: `unique(${column})`,
        sql: `SELECT ${column}, count(*) AS n FROM ${model} WHERE ${column} IS NOT NULL GROUP BY 1 HAVING count(*) > 1`,
      };
    case 'accepted_values': {
      const values = args.values;
      if (!Array.isArray(values))
        throw new Error(`model test ${model}.${column}: accepted_values needs a values list`);
      const list = values.map((value) => `'${String(value).replaceAll("'", "''")}'`).join(', ');
      return {
        ...base,
        name: `accepted_values(${column})`,
        sql: `SELECT * FROM ${model} WHERE ${column} IS NOT NULL AND ${column} NOT IN (${list})`,
      };
    }
    case 'relationships': {
      const { to, field } = args as { to?: string; field?: string };
      if (!to || !field) throw new Error(`model test ${model}.${column}: relationships needs to and field`);
      return {
        ...base,
        name: `relationships(${column} -> ${to}.${field})`,
        sql: `SELECT * FROM ${model} m WHERE m.${column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${to} r WHERE r.${field} = m.${column})`,
      };
    }
    case 'expression': {
      const sql = args.sql;
      if (typeof sql !== 'string') throw new Error(`model test ${model}.${column}: expression needs sql`);
      return { ...base, name: `expression(${sql})`, sql: `SELECT * FROM ${model} WHERE NOT (${sql})` };
    }
    default:
      throw new Error(`model test ${model}.${column}: unknown test "${kind}"`);
  }
}

export async function runModelTests(
  connection: DuckDBConnection,
  tests: readonly ModelTest[] = loadModelTests(),
): Promise<ModelTestResult[]> {
  const results: ModelTestResult[] = [];
  for (const test of tests) {
    const rows = await queryRows(connection, `SELECT count(*)::INTEGER AS n FROM (${test.sql})`);
    const failures = Number(rows[0]?.n ?? 0);
    const status = failures === 0 ? 'pass' : test.severity === 'warn' ? 'warn' : 'fail';
    results.push({
      name: test.name,
      model: test.model,
      column: test.column,
      severity: test.severity,
      failures,
      status,
    });
  }
  return results;
}
