import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { KpiSnapshot, LiveKpis } from '../kpis/index.js';
import type { PulseMetrics } from '../observability/index.js';
import { eventsRoute, type DeliverBody } from '../sources/index.js';
import { authPlugin } from './auth.js';
import { handleError } from './errors.js';
import { keyRoutes, type KeyAdmin } from './key-routes.js';
import { kpiRoutes } from './kpi-routes.js';
import { rateLimitPlugin, type RateLimitOptions } from './rate-limit.js';
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
  readonly bodyLimitBytes: number;
  readonly maxBatchEvents: number;
  /** Requests per API key (anonymous: per IP) per window. */
  readonly rateLimit: RateLimitOptions;
  readonly logLevel: string;
  /** Liveness and readiness of the parts behind the API. */
  readonly health: () => Promise<{ ready: boolean; checks: Record<string, unknown> }>;
  readonly version: string;
}

/** The Fastify app: ingest, KPIs, health and OpenAPI docs, each area a plugin. */
export async function buildApp(options: ServeOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: options.logLevel },
    bodyLimit: options.bodyLimitBytes,
    // Query strings with duplicated keys or huge values are refused by the schemas, not coerced silently.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    requestIdHeader: 'x-request-id',
    // A client that trickles its request is cut off; streams are long responses, not long requests.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
  });
  app.setErrorHandler(handleError);
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('cross-origin-resource-policy', 'same-origin');
    // The API answers data, never pages: nothing in it may run scripts or be cached by a proxy.
    if (!request.url.startsWith('/docs')) {
      void reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
      void reply.header('cache-control', 'no-store');
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
  await app.register(authPlugin, { keys: options.keys.ring });
  await app.register(rateLimitPlugin, options.rateLimit);
  await app.register(keyRoutes, { admin: options.keys });
  await app.register(eventsRoute, {
    deliverBody: options.deliverBody,
    overloaded: options.overloaded,
    maxBatchEvents: options.maxBatchEvents,
  });
  await app.register(kpiRoutes, { snapshot: options.snapshot, live: options.live });
  const kpiIds = options.snapshot.engine.catalogue.kpis.map((kpi) => kpi.id);
  await app.register(streamRoutes, {
    live: options.live,
    snapshot: options.snapshot,
    kpiIds,
    metrics: options.metrics,
  });
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['health'] } },
    async (_request, reply) => {
      options.metrics.ingestQueueEvents.set(options.queuedEvents());
      return reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
    },
  );
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['health'] } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    { schema: { summary: 'Readiness of the warehouse and the refresh loop', tags: ['health'] } },
    async (_request, reply) => {
      const health = await options.health();
      return reply
        .code(health.ready ? 200 : 503)
        .send({ status: health.ready ? 'ready' : 'not_ready', checks: health.checks });
    },
  );
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs'));
  return app;
}
