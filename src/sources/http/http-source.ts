import Fastify, { type FastifyInstance } from 'fastify';
import { handleError } from '../../serve/errors.js';
import { authPlugin } from '../../serve/auth.js';
import type { KeyRing } from '../../security/index.js';
import type { Deliver, Source } from '../types.js';
import { eventsRoute } from './events-route.js';
import { parseEventsBody } from './parse-body.js';

export interface HttpSourceOptions {
  readonly host: string;
  /** 0 picks a free port (see `url` once started). */
  readonly port: number;
  readonly bodyLimitBytes: number;
  readonly maxBatchEvents: number;
  /** When given, every request needs a key with the ingest role (as on `pulse start`). */
  readonly keys?: KeyRing;
  /** True while the receiving side cannot take more: answered 503 before the body is parsed. */
  readonly overloaded?: () => boolean;
  readonly logLevel?: string;
  /** Adds routes beside `POST /v1/events` (health, metrics) before the server listens. */
  readonly extend?: (app: FastifyInstance) => Promise<void> | void;
}

/**
 * `POST /v1/events` as a standalone {@link Source}: the body is parsed here and the batch handed to
 * `deliver`; the producer gets its 2xx only once `deliver` resolves. `pulse start` serves the same
 * route inside its full API (parsing on worker threads); `pulse gateway` runs this one with a
 * `deliver` that publishes to JetStream.
 */
export class HttpSource implements Source {
  readonly kind = 'http';
  private app: FastifyInstance | undefined;
  private address: string | undefined;

  constructor(private readonly options: HttpSourceOptions) {}

  /** The listening address, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    if (!this.address) throw new Error('the HTTP source is not started');
    return this.address;
  }

  async start(deliver: Deliver): Promise<void> {
    const { options } = this;
    const app = Fastify({
      logger: { level: options.logLevel ?? 'warn' },
      bodyLimit: options.bodyLimitBytes,
      requestTimeout: 30_000,
      connectionTimeout: 60_000,
      keepAliveTimeout: 65_000,
    });
    app.setErrorHandler(handleError);
    if (options.keys) await app.register(authPlugin, { keys: options.keys });
    await app.register(eventsRoute, {
      deliverBody: (mediaType, text, maxEvents, meta) =>
        deliver(parseEventsBody(mediaType, text, maxEvents), { ...meta, sourceKind: this.kind }),
      overloaded: options.overloaded,
      maxBatchEvents: options.maxBatchEvents,
    });
    await options.extend?.(app);
    const address = await app.listen({ host: options.host, port: options.port });
    this.app = app;
    this.address = address.replace('[::1]', 'localhost');
  }

  /** Stops accepting connections and waits for requests in flight to be answered (after their commit). */
  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    await app?.close();
  }
}
