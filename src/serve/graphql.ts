import type { FastifyPluginAsync } from 'fastify';
import { GraphQLError, GraphQLScalarType, Kind, parse, type ExecutionResult } from 'graphql';
import mercurius, { type MercuriusContext, type MercuriusOptions } from 'mercurius';
import { PulseError, type ErrorCode } from '../errors.js';
import type { KpiAnswer, KpiSnapshot, LiveKpis, LiveValue } from '../kpis/index.js';
import type { Principal } from '../security/index.js';
import { handleError } from './errors.js';
import { DEFAULT_LIMITS, limitRule, type QueryLimits } from './graphql-limits.js';
import { TRUST_SCHEMA, trustResolvers, type TrustSources } from './graphql-trust.js';
import { readKpi, readKpis } from './kpi-reads.js';
import { openFeed, parseFeedFilter, type LiveSource } from './live-feed.js';
import { livePayload } from './live-payload.js';
import { sellerLiveSource } from './seller-feed.js';

export interface GraphqlOptions {
  readonly snapshot: KpiSnapshot;
  readonly live: LiveKpis;
  readonly kpiIds: readonly string[];
  readonly limits?: QueryLimits;
  /** Lineage, quality and run history. */
  readonly trust: TrustSources;
}

/** Longest query text accepted: real queries are a few hundred bytes. */
const MAX_QUERY_BYTES = 16_384;

const SCHEMA = /* GraphQL */ `
  "A KPI number as REST answers it: money as an exact decimal string (EUR), ratios and counts as numbers."
  scalar Value

  enum Dimension {
    channel
    brand
    country
    seller
    category
  }
  enum SeriesGrain {
    minute
    hour
    day
  }

  type Window {
    from: String!
    to: String!
  }
  type Point {
    key: String
    value: Value
    numerator: Value
    denominator: Value
  }
  type SeriesPoint {
    ts: String!
    value: Value
  }
  type Component {
    name: String!
    amount: String!
  }
  type Bands {
    basis: String!
    warn: Float!
    critical: Float!
  }
  type Definition {
    description: String!
    owner: String!
    direction: String!
    bands: Bands!
    cadence: String!
    dimensions: [String!]!
  }
  type Lineage {
    inputs: [String!]!
  }

  "The governed answer of GET /v1/kpis/{id}, field for field."
  type Kpi {
    id: String!
    label: String!
    unit: String!
    window: Window!
    value: Value
    numerator: Value
    denominator: Value
    components: [Component!]
    revenue_share: Float
    by: Dimension
    breakdown: [Point!]
    series: [SeriesPoint!]
    as_of: String
    lag_ms: Float
    definition_version: Int!
    quality: String!
    definition: Definition!
    lineage: Lineage!
  }

  "A pushed change, as /v1/stream sends it."
  type KpiUpdate {
    id: String!
    label: String!
    unit: String!
    window_name: String!
    window: Window!
    by: Dimension
    value: Value
    numerator: Value
    denominator: Value
    components: [Component!]
    revenue_share: Float
    breakdown: [Point!]
    as_of: String
    lag_ms: Float
    definition_version: Int!
    quality: String!
  }

  type Query {
    "Every KPI. window: today (default), 1h or 24h; or from/to (RFC 3339, to exclusive)."
    kpis(window: String, from: String, to: String): [Kpi!]!
    "One KPI, optionally broken down by a dimension or as a series."
    kpi(id: String!, window: String, from: String, to: String, by: Dimension, series: SeriesGrain): Kpi!
  }

  type Subscription {
    "KPI changes as they happen; kpis: ids to follow (default all), window: today, 1h or 24h, by: a breakdown."
    kpiChanged(kpis: [String!], window: String, by: Dimension): KpiUpdate!
  }
`;

const passThrough = new GraphQLScalarType({
  name: 'Value',
  serialize: (value) => value,
  parseValue: () => {
    throw new GraphQLError('Value is an output type');
  },
  parseLiteral: (ast) => (ast.kind === Kind.STRING ? ast.value : null),
});

interface Context extends MercuriusContext {
  principal?: Principal | null;
}

const WINDOW_NAMES = ['today', '1h', '24h'];

function checkText(name: string, value: unknown, pattern?: readonly string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value);
  if (text.length > 64)
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `${name} is too long`, { field: name });
  if (pattern && !pattern.includes(text)) {
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `${name} must be one of ${pattern.join(', ')}`, {
      field: name,
    });
  }
  return text;
}

function kpiShape(answer: KpiAnswer): Record<string, unknown> {
  return {
    ...answer,
    components: answer.components
      ? Object.entries(answer.components).map(([name, amount]) => ({ name, amount }))
      : null,
  };
}

/** A bounded async iterator over one subscriber's feed: pending values are keyed, so a slow reader gets the latest. */
function feedIterator(
  source: LiveSource,
  filter: ReturnType<typeof parseFeedFilter>,
): AsyncIterableIterator<unknown> {
  const pending = new Map<string, Record<string, unknown>>();
  let waiting: ((result: IteratorResult<unknown>) => void) | undefined;
  let closeHandler: (() => void) | undefined;
  let done = false;
  const take = (): IteratorResult<unknown> | undefined => {
    const first = pending.entries().next();
    if (first.done) return undefined;
    pending.delete(first.value[0]);
    return { value: { kpiChanged: first.value[1] }, done: false };
  };
  const stop = openFeed(source, filter, {
    write: (value: LiveValue, lag) => {
      const payload = livePayload(value, lag);
      pending.set(value.key, { ...payload, components: kpiShape(value.answer).components });
      if (waiting) {
        const next = take();
        if (next) {
          const resolve = waiting;
          waiting = undefined;
          resolve(next);
        }
      }
      return true;
    },
    onWritable: () => undefined,
    onClose: (callback) => {
      closeHandler = callback;
    },
  });
  const finish = (): IteratorResult<unknown> => {
    done = true;
    closeHandler?.();
    stop();
    pending.clear();
    waiting?.({ value: undefined, done: true });
    waiting = undefined;
    return { value: undefined, done: true };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (done) return Promise.resolve({ value: undefined, done: true });
      const next = take();
      if (next) return Promise.resolve(next);
      return new Promise((resolve) => (waiting = resolve));
    },
    return() {
      return Promise.resolve(finish());
    },
    throw(error?: unknown) {
      finish();
      return Promise.reject(error);
    },
  };
}

interface FormattedError {
  message: string;
  locations?: unknown;
  path?: unknown;
  extensions: Record<string, unknown>;
}

/** Every error a request produced, nested lists (Mercurius's validation errors) flattened. */
function formatErrors(errors: readonly unknown[]): FormattedError[] {
  return errors.flatMap((error): FormattedError[] => {
    // The request body failed Mercurius's own schema (`variables: false`, a numeric query): the
    // caller's mistake, named by field, never an internal error.
    const validation = (error as { validation?: { instancePath?: string; message?: string }[] }).validation;
    if ((error as { code?: unknown }).code === 'FST_ERR_VALIDATION' && Array.isArray(validation)) {
      const first = validation[0];
      const field = (first?.instancePath ?? '').replace(/^\//, '').split('/')[0] || 'body';
      return [
        {
          message: `${field} ${first?.message ?? 'is invalid'}`,
          extensions: { code: 'PULSE_ERR_INVALID_QUERY', field },
        },
      ];
    }
    const inner =
      (error as { originalError?: { errors?: unknown } }).originalError?.errors ??
      (error as { errors?: unknown }).errors;
    if (Array.isArray(inner)) return formatErrors(inner);
    if (error instanceof GraphQLError) return [formatError(error)];
    const plain = error instanceof Error ? error : new Error(String(error));
    return [formatError(new GraphQLError(plain.message, { originalError: plain }))];
  });
}

function statusOf(errors: readonly FormattedError[], hasData: boolean): number {
  if (errors.some((e) => e.extensions.code === 'PULSE_ERR_INTERNAL')) return hasData ? 200 : 500;
  return hasData ? 200 : 400;
}

/** The code a GraphQL error is reported with: the catalogue's, never a stack or internal message. */
function formatError(error: GraphQLError): FormattedError {
  const original = error.originalError as (Error & { code?: string }) | undefined;
  const base = {
    ...(error.locations ? { locations: error.locations } : {}),
    ...(error.path ? { path: error.path } : {}),
  };
  if (original instanceof PulseError) {
    return {
      message: original.message,
      ...base,
      extensions: { code: original.code, ...(original.field ? { field: original.field } : {}) },
    };
  }
  if (
    original === undefined ||
    original instanceof GraphQLError ||
    (original.code?.startsWith('MER_ERR_GQL') ?? false)
  ) {
    const code = (error.extensions?.code as ErrorCode | undefined) ?? 'PULSE_ERR_INVALID_QUERY';
    return {
      message: error.message,
      ...base,
      extensions: {
        code: code.startsWith('PULSE_ERR_') ? code : 'PULSE_ERR_INVALID_QUERY',
        ...(error.extensions?.field ? { field: error.extensions.field } : {}),
      },
    };
  }
  return { message: 'Internal error', ...base, extensions: { code: 'PULSE_ERR_INTERNAL' } };
}

/** `/graphql`: the KPIs and their live changes over GraphQL, with the same keys, roles and seller scoping as REST. */
export const graphqlRoutes: FastifyPluginAsync<GraphqlOptions> = async (
  app,
  { snapshot, live, kpiIds, limits, trust },
) => {
  const proof = trustResolvers(trust);
  const options: MercuriusOptions = {
    schema: SCHEMA + TRUST_SCHEMA,
    resolvers: {
      Value: passThrough,
      JSON: proof.JSON,
      Query: {
        ...proof.Query,
        kpis: async (_root: unknown, args: Record<string, unknown>, context: MercuriusContext) =>
          (
            await readKpis(snapshot, live, (context as Context).principal ?? null, {
              window: checkText('window', args.window, WINDOW_NAMES),
              from: checkText('from', args.from),
              to: checkText('to', args.to),
            })
          ).map(kpiShape),
        kpi: async (_root: unknown, args: Record<string, unknown>, context: MercuriusContext) =>
          kpiShape(
            await readKpi(
              snapshot,
              live,
              (context as Context).principal ?? null,
              checkText('id', args.id) as string,
              {
                window: checkText('window', args.window, WINDOW_NAMES),
                from: checkText('from', args.from),
                to: checkText('to', args.to),
                by: checkText('by', args.by),
                series: checkText('series', args.series),
              },
            ),
          ),
      },
      Subscription: {
        kpiChanged: {
          subscribe: (_root: unknown, args: Record<string, unknown>, context: MercuriusContext) => {
            const ids = Array.isArray(args.kpis) ? (args.kpis as string[]) : undefined;
            if (ids && ids.length > 50)
              throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'kpis lists too many ids', {
                field: 'kpis',
              });
            const filter = parseFeedFilter(
              {
                ...(ids ? { kpi: ids.join(',') } : {}),
                ...(args.window === undefined || args.window === null ? {} : { window: String(args.window) }),
                ...(args.by === undefined || args.by === null ? {} : { by: String(args.by) }),
              },
              kpiIds,
            );
            const sellerId = (context as Context).principal?.sellerId ?? null;
            const source: LiveSource = sellerId ? sellerLiveSource(live, snapshot, sellerId, filter) : live;
            return feedIterator(source, filter);
          },
        },
      },
    },
    context: (request) => ({ principal: request.principal }),
    subscription: {
      context: (_socket, request) => ({ principal: request.principal }),
      keepAlive: 15_000,
    },
    graphiql: false,
    allowBatchedQueries: false,
    validationRules: [limitRule(limits ?? DEFAULT_LIMITS)],
    errorFormatter: (execution: ExecutionResult & { errors: readonly GraphQLError[] }) => {
      const errors = formatErrors(execution.errors);
      const hasData = execution.data !== undefined && execution.data !== null;
      return {
        statusCode: statusOf(errors, hasData),
        response: { data: execution.data ?? null, errors } as never,
      };
    },
    // Refused keys answer exactly as on REST (401/403, catalogue body); query errors the GraphQL way.
    errorHandler: (error, request, reply) => {
      if (
        error instanceof PulseError &&
        (error.code === 'PULSE_ERR_UNAUTHENTICATED' || error.code === 'PULSE_ERR_FORBIDDEN')
      ) {
        handleError(error, request, reply);
        return;
      }
      const errors = formatErrors([error]);
      if (errors.some((e) => e.extensions.code === 'PULSE_ERR_INTERNAL'))
        request.log.error({ err: error }, 'graphql request failed');
      void reply.code(statusOf(errors, false)).send({ data: null, errors });
    },
  };
  await app.register(mercurius, options);
  app.graphql.addHook('preParsing', async (_schema, source) => {
    if (source.length > MAX_QUERY_BYTES) {
      throw new PulseError(
        'PULSE_ERR_QUERY_TOO_COMPLEX',
        `The query is longer than ${MAX_QUERY_BYTES} bytes`,
        { field: 'query' },
      );
    }
    // Parsed here first: a syntax error is the caller's, and some (an empty selection `{ }`) reach
    // Mercurius's validation as a broken document and would surface as an internal error.
    try {
      parse(source);
    } catch (error) {
      throw new PulseError('PULSE_ERR_INVALID_QUERY', (error as Error).message, { field: 'query' });
    }
  });
};
