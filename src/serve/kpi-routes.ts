import type { FastifyPluginAsync } from 'fastify';
import type { KpiSnapshot, LiveKpis } from '../kpis/index.js';
import { DIMENSIONS, isCustomerDimension, NAMED_WINDOWS, SERIES_GRAINS } from '../kpis/index.js';
import { JSON_TYPE } from './api-headers.js';
import { liveReadOf, scoped, type KpiQuery } from './kpi-reads.js';
import type { PrivateBreakdown } from './private-breakdowns.js';

export interface KpiRoutesOptions {
  readonly snapshot: KpiSnapshot;
  readonly live: LiveKpis;
  /** Answers breakdowns by customer attributes (differential privacy). */
  readonly privateBreakdown: PrivateBreakdown;
}

const windowQuery = {
  window: {
    type: 'string',
    enum: [...NAMED_WINDOWS],
    description: 'A named window (default today, in the business time zone)',
  },
  from: { type: 'string', description: 'Start of the window, inclusive (RFC 3339)' },
  to: { type: 'string', description: 'End of the window, exclusive (RFC 3339; default now)' },
  currency: {
    type: 'string',
    maxLength: 16,
    description:
      'Reporting currency of money KPIs (default EUR): any ISO 4217 currency with FX rates, each amount converted at the rate of its own hour',
  },
} as const;

/** `GET /v1/kpis` and `GET /v1/kpis/{id}`: governed values with definition, lineage and freshness. */
export const kpiRoutes: FastifyPluginAsync<KpiRoutesOptions> = async (
  app,
  { snapshot, live, privateBreakdown },
) => {
  app.get(
    '/v1/kpis',
    {
      schema: {
        summary: 'Every KPI now',
        tags: ['kpis'],
        querystring: { type: 'object', additionalProperties: false, properties: windowQuery },
      },
    },
    async (request, reply) => {
      const query = request.query as KpiQuery;
      const read = liveReadOf(request.principal, query);
      const body = read && live.allJson(read.window);
      if (body !== undefined) return reply.type(JSON_TYPE).send(body);
      return { kpis: await snapshot.all(scoped(request.principal, query)) };
    },
  );
  app.get(
    '/v1/kpis/:id',
    {
      schema: {
        summary: 'One KPI, optionally broken down or as a series',
        tags: ['kpis'],
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...windowQuery,
            by: { type: 'string', enum: [...DIMENSIONS], description: 'Break the value down by a dimension' },
            series: { type: 'string', enum: [...SERIES_GRAINS], description: 'A time series of the value' },
          },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const query = request.query as KpiQuery;
      if (isCustomerDimension(query.by) && request.principal)
        return privateBreakdown(id, scoped(request.principal, query), request.principal);
      const read = liveReadOf(request.principal, query);
      const body = read && live.getJson(id, read.window, read.by);
      if (body !== undefined) return reply.type(JSON_TYPE).send(body);
      return snapshot.one(id, scoped(request.principal, query));
    },
  );
};
