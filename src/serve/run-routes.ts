import type { FastifyPluginAsync } from 'fastify';
import { PulseError } from '../errors.js';
import type { RunListQuery, RunRecord, SlaBreachRecord } from '../orchestrator/index.js';

export interface RunHistory {
  list(query: RunListQuery): Promise<RunRecord[]>;
  get(id: string): Promise<RunRecord | undefined>;
  /** The latest SLA breaches, newest first. */
  breaches(limit: number): Promise<SlaBreachRecord[]>;
}

/** Run ids and run triggers as the API accepts them (REST and GraphQL). */
export const RUN_ID = '^[A-Za-z0-9_-]{1,64}$';
export const RUN_TRIGGER = '^[a-z0-9_:.-]{1,64}$';

const limitParameter = {
  type: 'string',
  pattern: '^[0-9]{1,4}$',
  description: 'At most this many (1–1000, default 50)',
} as const;

/** A page size of run history: 1–1000, 50 when not given (REST and GraphQL). */
export function pageLimit(given: string | number | undefined): number {
  const limit = given === undefined ? 50 : Number(given);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `limit must be 1–1000, got ${limit}`, {
      field: 'limit',
    });
  }
  return limit;
}

/**
 * `GET /v1/runs` and `GET /v1/runs/{id}`: the history of model runs, from the warehouse;
 * `GET /v1/sla-breaches`: the runs and jobs that took longer than their SLA.
 */
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
            limit: limitParameter,
            status: { type: 'string', enum: ['success', 'failed'] },
            trigger: {
              type: 'string',
              pattern: RUN_TRIGGER,
              description: 'refresh, manual, retry, backfill or a job name',
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as { limit?: string; status?: 'success' | 'failed'; trigger?: string };
      const limit = pageLimit(query.limit);
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
  app.get(
    '/v1/sla-breaches',
    {
      schema: {
        summary: 'SLA breaches of the refresh loop and the cadence jobs, newest first',
        tags: ['runs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: limitParameter },
        },
      },
    },
    async (request) => {
      const query = request.query as { limit?: string };
      return { breaches: await runs.breaches(pageLimit(query.limit)) };
    },
  );
};
