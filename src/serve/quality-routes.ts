import type { FastifyPluginAsync } from 'fastify';
import { PulseError } from '../errors.js';
import {
  checkFix,
  listQuarantine,
  readScorecard,
  type EventFix,
  type PublishGate,
  type QualityRunner,
  type Remediator,
} from '../quality/index.js';

export interface QualityRoutesOptions {
  readonly runner: QualityRunner | undefined;
  readonly gate: PublishGate;
  readonly remediator: Remediator;
  /** Runs a full pass of the rules now (through the refresh loop) and returns when it is done. */
  readonly runFull: () => Promise<unknown>;
}

/** The filters of the quality scorecard as the API accepts them (REST and GraphQL). */
export const QUALITY_FILTER = {
  table: '^[a-z_][a-z0-9_]{0,63}$',
  rule: '^[a-z0-9_.]{1,128}$',
  severity: '^(warn|error)$',
  day: '^\\d{4}-\\d{2}-\\d{2}$',
} as const;
const NAME = QUALITY_FILTER.rule;
const DAY = QUALITY_FILTER.day;
const TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$';
const MAX_PAGE = 500;
const MAX_REPLAY = 1_000;

const quarantineFilter = {
  type: { type: 'string', pattern: '^[a-z_.]{1,64}$', description: 'Event type' },
  rule: { type: 'string', maxLength: 64, description: 'Contract rule that failed (required, money, …)' },
  field: { type: 'string', maxLength: 256, description: 'Field that failed (data.lines[0].quantity)' },
  status: { type: 'string', enum: ['open', 'remediated', 'duplicate'] },
  from: { type: 'string', pattern: TIME, description: 'Received at or after (RFC 3339)' },
  to: { type: 'string', pattern: TIME, description: 'Received before (RFC 3339)' },
} as const;

const fixSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    set: { type: 'object', maxProperties: 64 },
    rename: { type: 'object', maxProperties: 64, additionalProperties: { type: 'string' } },
    remove: { type: 'array', maxItems: 64, items: { type: 'string' } },
    convert: {
      type: 'object',
      maxProperties: 64,
      additionalProperties: { enum: ['number', 'integer', 'string', 'trim', 'upper', 'lower'] },
    },
    map: {
      type: 'object',
      maxProperties: 64,
      additionalProperties: { type: 'object', maxProperties: 1000 },
    },
  },
} as const;

/** `GET /v1/quality` (scorecards, current verdicts, holds) and the quarantine with its remediation. */
export const qualityRoutes: FastifyPluginAsync<QualityRoutesOptions> = async (app, options) => {
  const { runner, gate, remediator } = options;
  app.get(
    '/v1/quality',
    {
      schema: {
        summary: 'Quality scorecards: pass rate per rule, table and day, the current verdicts and KPI holds',
        tags: ['quality'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            table: { type: 'string', pattern: QUALITY_FILTER.table },
            rule: { type: 'string', pattern: NAME },
            severity: { type: 'string', enum: ['warn', 'error'] },
            day: { type: 'string', pattern: DAY, description: 'Business day (YYYY-MM-DD)' },
          },
        },
      },
    },
    async (request) =>
      qualityReport(
        options,
        request.query as { table?: string; rule?: string; severity?: string; day?: string },
      ),
  );
  app.post(
    '/v1/quality/run',
    { schema: { summary: 'Runs every quality rule on every row now', tags: ['quality'] } },
    async () => {
      if (!runner)
        throw new PulseError(
          'PULSE_ERR_INVALID_PARAMETER',
          'quality rules are disabled (quality.enabled: false)',
        );
      return { pass: await options.runFull(), holds: Object.fromEntries(gate.holds) };
    },
  );
  app.get(
    '/v1/quarantine',
    {
      schema: {
        summary: 'Quarantined events, with the rule and field that failed (paginated by id)',
        tags: ['quality'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...quarantineFilter,
            after: {
              type: 'string',
              pattern: '^\\d{1,18}$',
              description: 'Page cursor: the next_after of the previous page',
            },
            limit: {
              type: 'string',
              pattern: '^\\d{1,4}$',
              description: `Page size, 1–${MAX_PAGE} (default 100)`,
            },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as Record<string, string | undefined>;
      const limit = query.limit === undefined ? 100 : Number(query.limit);
      if (limit < 1 || limit > MAX_PAGE)
        throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `limit must be 1–${MAX_PAGE}`, {
          field: 'limit',
        });
      const entries = await listQuarantine(
        remediator.connection,
        {
          ...query,
          status: query.status as 'open' | undefined,
          after: query.after === undefined ? undefined : Number(query.after),
        },
        limit + 1,
      );
      const page = entries.slice(0, limit);
      return {
        entries: page,
        next_after: entries.length > limit ? String(page[page.length - 1]?.id) : null,
      };
    },
  );
  app.post(
    '/v1/quarantine/replay',
    {
      bodyLimit: 1024 * 1024,
      schema: {
        summary: 'Corrects quarantined events and replays them through the contracts and ingest',
        tags: ['quality'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ids: { type: 'array', minItems: 1, maxItems: MAX_REPLAY, items: { type: 'integer', minimum: 0 } },
            filter: { type: 'object', additionalProperties: false, properties: quarantineFilter },
            fix: fixSchema,
            payload: {
              type: 'object',
              description: 'A corrected event replacing one entry (with exactly one id)',
            },
          },
        },
      },
    },
    async (request) => {
      const body = request.body as {
        ids?: number[];
        filter?: Record<string, string>;
        fix?: EventFix;
        payload?: unknown;
      };
      if (!body.ids && !body.filter)
        throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'ids or filter is required', { field: 'ids' });
      if (body.fix && body.payload !== undefined)
        throw new PulseError('PULSE_ERR_INVALID_PARAMETER', 'give fix or payload, not both', {
          field: 'payload',
        });
      if (body.payload !== undefined && body.ids?.length !== 1)
        throw new PulseError(
          'PULSE_ERR_INVALID_PARAMETER',
          'payload replaces exactly one entry: give one id',
          { field: 'ids' },
        );
      if (body.fix) {
        try {
          checkFix(body.fix);
        } catch (error) {
          throw new PulseError('PULSE_ERR_INVALID_PARAMETER', (error as Error).message, { field: 'fix' });
        }
      }
      // Only open entries are replayed: a remediated event is never sent twice.
      const entries = await listQuarantine(
        remediator.connection,
        { ...(body.filter ?? {}), ids: body.ids, status: 'open' } as never,
        MAX_REPLAY + 1,
      );
      if (entries.length > MAX_REPLAY)
        throw new PulseError(
          'PULSE_ERR_INVALID_PARAMETER',
          `more than ${MAX_REPLAY} entries match: narrow the filter`,
          {
            field: 'filter',
          },
        );
      if (body.ids) {
        const found = new Set(entries.map((entry) => entry.id));
        const missing = body.ids.filter((id) => !found.has(id));
        if (missing.length > 0)
          throw new PulseError(
            'PULSE_ERR_NOT_FOUND',
            `no open quarantine entry ${missing.slice(0, 10).join(', ')}`,
            {
              field: 'ids',
            },
          );
      }
      return remediator.replay({
        entries,
        fix: body.fix,
        payload: body.payload,
        by: request.principal?.keyId ?? 'unknown',
      });
    },
  );
};

export interface QualityFilter {
  readonly table?: string | undefined;
  readonly rule?: string | undefined;
  readonly severity?: string | undefined;
  readonly day?: string | undefined;
}

/** The answer of `GET /v1/quality` (and of the GraphQL `quality` field): scorecard, verdicts, holds. */
export async function qualityReport(
  { runner, gate, remediator }: Pick<QualityRoutesOptions, 'runner' | 'gate' | 'remediator'>,
  filter: QualityFilter,
) {
  if (filter.day && Number.isNaN(Date.parse(`${filter.day}T00:00:00Z`)))
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `day ${filter.day} is not a date`, {
      field: 'day',
    });
  const rules = runner?.rules ?? [];
  if (filter.table && !rules.some((rule) => rule.table === filter.table))
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `no quality rule on table ${filter.table}`, {
      field: 'table',
    });
  if (filter.rule && !rules.some((rule) => rule.id === filter.rule))
    throw new PulseError('PULSE_ERR_INVALID_PARAMETER', `no quality rule ${filter.rule}`, {
      field: 'rule',
    });
  const matches = (r: { id: string; table: string; severity: string }) =>
    (!filter.table || r.table === filter.table) &&
    (!filter.rule || r.id === filter.rule) &&
    (!filter.severity || r.severity === filter.severity);
  const current = [...(runner?.states() ?? [])]
    .filter((state) => matches(state.rule))
    .map((state) => ({
      rule: state.rule.id,
      table: state.rule.table,
      kind: state.rule.kind,
      severity: state.rule.severity,
      status: state.status,
      checked: state.checked,
      failed: state.failed,
      failing_sample: state.sample,
      at: state.at,
      ...(state.measure ? { measure: state.measure } : {}),
    }));
  if (runner) await runner.scorecard.flush();
  return {
    enabled: runner !== undefined,
    rules: rules.filter(matches).length,
    holds: Object.fromEntries(gate.holds),
    current,
    scorecard: await readScorecard(remediator.connection, filter),
  };
}
