import { GraphQLScalarType } from 'graphql';
import type { MercuriusContext } from 'mercurius';
import { PulseError } from '../errors.js';
import { impactOf, type LineageGraph } from '../lineage/index.js';
import type { Principal } from '../security/index.js';
import { QUALITY_FILTER, qualityReport, type QualityRoutesOptions } from './quality-routes.js';
import { pageLimit, RUN_ID, RUN_TRIGGER, type RunHistory } from './run-routes.js';

/**
 * The proof behind the numbers over GraphQL: lineage, quality and run history, answered by the
 * same code as `GET /v1/lineage`, `GET /v1/quality` and `GET /v1/runs`, for the same roles (read or
 * admin: a seller key would see other sellers' keys in failing samples and runs).
 */
export interface TrustSources {
  readonly lineage: () => Promise<LineageGraph>;
  readonly runs: RunHistory;
  readonly quality?: Pick<QualityRoutesOptions, 'runner' | 'gate' | 'remediator'> | undefined;
}

export const TRUST_SCHEMA = /* GraphQL */ `
  "Free-form JSON: failing-key samples and rule measures, whose fields depend on the rule."
  scalar JSON

  enum LineageDirection {
    upstream
    downstream
  }
  type LineageNode {
    id: String!
    kind: String!
    dataset: String!
    field: String!
    layer: String
    type: String
    description: String
  }
  type LineageEdge {
    from: String!
    to: String!
    kind: String!
  }
  type ModelEdge {
    from: String!
    to: String!
  }
  type GlossaryTerm {
    term: String!
    id: String!
    kind: String!
    definition: String!
    unit: String
    owner: String
    contractFields: [String!]!
  }
  "The whole graph (no node), or what is up- or downstream of one node."
  type LineageAnswer {
    node: LineageNode
    direction: LineageDirection
    nodes: [LineageNode!]!
    edges: [LineageEdge!]!
    models: [ModelEdge!]
    glossary: [GlossaryTerm!]
    kpis: [String!]
    contractFields: [String!]
  }

  type HoldingRule {
    rule: String!
    table: String!
    failed: Float!
  }
  type KpiHold {
    kpi: String!
    since: String!
    rules: [HoldingRule!]!
  }
  type RuleVerdict {
    rule: String!
    table: String!
    kind: String!
    severity: String!
    status: String!
    checked: Float
    failed: Float
    failing_sample: [JSON!]!
    at: String
    measure: JSON
  }
  type ScorecardRow {
    rule: String!
    table: String!
    kind: String!
    severity: String!
    day: String!
    checked: Float!
    failed: Float!
    pass_rate: Float
    evaluations: Int!
    failed_evaluations: Int!
    last_status: String!
    last_run_at: String!
    last_failed_at: String
    failing_sample: [JSON!]!
  }
  "GET /v1/quality, field for field (holds as a list)."
  type Quality {
    enabled: Boolean!
    rules: Int!
    holds: [KpiHold!]!
    current: [RuleVerdict!]!
    scorecard: [ScorecardRow!]!
  }

  enum RunStatus {
    success
    failed
  }
  type ModelRun {
    model: String!
    mode: String!
    rows: Float!
    duration_ms: Float!
  }
  type Run {
    id: String!
    trigger: String
    mode: String!
    status: RunStatus!
    started_at: String!
    finished_at: String
    duration_ms: Float
    watermark_from: String
    watermark_to: String
    models: [ModelRun!]!
    rows: Float!
    error: String
    retry_of: String
  }

  extend type Query {
    "Lineage from contract fields to KPIs; with node, impact analysis (default downstream)."
    lineage(node: String, direction: LineageDirection): LineageAnswer!
    "Quality scorecards, the current verdict of each rule and the KPIs held."
    quality(table: String, rule: String, severity: String, day: String): Quality!
    "Model runs, newest first (limit 1–1000, default 50)."
    runs(limit: Int, status: RunStatus, trigger: String): [Run!]!
    run(id: String!): Run
  }
`;

const json = new GraphQLScalarType({ name: 'JSON', serialize: (value) => value });

function text(name: string, value: unknown, pattern: RegExp): string | undefined {
  if (value === undefined || value === null) return undefined;
  const candidate = String(value);
  if (!pattern.test(candidate))
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `${name} is not valid: ${candidate.slice(0, 64)}`, {
      field: name,
    });
  return candidate;
}

/** Lineage, quality and runs are for read and admin keys, as on REST. */
function mustRead(context: MercuriusContext, what: string): void {
  const principal = (context as MercuriusContext & { principal?: Principal | null }).principal;
  if (!principal?.roles.some((role) => role === 'read' || role === 'admin'))
    throw new PulseError('PULSE_ERR_FORBIDDEN', `${what} needs a key with the read role`, { field: what });
}

type Args = Record<string, unknown>;

export function trustResolvers(sources: TrustSources) {
  return {
    JSON: json,
    Query: {
      lineage: async (_root: unknown, args: Args, context: MercuriusContext) => {
        mustRead(context, 'lineage');
        const node = text('node', args.node, /^.{1,256}$/su);
        const direction = args.direction as 'upstream' | 'downstream' | undefined;
        const graph = await sources.lineage();
        if (node === undefined) {
          if (direction !== undefined && direction !== null)
            throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'direction needs a node', { field: 'node' });
          return { ...graph.data, node: null, direction: null };
        }
        const impact = impactOf(graph, node, direction ?? 'downstream');
        return {
          ...impact,
          // A whole table is not a node of the graph: it is answered as a dataset.
          node: { dataset: impact.node.id, field: '', ...impact.node },
        };
      },
      quality: async (_root: unknown, args: Args, context: MercuriusContext) => {
        mustRead(context, 'quality');
        if (!sources.quality)
          throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'quality rules are not part of this Pulse', {
            field: 'quality',
          });
        const report = await qualityReport(sources.quality, {
          table: text('table', args.table, new RegExp(QUALITY_FILTER.table)),
          rule: text('rule', args.rule, new RegExp(QUALITY_FILTER.rule)),
          severity: text('severity', args.severity, new RegExp(QUALITY_FILTER.severity)),
          day: text('day', args.day, new RegExp(QUALITY_FILTER.day)),
        });
        return {
          ...report,
          holds: Object.entries(report.holds).map(([kpi, hold]) => ({ kpi, ...hold })),
        };
      },
      runs: async (_root: unknown, args: Args, context: MercuriusContext) => {
        mustRead(context, 'runs');
        return sources.runs.list({
          limit: pageLimit((args.limit as number | null | undefined) ?? undefined),
          status: (args.status as 'success' | 'failed' | null | undefined) ?? undefined,
          trigger: text('trigger', args.trigger, new RegExp(RUN_TRIGGER)),
        });
      },
      run: async (_root: unknown, args: Args, context: MercuriusContext) => {
        mustRead(context, 'run');
        const id = text('id', args.id, new RegExp(RUN_ID)) as string;
        return (await sources.runs.get(id)) ?? null;
      },
    },
  };
}
