import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { PulseError } from '../errors.js';
import {
  DIMENSIONS,
  DRILL_MAX_LIMIT,
  FORECAST_GRAINS,
  forecastKpi,
  startOfBusinessDay,
  NAMED_WINDOWS,
  type ForecastGrain,
  type KpiEngine,
} from '../kpis/index.js';
import type { KpiComment } from '../warehouse/index.js';

/** Where comments are kept (the warehouse). */
export interface CommentStore {
  add(comment: { kpiId: string; author: string; keyId: string; body: string }): Promise<KpiComment>;
  list(kpiId: string, limit: number): Promise<KpiComment[]>;
}

export interface KpiDetailRoutesOptions {
  readonly engine: KpiEngine;
  readonly comments: CommentStore;
  /** The name of the key with this id (a comment's author). */
  readonly keyName: (keyId: string) => string | undefined;
}

export const COMMENT_MAX_CHARS = 2_000;
const MAX_FORECAST_HORIZON = { hour: 48, day: 14 } as const;

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const;

const windowQuery = {
  window: { type: 'string', enum: [...NAMED_WINDOWS] },
  from: { type: 'string', maxLength: 40, description: 'Start, inclusive (RFC 3339)' },
  to: { type: 'string', maxLength: 40, description: 'End, exclusive (RFC 3339; default now)' },
} as const;

function integerParam(raw: string | undefined, field: string, min: number, max: number, fallback: number) {
  if (raw === undefined) return fallback;
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `${field} must be an integer from ${min} to ${max}`, {
      field,
    });
  }
  return value;
}

const sellerOf = (request: FastifyRequest) => request.principal?.sellerId ?? undefined;

/**
 * Beside a KPI's value: its forecast, the records under it (drill-through), and comments left on
 * it by the people who read it.
 */
export const kpiDetailRoutes: FastifyPluginAsync<KpiDetailRoutesOptions> = async (
  app,
  { engine, comments, keyName },
) => {
  app.get(
    '/v1/kpis/:id/forecast',
    {
      schema: {
        summary: 'A seasonal-naive forecast of the next buckets, with an 80 % band',
        description:
          'Each bucket repeats the same bucket one season back (a day of hours, a week of days); the band is ±1.28 σ √(seasons ahead), σ the RMS of the seasonal differences over 7 days (hour) or 4 weeks (day) of history.',
        tags: ['kpis'],
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            grain: { type: 'string', enum: FORECAST_GRAINS },
            horizon: { type: 'string', maxLength: 4, description: 'Buckets ahead (hour: 1–48, day: 1–14)' },
          },
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const query = request.query as { grain?: ForecastGrain; horizon?: string };
      const grain = query.grain ?? 'hour';
      const horizon = integerParam(
        query.horizon,
        'horizon',
        1,
        MAX_FORECAST_HORIZON[grain],
        FORECAST_SEASONS_DEFAULT[grain],
      );
      const kpi = engine.definition(id);
      const seller = sellerOf(request);
      if (seller !== undefined && !kpi.dimensions.includes('seller'))
        throw new PulseError('PULSE_ERR_FORBIDDEN', `${kpi.id} is not available per seller`, { field: 'id' });
      const forecast = await forecastKpi(
        engine,
        id,
        { grain, horizon, now: new Date(), seller },
        startOfBusinessDay,
      );
      return { id, unit: kpi.unit, method: 'seasonal_naive', band: 0.8, ...forecast };
    },
  );

  app.get(
    '/v1/kpis/:id/records',
    {
      schema: {
        summary: 'The records under a KPI value (drill-through), newest first, paginated',
        description:
          'One row per order line, refund, session, parcel, return line or support case, as the catalogue defines; no personal data. A seller key sees its own records only.',
        tags: ['kpis'],
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...windowQuery,
            dimension: { type: 'string', enum: [...DIMENSIONS] },
            value: { type: 'string', maxLength: 200, description: 'The dimension value (omit: no value)' },
            limit: {
              type: 'string',
              maxLength: 4,
              description: `Rows per page, 1–${DRILL_MAX_LIMIT} (default 100)`,
            },
            offset: {
              type: 'string',
              maxLength: 9,
              description: 'Rows to skip (next_offset of the last page)',
            },
          },
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const query = request.query as Record<string, string | undefined>;
      const page = await engine.drill(id, {
        window: query.window,
        from: query.from,
        to: query.to,
        ...(query.dimension === undefined ? {} : { dimension: query.dimension, value: query.value ?? null }),
        ...(query.dimension === undefined && query.value !== undefined ? { value: query.value } : {}),
        seller: sellerOf(request),
        limit: integerParam(query.limit, 'limit', 1, DRILL_MAX_LIMIT, 100),
        offset: integerParam(query.offset, 'offset', 0, 100_000_000, 0),
      });
      return { id, ...page };
    },
  );

  app.get(
    '/v1/kpis/:id/comments',
    {
      schema: {
        summary: 'Comments left on a KPI, newest first',
        tags: ['kpis'],
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'string', maxLength: 4, description: 'At most this many (1–200, default 50)' },
          },
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      engine.definition(id);
      const limit = integerParam((request.query as { limit?: string }).limit, 'limit', 1, 200, 50);
      return { id, comments: await comments.list(id, limit) };
    },
  );

  app.post(
    '/v1/kpis/:id/comments',
    {
      schema: {
        summary: "Leave a comment on a KPI (its author is the key's name)",
        tags: ['kpis'],
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['body'],
          properties: { body: { type: 'string', minLength: 1, maxLength: COMMENT_MAX_CHARS } },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      engine.definition(id);
      const text = (request.body as { body: string }).body.trim();
      if (text.length === 0)
        throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'body must not be blank', { field: 'body' });
      const principal = request.principal;
      if (!principal) throw new PulseError('PULSE_ERR_UNAUTHENTICATED');
      const comment = await comments.add({
        kpiId: id,
        author: keyName(principal.keyId) ?? principal.keyId,
        keyId: principal.keyId,
        body: text,
      });
      return reply.code(201).send(comment);
    },
  );

  app.get(
    '/v1/me',
    { schema: { summary: 'Who this key is: its name, roles and seller scope', tags: ['admin'] } },
    async (request) => {
      const principal = request.principal;
      if (!principal) throw new PulseError('PULSE_ERR_UNAUTHENTICATED');
      return {
        key_id: principal.keyId,
        name: keyName(principal.keyId) ?? null,
        roles: principal.roles,
        seller_id: principal.sellerId,
      };
    },
  );
};

const FORECAST_SEASONS_DEFAULT = { hour: 24, day: 7 } as const;
