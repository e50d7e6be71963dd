import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import type { Alerting } from '../alerts/index.js';
import { PulseError } from '../errors.js';

const TRANSITIONS = ['pending', 'firing', 'escalated', 'resolved', 'suppressed', 'cancelled'];

/** `GET /v1/alerts` (rule states, history and delivery log) and `POST /v1/scorecards` (render on demand). */
export const alertRoutes: FastifyPluginAsync<{ alerting: Alerting }> = async (app, { alerting }) => {
  app.get(
    '/v1/alerts',
    {
      schema: {
        summary: 'Alert rules with their state, the alert history and each delivery attempt',
        tags: ['alerts'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            rule: { type: 'string', maxLength: 128 },
            kpi: { type: 'string', maxLength: 64 },
            transition: { type: 'string', enum: TRANSITIONS },
            since: { type: 'string', format: 'date-time' },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as Record<string, string | undefined>;
      const limit = Number(query.limit ?? 100);
      if (limit < 1 || limit > 1000)
        throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'limit must be 1–1000', { field: 'limit' });
      const events = await alerting.log.list({
        limit,
        rule: query.rule,
        kpi: query.kpi,
        transition: query.transition,
        since: query.since === undefined ? undefined : new Date(query.since),
      });
      return {
        rules: alerting.evaluator?.states() ?? [],
        events: events.map((e) => ({
          ...e,
          notice: JSON.parse(String(e.notice)) as unknown,
          deliveries: JSON.parse(String(e.deliveries)) as unknown,
        })),
      };
    },
  );
  app.post(
    '/v1/scorecards',
    {
      schema: {
        summary: 'Render a region’s PDF scorecard for a business day (and answer it)',
        tags: ['alerts'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['region', 'date'],
          properties: {
            region: { type: 'string', pattern: '^[A-Z]{2}$' },
            date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
          },
        },
      },
    },
    async (request, reply) => {
      const { region, date } = request.body as { region: string; date: string };
      const rendered = await alerting.scorecards.render(region, date);
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="scorecard-${region}-${date}.pdf"`)
        .header('x-pulse-render-ms', rendered.renderMs.toFixed(0))
        .send(await readFile(rendered.path));
    },
  );
};
