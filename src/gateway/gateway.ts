import type { NatsConnection } from '@nats-io/transport-node';
import { createContractValidator } from '../contracts/index.js';
import type { GatewayConfig, NatsConfig } from '../config/index.js';
import { KeyRing, type StoredKey } from '../security/index.js';
import { HttpSource } from '../sources/index.js';
import { connectNats, ensureStream } from '../sources/nats/index.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { createPublisher } from './publisher.js';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  readonly maxBatchEvents: number;
  /** The keys producers present (from the config file: a gateway has no warehouse to keep keys in). */
  readonly apiKeys: readonly StoredKey[];
  readonly nats: NatsConfig;
  readonly gateway: GatewayConfig;
  readonly logLevel?: string;
}

export interface RunningGateway {
  readonly url: string;
  /** True while the gateway can publish (connected to NATS). */
  connected(): boolean;
  close(): Promise<void>;
}

/**
 * `pulse gateway`: stateless HTTP ingest in front of JetStream. Same route, auth, limits and
 * contract check as `pulse start`; the producer's 2xx means JetStream has the events (durable),
 * 503 with Retry-After means it could not publish. Run as many as needed behind a load balancer.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const nc = await connectNats(options.nats.servers, 'pulse-gateway');
  let connected = true;
  void watchStatus(nc, (up) => {
    connected = up;
  });
  await ensureStream(await jetstreamManager(nc), options.nats);
  const deliver = createPublisher(nc, createContractValidator(), {
    subjectPrefix: options.gateway.subjectPrefix,
    publishTimeoutMs: options.gateway.publishTimeoutMs,
    connected: () => connected,
  });
  const source = new HttpSource({
    host: options.host,
    port: options.port,
    bodyLimitBytes: options.bodyLimitBytes,
    maxBatchEvents: options.maxBatchEvents,
    keys: new KeyRing(options.apiKeys),
    logLevel: options.logLevel ?? 'warn',
    extend: (app) => {
      app.get('/healthz', async () => ({ status: 'ok' }));
      app.get('/readyz', async (_request, reply) =>
        reply.code(connected ? 200 : 503).send({
          status: connected ? 'ready' : 'not_ready',
          checks: { nats: { status: connected ? 'ok' : 'disconnected', stream: options.nats.stream } },
        }),
      );
    },
  });
  await source.start(deliver);
  return {
    url: source.url,
    connected: () => connected,
    async close() {
      await source.stop();
      await nc.drain().catch(() => undefined);
    },
  };
}

async function watchStatus(nc: NatsConnection, set: (up: boolean) => void): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect' || status.type === 'close') set(false);
    else if (status.type === 'reconnect') set(true);
  }
}
