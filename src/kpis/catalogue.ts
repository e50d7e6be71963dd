import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { refsOf } from './compile.js';

export const DIMENSIONS = [
  'channel',
  'brand',
  'country',
  'seller',
  'category',
  'loyalty_tier',
  'segment',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/**
 * Attributes of the customer: breakdowns by them describe people's behaviour, so they are answered
 * with differential privacy (src/privacy/dp.ts), on request only (never held live nor streamed).
 */
export const CUSTOMER_DIMENSIONS: readonly Dimension[] = ['loyalty_tier', 'segment'];

export function isCustomerDimension(dimension: string | null | undefined): boolean {
  return (CUSTOMER_DIMENSIONS as readonly (string | null | undefined)[]).includes(dimension);
}
export type KpiKind = 'money' | 'ratio' | 'index' | 'count';

export interface Measure {
  readonly aggregate: 'sum' | 'count_distinct';
  readonly sql: string;
  /** Replaces `sql` when the KPI is broken down by that dimension. */
  readonly sql_by?: Readonly<Partial<Record<Dimension, string>>>;
  /** Named parts of a sum reported beside the value, with the sign they are reported in. */
  readonly components?: Readonly<Record<string, 1 | -1>>;
  /**
   * count_distinct only: every row of a key has the same `ts` (an order's lines share its
   * placed_at), so a key falls in one minute and the distinct counts of minutes add up. The live
   * values then sum minute buckets instead of counting the window's rows again at each refresh.
   */
  readonly one_time_per_key?: boolean;
}

export interface KpiDefinition {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly unit: string;
  readonly kind: KpiKind;
  readonly owner: string;
  readonly definition_version: number;
  /** ISO 8601 duration: how often the replaced system refreshed it. */
  readonly cadence: string;
  readonly direction: 'higher_is_better' | 'lower_is_better';
  readonly bands: {
    readonly basis: 'absolute' | 'change_vs_last_week';
    readonly warn: number;
    readonly critical: number;
  };
  readonly weights?: Readonly<Record<string, number>>;
  readonly dimensions: readonly Dimension[];
  readonly numerator?: Measure;
  readonly denominator?: Measure | null;
  readonly snapshot?: {
    readonly sql: string;
    /** Tables the live values read compacted, by the name `sql` refers to them with. */
    readonly compact?: Readonly<Record<string, Compaction>>;
  };
  /**
   * The records under a value, for drill-through: SQL over gold returning one row per record with
   * `ts`, `record` (its kind), a `record_key` that orders rows stably, the KPI's dimension columns
   * and a few descriptive columns; never personal data.
   */
  readonly drill?: { readonly sql: string };
}

/**
 * How the live values read a growing table in a snapshot's place, kept current from what each run
 * changed. Either the newest row per key (for SQL that takes each key's latest row as of the
 * instant), or sums per hour or day and group over the last `days` days with the raw rows at the
 * edges (for SQL that sums `sum` by groups of `sum_by` over exactly those days). Each must give the
 * SQL the answer the table gives it.
 */
export type Compaction =
  | { readonly latest_by: readonly string[]; readonly time: string }
  | {
      readonly sum_by: readonly string[];
      readonly time: string;
      readonly sum: readonly string[];
      readonly days: number;
      /** The buckets' size (default hour). */
      readonly per?: 'hour' | 'day';
    };

export interface Catalogue {
  readonly version: number;
  readonly kpis: readonly KpiDefinition[];
}

const measureSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['aggregate', 'sql'],
  properties: {
    aggregate: { enum: ['sum', 'count_distinct'] },
    sql: { type: 'string', minLength: 1 },
    sql_by: { type: 'object', propertyNames: { enum: DIMENSIONS }, additionalProperties: { type: 'string' } },
    components: { type: 'object', additionalProperties: { enum: [1, -1] } },
    one_time_per_key: { type: 'boolean' },
  },
};

const IDENTIFIER = '^[a-z_][a-z0-9_]*$';
const columns = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: { type: 'string', pattern: IDENTIFIER },
};
const latestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['latest_by', 'time'],
  properties: { latest_by: columns, time: { type: 'string', pattern: IDENTIFIER } },
};
const periodSumsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sum_by', 'time', 'sum', 'days'],
  properties: {
    sum_by: columns,
    time: { type: 'string', pattern: IDENTIFIER },
    sum: columns,
    days: { type: 'integer', minimum: 1, maximum: 366 },
    per: { enum: ['hour', 'day'] },
  },
};

const catalogueSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'kpis'],
  properties: {
    version: { type: 'integer', minimum: 1 },
    kpis: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: [
          'id',
          'label',
          'description',
          'unit',
          'kind',
          'owner',
          'definition_version',
          'cadence',
          'direction',
          'bands',
          'dimensions',
        ],
        properties: {
          id: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
          label: { type: 'string', minLength: 1 },
          description: { type: 'string', minLength: 1 },
          unit: { type: 'string', minLength: 1 },
          kind: { enum: ['money', 'ratio', 'index', 'count'] },
          owner: { type: 'string', minLength: 1 },
          definition_version: { type: 'integer', minimum: 1 },
          cadence: { type: 'string', pattern: '^P' },
          direction: { enum: ['higher_is_better', 'lower_is_better'] },
          bands: {
            type: 'object',
            additionalProperties: false,
            required: ['basis', 'warn', 'critical'],
            properties: {
              basis: { enum: ['absolute', 'change_vs_last_week'] },
              warn: { type: 'number' },
              critical: { type: 'number' },
            },
          },
          weights: { type: 'object', additionalProperties: { type: 'number', exclusiveMinimum: 0 } },
          dimensions: { type: 'array', items: { enum: DIMENSIONS }, uniqueItems: true },
          numerator: measureSchema,
          denominator: { anyOf: [{ type: 'null' }, measureSchema] },
          snapshot: {
            type: 'object',
            additionalProperties: false,
            required: ['sql'],
            properties: {
              sql: { type: 'string' },
              compact: {
                type: 'object',
                propertyNames: { pattern: IDENTIFIER },
                additionalProperties: { oneOf: [latestSchema, periodSumsSchema] },
              },
            },
          },
          drill: {
            type: 'object',
            additionalProperties: false,
            required: ['sql'],
            properties: { sql: { type: 'string', minLength: 1 } },
          },
        },
        oneOf: [{ required: ['numerator'] }, { required: ['snapshot'] }],
      },
    },
  },
};

export const CATALOGUE_FILE = new URL('./kpis.yaml', import.meta.url);

/** Loads and checks the catalogue; every problem is reported at once, with its path. */
export function loadCatalogue(text: string = readFileSync(CATALOGUE_FILE, 'utf8')): Catalogue {
  const document: unknown = parse(text);
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(catalogueSchema);
  if (!validate(document)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}`);
    throw new Error(`the KPI catalogue is invalid:\n  - ${problems.join('\n  - ')}`);
  }
  const catalogue = document as unknown as Catalogue;
  const ids = catalogue.kpis.map((kpi) => kpi.id);
  const duplicated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (duplicated.length > 0) throw new Error(`the KPI catalogue repeats ids: ${duplicated.join(', ')}`);
  const strays = catalogue.kpis.flatMap((kpi, i) =>
    Object.keys(kpi.snapshot?.compact ?? {})
      .filter((table) => !refsOf(kpi.snapshot?.sql ?? '').includes(table))
      .map((table) => `/kpis/${i}/snapshot/compact/${table} is not a table the snapshot's sql refers to`),
  );
  if (strays.length > 0) throw new Error(`the KPI catalogue is invalid:\n  - ${strays.join('\n  - ')}`);
  return catalogue;
}
