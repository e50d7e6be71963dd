import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

export const RULE_KINDS = [
  'not_null',
  'not_empty',
  'unique',
  'range',
  'accepted_values',
  'pattern',
  'fx_present',
  'relationship',
  'freshness',
  'volume',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const SEVERITIES = ['warn', 'error'] as const;
export type RuleSeverity = (typeof SEVERITIES)[number];

/** One quality rule, expanded (one column per completeness rule) and checked against the models. */
export interface QualityRule {
  readonly id: string;
  readonly table: string;
  readonly kind: RuleKind;
  readonly severity: RuleSeverity;
  readonly description: string;
  /** The column checked (row rules), or the key columns (unique). */
  readonly columns: readonly string[];
  /** An extra SQL filter: only rows matching it are checked. */
  readonly where?: string | undefined;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  readonly exclusiveMin?: boolean | undefined;
  /** range: the column may not be below this other column of the same row. */
  readonly minColumn?: string | undefined;
  readonly values?: readonly string[] | undefined;
  readonly pattern?: string | undefined;
  readonly to?: { readonly table: string; readonly column: string } | undefined;
  readonly currency?: string | undefined;
  readonly at?: string | undefined;
  readonly eventType?: string | undefined;
  readonly afterMinutes?: number | undefined;
  readonly threshold?: number | undefined;
  readonly minDeviation?: number | undefined;
  readonly weeks?: number | undefined;
}

export interface TableSpec {
  /** Columns identifying a failing row in samples: tokenised identifiers only. */
  readonly key: readonly string[];
  /** The business-time column (volume rules count rows per hour of it). */
  readonly time: string;
}

export interface RuleSet {
  readonly tables: ReadonlyMap<string, TableSpec>;
  readonly rules: readonly QualityRule[];
}

export const RULES_FILE = new URL('./rules.yaml', import.meta.url);

const NAME = '^[a-z_][a-z0-9_]*$';
const fileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'tables', 'rules'],
  properties: {
    version: { const: 1 },
    tables: {
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'time'],
        properties: {
          key: { type: 'array', minItems: 1, items: { type: 'string', pattern: NAME } },
          time: { type: 'string', pattern: NAME },
        },
      },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['table', 'kind', 'severity'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9_.]+$', maxLength: 128 },
          table: { type: 'string', pattern: NAME },
          kind: { enum: [...RULE_KINDS] },
          severity: { enum: [...SEVERITIES] },
          description: { type: 'string' },
          column: { type: 'string', pattern: NAME },
          columns: { type: 'array', minItems: 1, items: { type: 'string', pattern: NAME } },
          where: { type: 'string', minLength: 1 },
          min: { type: 'number' },
          max: { type: 'number' },
          exclusive_min: { type: 'boolean' },
          min_column: { type: 'string', pattern: NAME },
          values: { type: 'array', minItems: 1, items: { type: 'string' } },
          pattern: { type: 'string', minLength: 1 },
          to: {
            type: 'object',
            additionalProperties: false,
            required: ['table', 'column'],
            properties: {
              table: { type: 'string', pattern: NAME },
              column: { type: 'string', pattern: NAME },
            },
          },
          currency: { type: 'string', pattern: NAME },
          at: { type: 'string', pattern: NAME },
          event_type: { type: 'string', pattern: '^[a-z_.]+$' },
          after_minutes: { type: 'number', exclusiveMinimum: 0 },
          threshold: { type: 'number', exclusiveMinimum: 0 },
          min_deviation: { type: 'number', minimum: 0 },
          weeks: { type: 'integer', minimum: 2, maximum: 12 },
        },
      },
    },
  },
} as const;

interface RawRule {
  id?: string;
  table: string;
  kind: RuleKind;
  severity: RuleSeverity;
  description?: string;
  column?: string;
  columns?: string[];
  where?: string;
  min?: number;
  max?: number;
  exclusive_min?: boolean;
  min_column?: string;
  values?: string[];
  pattern?: string;
  to?: { table: string; column: string };
  currency?: string;
  at?: string;
  event_type?: string;
  after_minutes?: number;
  threshold?: number;
  min_deviation?: number;
  weeks?: number;
}

/** Column names that would carry personal data: never allowed as sample keys. */
const PII_COLUMNS = new Set(['email', 'name', 'phone', 'customer_id']);

/**
 * Reads and checks the rules file: shape, tables known to the models, one id per rule, the
 * parameters each kind needs. Every problem is reported at once.
 *
 * @param knownTables the model names (a rule on anything else is refused)
 */
export function loadRules(
  knownTables: ReadonlySet<string>,
  text: string = readFileSync(RULES_FILE, 'utf8'),
): RuleSet {
  const document = parse(text) as unknown;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(fileSchema);
  if (!validate(document)) {
    const problems = (validate.errors ?? []).map(
      (error) => `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}`,
    );
    throw new Error(`quality rules are invalid:\n  - ${problems.join('\n  - ')}`);
  }
  const raw = document as { tables: Record<string, TableSpec>; rules: RawRule[] };
  const problems: string[] = [];
  const tables = new Map(Object.entries(raw.tables));
  for (const [name, spec] of tables) {
    if (!knownTables.has(name)) problems.push(`tables.${name}: no model of that name`);
    for (const column of spec.key)
      if (PII_COLUMNS.has(column)) problems.push(`tables.${name}.key: ${column} may carry personal data`);
  }
  const rules: QualityRule[] = [];
  raw.rules.forEach((rule, index) => {
    const at = `rules[${index}]`;
    if (!tables.has(rule.table)) problems.push(`${at}.table: ${rule.table} is not listed under tables`);
    const need = (field: keyof RawRule) => {
      if (rule[field] === undefined) problems.push(`${at}.${field} is required for kind ${rule.kind}`);
    };
    const targets = rule.columns ?? (rule.column ? [rule.column] : []);
    const perColumn = rule.kind === 'not_null' || rule.kind === 'not_empty';
    if (
      ['not_null', 'not_empty', 'unique', 'range', 'accepted_values', 'pattern', 'relationship'].includes(
        rule.kind,
      )
    )
      if (targets.length === 0) problems.push(`${at}: column or columns is required for kind ${rule.kind}`);
    if (rule.kind === 'range' && rule.min === undefined && rule.max === undefined && !rule.min_column)
      problems.push(`${at}: range needs min, max or min_column`);
    if (rule.kind === 'accepted_values') need('values');
    if (rule.kind === 'pattern') need('pattern');
    if (rule.kind === 'relationship') {
      need('to');
      if (rule.to && !knownTables.has(rule.to.table))
        problems.push(`${at}.to.table: no model ${rule.to.table}`);
    }
    if (rule.kind === 'fx_present') {
      need('currency');
      need('at');
    }
    if (rule.kind === 'freshness') {
      need('event_type');
      need('after_minutes');
    }
    const groups = perColumn ? targets.map((column) => [column]) : [targets];
    for (const columns of groups) {
      const suffix =
        rule.kind === 'freshness'
          ? `${rule.event_type ?? ''}.${rule.severity === 'error' ? 'stale' : 'late'}`
          : rule.kind;
      const id = rule.id && groups.length === 1 ? rule.id : [rule.table, ...columns, suffix].join('.');
      rules.push({
        id,
        table: rule.table,
        kind: rule.kind,
        severity: rule.severity,
        description: rule.description ?? '',
        columns,
        where: rule.where,
        min: rule.min,
        max: rule.max,
        exclusiveMin: rule.exclusive_min,
        minColumn: rule.min_column,
        values: rule.values,
        pattern: rule.pattern,
        to: rule.to,
        currency: rule.currency,
        at: rule.at,
        eventType: rule.event_type,
        afterMinutes: rule.after_minutes,
        threshold: rule.threshold ?? 3.5,
        minDeviation: rule.min_deviation ?? 5,
        weeks: rule.weeks ?? 4,
      });
    }
  });
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.id)) problems.push(`rule id ${rule.id} is used twice`);
    seen.add(rule.id);
  }
  if (problems.length > 0) throw new Error(`quality rules are invalid:\n  - ${problems.join('\n  - ')}`);
  return { tables, rules };
}
