import type { FastifyPluginAsync } from 'fastify';
import { PulseError } from '../errors.js';
import { impactOf, type LineageGraph } from '../lineage/index.js';

export interface LineageRoutesOptions {
  readonly lineage: () => Promise<LineageGraph>;
}

/** `GET /v1/lineage`: the whole graph, or what is up- or downstream of one node. */
export const lineageRoutes: FastifyPluginAsync<LineageRoutesOptions> = async (app, { lineage }) => {
  app.get(
    '/v1/lineage',
    {
      schema: {
        summary: 'Lineage from contract fields through bronze, silver and gold to KPIs; impact analysis',
        tags: ['lineage'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            node: {
              type: 'string',
              minLength: 1,
              maxLength: 256,
              description: 'A column (table.column), table, contract field (event.type.field) or KPI id',
            },
            direction: {
              type: 'string',
              enum: ['upstream', 'downstream'],
              description: 'Default downstream',
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as { node?: string; direction?: 'upstream' | 'downstream' };
      const graph = await lineage();
      if (query.node === undefined) {
        if (query.direction !== undefined) {
          throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'direction needs a node', { field: 'node' });
        }
        return graph.data;
      }
      return impactOf(graph, query.node, query.direction ?? 'downstream');
    },
  );
};
