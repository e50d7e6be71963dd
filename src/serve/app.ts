import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Alerting } from '../alerts/index.js';
import websocket from '@fastify/websocket';
import type { KpiSnapshot, LiveKpis } from '../kpis/index.js';
import type { LineageGraph } from '../lineage/index.js';
import type { PulseMetrics, Telemetry } from '../observability/index.js';
import type { JwtVerifier } from '../security/index.js';
import { eventsRoute, type DeliverBody } from '../sources/index.js';
import { alertRoutes } from './alert-routes.js';
import { correlationIdOf, DATA_HEADERS, SECURITY_HEADERS } from './api-headers.js';
import { authPlugin } from './auth.js';
import { handleError } from './errors.js';
import { dashboardRoutes, DASHBOARD_CSP } from './dashboard-routes.js';
import { graphqlRoutes } from './graphql.js';
import { keyRoutes, type KeyAdmin } from './key-routes.js';
import { kpiDetailRoutes, type CommentStore } from './kpi-detail-routes.js';
import { kpiRoutes } from './kpi-routes.js';
import { qualityRoutes, type QualityRoutesOptions } from './quality-routes.js';
import { lineageRoutes } from './lineage-routes.js';
import { runRoutes, type RunHistory } from './run-routes.js';
import type { PrivateBreakdown } from './private-breakdowns.js';
import { principalRateCheck, rateLimitPlugin, type RateLimitOptions } from './rate-limit.js';
import { liveLane, type HttpHandler } from './live-lane.js';
import { streamRoutes } from './stream-routes.js';

export interface ServeOptions {
  readonly deliverBody: DeliverBody;
  readonly overloaded: () => boolean;
  readonly snapshot: KpiSnapshot;
  readonly live: LiveKpis;
  /** The accepted API keys and how to add or revoke one. */
  readonly keys: KeyAdmin;
  readonly metrics: PulseMetrics;
  /** Events waiting for a commit (exported as a gauge). */
  readonly queuedEvents: () => number;
  /** Bytes the stored events' keys take in the bronze writer (exported as a gauge). */
  readonly dedupeKeyBytes: () => number;
  readonly bodyLimitBytes: number;
  readonly maxBatchEvents: number;
  /** Requests per API key (anonymous: per IP) per window. */
  readonly rateLimit: RateLimitOptions;
  readonly logLevel: string;
  /** Liveness and readiness of the parts behind the API. */
  readonly health: () => Promise<{ ready: boolean; checks: Record<string, unknown> }>;
  readonly version: string;
  /** Alert states, history and scorecards (absent in a process that serves no alerts). */
  readonly alerting?: Alerting;
  /** Comments left on KPIs. */
  readonly comments: CommentStore;
  /** Where the built dashboard is (default: dist/web). */
  readonly dashboardDir?: string;
  /** The quality scorecards and the quarantine (absent: those routes are not served). */
  readonly quality?: QualityRoutesOptions;
  /** The lineage graph (derived from the SQL on first use). */
  readonly lineage: () => Promise<LineageGraph>;
  /** The model runs recorded in the warehouse. */
  readonly runs: RunHistory;
  readonly telemetry?: Telemetry;
  readonly privateBreakdown: PrivateBreakdown;
  /** Verifies Bearer JWTs when `auth.jwt` is configured. */
  readonly jwt?: JwtVerifier | undefined;
  readonly logStream?: NodeJS.WritableStream | undefined;
}

/** A client that trickles its request is cut off; streams are long responses, not long requests. */
const TIMEOUTS = { requestTimeout: 30_000, connectionTimeout: 60_000, keepAliveTimeout: 65_000 } as const;

/** Log levels at which Fastify writes no line per request. */
const QUIET_LEVELS = new Set(['fatal', 'error', 'warn', 'silent']);

/** The Fastify app: ingest, KPIs, health and OpenAPI docs, each area a plugin. */
export async function buildApp(options: ServeOptions): Promise<FastifyInstance> {
  // Requests reach Fastify's router unless the live read lane, set once the plugins are in, takes them.
  let routed: HttpHandler | undefined;
  let lane: HttpHandler | undefined;
  const app = Fastify({
    logger: {
      level: options.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    // Every log line of a request carries its correlation id, which the response echoes back.
    genReqId: (request) => correlationIdOf(request.headers['x-request-id']),
    logController: new LogController({ requestIdLogLabel: 'correlation_id' }),
    bodyLimit: options.bodyLimitBytes,
    // Query strings with duplicated keys or huge values are refused by the schemas, not coerced silently.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    requestIdHeader: false,
    ...TIMEOUTS,
    serverFactory: (handler) => {
      routed = handler;
      const server = createServer((request, response) => (lane ?? handler)(request, response));
      // What Fastify sets on a server it makes itself.
      server.keepAliveTimeout = TIMEOUTS.keepAliveTimeout;
      server.requestTimeout = TIMEOUTS.requestTimeout;
      server.setTimeout(TIMEOUTS.connectionTimeout);
      return server;
    },
  });
  app.setErrorHandler(handleError);
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    void reply.headers(SECURITY_HEADERS);
    if (request.url === '/app' || request.url.startsWith('/app/')) {
      void reply.header('content-security-policy', DASHBOARD_CSP);
    } else if (!request.url.startsWith('/docs')) {
      void reply.headers(DATA_HEADERS);
    }
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      error: {
        code: 'PULSE_ERR_NOT_FOUND',
        message: `No route ${request.method} ${request.url.split('?')[0]}`,
      },
    });
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Pulse API',
        version: options.version,
        description: 'Real-time KPI intelligence for ecommerce: CloudEvents in, governed KPIs out.',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(authPlugin, { keys: options.keys.ring, ...(options.jwt ? { jwt: options.jwt } : {}) });
  await app.register(rateLimitPlugin, options.rateLimit);
  const kpiIds = options.snapshot.engine.catalogue.kpis.map((kpi) => kpi.id);
  // Live reads of named windows are answered before routing, unless request logs are on: every
  // request then goes through Fastify, which writes them.
  if (QUIET_LEVELS.has(options.logLevel) && routed) {
    lane = liveLane(
      {
        live: options.live,
        keys: options.keys.ring,
        kpiIds,
        rateCheck: principalRateCheck(app),
        answered: options.metrics.liveLaneAnswers,
      },
      routed,
    );
  }
  await app.register(keyRoutes, { admin: options.keys });
  await app.register(eventsRoute, {
    deliverBody: options.deliverBody,
    overloaded: options.overloaded,
    maxBatchEvents: options.maxBatchEvents,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
  });
  // One WebSocket server for /v1/ws and GraphQL subscriptions: clients only ever send small messages.
  await app.register(websocket, { options: { maxPayload: 4096 } });
  await app.register(kpiRoutes, {
    snapshot: options.snapshot,
    live: options.live,
    privateBreakdown: options.privateBreakdown,
  });
  if (options.alerting) await app.register(alertRoutes, { alerting: options.alerting });
  await app.register(kpiDetailRoutes, {
    engine: options.snapshot.engine,
    comments: options.comments,
    keyName: (keyId) => options.keys.ring.lookup(keyId)?.name,
  });
  await app.register(dashboardRoutes, { dir: options.dashboardDir });
  if (options.quality) await app.register(qualityRoutes, options.quality);
  await app.register(streamRoutes, {
    live: options.live,
    snapshot: options.snapshot,
    kpiIds,
    metrics: options.metrics,
  });
  await app.register(lineageRoutes, { lineage: options.lineage });
  await app.register(runRoutes, { runs: options.runs });
  await app.register(graphqlRoutes, {
    snapshot: options.snapshot,
    live: options.live,
    kpiIds,
    trust: { lineage: options.lineage, runs: options.runs, quality: options.quality },
  });
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['health'] } },
    async (_request, reply) => {
      options.metrics.ingestQueueEvents.set(options.queuedEvents());
      options.metrics.dedupeKeyBytes.set(options.dedupeKeyBytes());
      return reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
    },
  );
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['health'] } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: every registered part (warehouse, refresh loop, exporters, sinks) in checks',
        tags: ['health'],
      },
    },
    async (_request, reply) => {
      const health = await options.health();
      return reply
        .code(health.ready ? 200 : 503)
        .send({ status: health.ready ? 'ready' : 'not_ready', checks: health.checks });
    },
  );
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/'));
  return app;
}
