import type { FastifyPluginAsync } from 'fastify';
import type { KpiSnapshot, LiveKpis } from '../kpis/index.js';
import { DIMENSIONS, NAMED_WINDOWS, SERIES_GRAINS } from '../kpis/index.js';
import { readKpi, readKpis, type KpiQuery } from './kpi-reads.js';

export interface KpiRoutesOptions {
  readonly snapshot: KpiSnapshot;
  readonly live: LiveKpis;
}

const windowQuery = {
  window: {
    type: 'string',
    enum: [...NAMED_WINDOWS],
    description: 'A named window (default today, in the business time zone)',
  },
  from: { type: 'string', description: 'Start of the window, inclusive (RFC 3339)' },
  to: { type: 'string', description: 'End of the window, exclusive (RFC 3339; default now)' },
} as const;

/** `GET /v1/kpis` and `GET /v1/kpis/{id}`: governed values with definition, lineage and freshness. */
export const kpiRoutes: FastifyPluginAsync<KpiRoutesOptions> = async (app, { snapshot, live }) => {
  app.get(
    '/v1/kpis',
    {
      schema: {
        summary: 'Every KPI now',
        tags: ['kpis'],
        querystring: { type: 'object', additionalProperties: false, properties: windowQuery },
      },
    },
    async (request) => ({
      kpis: await readKpis(snapshot, live, request.principal, request.query as KpiQuery),
    }),
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
    async (request) =>
      readKpi(
        snapshot,
        live,
        request.principal,
        (request.params as { id: string }).id,
        request.query as KpiQuery,
      ),
  );
};
