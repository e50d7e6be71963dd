import type { FastifyPluginAsync } from 'fastify';
import { PulseError } from '../errors.js';
import type { RunListQuery, RunRecord } from '../orchestrator/index.js';

export interface RunHistory {
  list(query: RunListQuery): Promise<RunRecord[]>;
  get(id: string): Promise<RunRecord | undefined>;
}

const RUN_ID = '^[A-Za-z0-9_-]{1,64}$';

/** `GET /v1/runs` and `GET /v1/runs/{id}`: the history of model runs, from the warehouse. */
export const runRoutes: FastifyPluginAsync<{ runs: RunHistory }> = async (app, { runs }) => {
  app.get(
    '/v1/runs',
    {
      schema: {
        summary: 'Model runs, newest first',
        tags: ['runs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: {
              type: 'string',
              pattern: '^[0-9]{1,4}$',
              description: 'At most this many runs (1–1000, default 50)',
            },
            status: { type: 'string', enum: ['success', 'failed'] },
            trigger: {
              type: 'string',
              pattern: '^[a-z0-9_:.-]{1,64}$',
              description: 'refresh, manual, retry, backfill or a job name',
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as { limit?: string; status?: 'success' | 'failed'; trigger?: string };
      const limit = query.limit === undefined ? 50 : Number(query.limit);
      if (limit < 1 || limit > 1000) {
        throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `limit must be 1–1000, got ${limit}`, {
          field: 'limit',
        });
      }
      return { runs: await runs.list({ limit, status: query.status, trigger: query.trigger }) };
    },
  );
  app.get(
    '/v1/runs/:id',
    {
      schema: {
        summary: 'One model run',
        tags: ['runs'],
        params: { type: 'object', properties: { id: { type: 'string', pattern: RUN_ID } }, required: ['id'] },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const run = await runs.get(id);
      if (!run) throw new PulseError('PULSE_ERR_NOT_FOUND', `No run "${id}"`, { field: 'id' });
      return run;
    },
  );
};
