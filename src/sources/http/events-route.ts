import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { PulseError } from '../../errors.js';
import type { Telemetry } from '../../observability/index.js';
import type { DeliverBody } from '../types.js';
import { EVENT_MEDIA_TYPES, type EventMediaType } from './parse-body.js';

export interface EventsRouteOptions {
  readonly deliverBody: DeliverBody;
  /** True while ingest is at capacity: the request is refused before its body is parsed. */
  readonly overloaded?: () => boolean;
  readonly maxBatchEvents: number;
  /** Traces each request as the `pulse.ingest` span, child of the caller's `traceparent`. */
  readonly telemetry?: Telemetry;
}

const receiptSchema = {
  type: 'object',
  properties: {
    batch_id: { type: 'string' },
    accepted: { type: 'integer' },
    duplicates: { type: 'integer' },
    quarantined: { type: 'integer' },
    quarantined_events: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          id: { type: ['string', 'null'] },
          rule: { type: 'string' },
          field: { type: 'string' },
          message: { type: 'string' },
        },
      },
    },
  },
} as const;

/**
 * The HTTP source: `POST /v1/events` with one CloudEvent, a CloudEvents batch or NDJSON. It
 * answers only after the batch is committed: 200 when anything was stored or recognised as a
 * duplicate, 422 when every event failed its contract (each still quarantined with its reason).
 */
export const eventsRoute: FastifyPluginAsync<EventsRouteOptions> = async (app: FastifyInstance, options) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(Object.keys(EVENT_MEDIA_TYPES), { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });
  app.post(
    '/v1/events',
    {
      schema: {
        summary: 'Ingest CloudEvents',
        description:
          'One CloudEvent (application/cloudevents+json or application/json), a batch (application/cloudevents-batch+json) or NDJSON (application/x-ndjson). Answers after the batch is committed.',
        tags: ['ingest'],
        response: { 200: receiptSchema, 422: receiptSchema },
      },
    },
    async (request, reply) => {
      const mediaType = (request.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase() as EventMediaType;
      if (!(mediaType in EVENT_MEDIA_TYPES)) {
        throw new PulseError('PULSE_ERR_UNSUPPORTED_MEDIA_TYPE', `Unsupported content type "${mediaType}"`, {
          field: 'content-type',
        });
      }
      if (options.overloaded?.()) throw new PulseError('PULSE_ERR_OVERLOADED');
      const span = options.telemetry?.startSpan('pulse.ingest', {
        parent: options.telemetry.extract(request.headers),
        attributes: { 'pulse.source': 'http', 'http.request.body.size': (request.body as string).length },
      });
      let receipt;
      try {
        receipt = await options.deliverBody(mediaType, request.body as string, options.maxBatchEvents, {
          sourceKind: 'http',
          receivedAt: new Date(),
          correlationId: request.id,
          ...(span && options.telemetry?.enabled ? { trace: span.spanContext() } : {}),
        });
      } catch (error) {
        if (span) options.telemetry?.fail(span, error);
        throw error;
      }
      span
        ?.setAttributes({
          'pulse.batch_id': receipt.batch_id,
          'pulse.events.accepted': receipt.accepted,
          'pulse.events.duplicates': receipt.duplicates,
          'pulse.events.quarantined': receipt.quarantined,
          'pulse.correlation_id': request.id,
        })
        .end();
      const nothingStored = receipt.accepted === 0 && receipt.duplicates === 0 && receipt.quarantined > 0;
      return reply.code(nothingStored ? 422 : 200).send(receipt);
    },
  );
};
