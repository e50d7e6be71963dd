import type { FastifyPluginAsync } from 'fastify';
import type { KpiSnapshot, LiveKpis } from '../kpis/index.js';
import type { PulseMetrics } from '../observability/index.js';
import { openFeed, parseFeedFilter, type LiveSource } from './live-feed.js';
import { livePayload } from './live-payload.js';
import { sellerLiveSource } from './seller-feed.js';

export interface StreamRoutesOptions {
  readonly live: LiveKpis;
  readonly snapshot: KpiSnapshot;
  readonly kpiIds: readonly string[];
  readonly metrics: PulseMetrics;
  readonly heartbeatMs?: number;
}

/** A WebSocket is "backed up" past this many bytes queued in its send buffer. */
const WS_HIGH_WATER_BYTES = 1 << 20;

const feedQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kpi: { type: 'string', description: 'Comma-separated KPI ids (default: all)' },
    window: { type: 'string', description: 'today (default), 1h or 24h' },
    by: { type: 'string', description: 'A dimension: push its breakdown instead of the total' },
    access_token: {
      type: 'string',
      description: 'The API key, for clients that cannot set headers (EventSource, browsers)',
    },
  },
} as const;

/** `GET /v1/stream` (Server-Sent Events) and `/v1/ws` (WebSocket): every KPI change, as it happens. */
export const streamRoutes: FastifyPluginAsync<StreamRoutesOptions> = async (
  app,
  { live, snapshot, kpiIds, metrics, heartbeatMs = 15_000 },
) => {
  app.get(
    '/v1/stream',
    { schema: { summary: 'KPI changes as Server-Sent Events', tags: ['stream'], querystring: feedQuery } },
    (request, reply) => {
      const filter = parseFeedFilter(request.query as Record<string, unknown>, kpiIds);
      const sellerId = request.principal?.sellerId ?? null;
      const source: LiveSource = sellerId ? sellerLiveSource(live, snapshot, sellerId, filter) : live;
      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      response.write(': pulse live feed\n\n');
      const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), heartbeatMs);
      metrics.subscribers.inc({ transport: 'sse' });
      openFeed(source, filter, {
        write: (value, lag) =>
          response.write(
            `event: kpi\nid: ${value.key}\ndata: ${JSON.stringify(livePayload(value, lag))}\n\n`,
          ),
        onWritable: (callback) => response.once('drain', callback),
        onClose: (callback) =>
          response.once('close', () => {
            clearInterval(heartbeat);
            metrics.subscribers.dec({ transport: 'sse' });
            callback();
          }),
      });
    },
  );

  app.get(
    '/v1/ws',
    {
      websocket: true,
      schema: { summary: 'KPI changes over a WebSocket', tags: ['stream'], querystring: feedQuery },
    },
    (socket, request) => {
      let filter;
      try {
        filter = parseFeedFilter(request.query as Record<string, unknown>, kpiIds);
      } catch (error) {
        socket.send(
          JSON.stringify({
            type: 'error',
            error: (error as { toJSON?: () => unknown }).toJSON?.() ?? String(error),
          }),
        );
        socket.close(1008, 'invalid subscription');
        return;
      }
      socket.on('message', () => undefined); // the feed is one-way; client messages are ignored
      const sellerId = request.principal?.sellerId ?? null;
      const source: LiveSource = sellerId ? sellerLiveSource(live, snapshot, sellerId, filter) : live;
      metrics.subscribers.inc({ transport: 'websocket' });
      socket.once('close', () => metrics.subscribers.dec({ transport: 'websocket' }));
      openFeed(source, filter, {
        write: (value, lag) => {
          socket.send(JSON.stringify({ type: 'kpi', ...livePayload(value, lag) }));
          return socket.bufferedAmount < WS_HIGH_WATER_BYTES;
        },
        onWritable: (callback) => {
          const wait = setInterval(() => {
            if (socket.bufferedAmount < WS_HIGH_WATER_BYTES || socket.readyState !== socket.OPEN) {
              clearInterval(wait);
              callback();
            }
          }, 50);
        },
        onClose: (callback) => socket.once('close', callback),
      });
    },
  );
};
