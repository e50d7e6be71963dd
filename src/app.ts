import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_RATE_PER_KEY, DEFAULT_RATE_WINDOW_MS } from './config/index.js';
import { createContractValidator } from './contracts/index.js';
import { KpiEngine, KpiSnapshot, LiveKpis, loadCatalogue } from './kpis/index.js';
import { loadModels, ModelRunner, type RunResult } from './models/index.js';
import { createMetrics, type PulseMetrics } from './observability/index.js';
import { FreshnessTracker, RefreshLoop } from './orchestrator/index.js';
import { createTokeniser } from './privacy/index.js';
import { demoStoredKey, generateKey, KeyRing, type Role, type StoredKey } from './security/index.js';
import { buildApp } from './serve/index.js';
import type { Deliver, DeliverBody, DeliveryReceipt } from './sources/index.js';
import {
  BronzeWriter,
  createIngestor,
  openWarehouse,
  PreparePool,
  insertApiKey,
  loadApiKeys,
  revokeApiKey,
  type Warehouse,
} from './warehouse/index.js';

export interface PulseOptions {
  readonly dbPath: string;
  readonly tokenKey: string;
  readonly port?: number;
  readonly host?: string;
  readonly timeZone?: string;
  readonly bodyLimitBytes?: number;
  readonly maxBatchEvents?: number;
  readonly refreshDebounceMs?: number;
  readonly memoryLimit?: string;
  readonly threads?: number;
  readonly logLevel?: string;
  /** Worker threads that parse, validate and tokenise HTTP bodies (0: in the main thread). */
  readonly ingestWorkers?: number;
  /** API keys from the config file, besides those stored in the warehouse. */
  readonly apiKeys?: readonly StoredKey[];
  /** Demo mode: the printed demo key (all roles) is accepted too. */
  readonly demo?: boolean;
  /** Requests one API key (anonymous: one IP) may make per rate window (default 6000). */
  readonly ratePerKey?: number;
  /** The rate window, ms (default 60 s). */
  readonly rateWindowMs?: number;
  /** Events that may wait for a commit before ingest answers 503 (backpressure). */
  readonly maxQueuedEvents?: number;
  /** The clock the KPI windows use (tests pin it). */
  readonly now?: () => Date;
}

/** A running Pulse: one process, one DuckDB file, ingest + refresh loop + API. */
export interface RunningPulse {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly warehouse: Warehouse;
  /** Hands a batch to the pipeline as a source does (resolves after commit). */
  readonly deliver: Deliver;
  /** The refresh loop (a bulk load stops it and refreshes once at the end). */
  readonly loop: RefreshLoop;
  /** Every KPI in every named window, in memory. */
  readonly live: LiveKpis;
  readonly engine: KpiEngine;
  readonly metrics: PulseMetrics;
  /** Runs the models now; resolves when every event committed before the call is reflected. */
  refresh(): Promise<RunResult | undefined>;
  /** Rebuilds every model from scratch: the reference path. */
  rebuild(): Promise<RunResult>;
  close(): Promise<void>;
}

export const PULSE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The pipeline without the HTTP server: what `pulse ingest` and `pulse run` use. */
export interface Pipeline {
  readonly warehouse: Warehouse;
  readonly writer: BronzeWriter;
  readonly deliver: Deliver;
  readonly deliverBody: DeliverBody;
  readonly runner: ModelRunner;
  readonly loop: RefreshLoop;
  readonly engine: KpiEngine;
  readonly snapshot: KpiSnapshot;
  readonly live: LiveKpis;
  readonly metrics: PulseMetrics;
  close(): Promise<void>;
}

/** How often the live values are recomputed without new data, so named windows follow the clock. */
const LIVE_MAX_AGE_MS = 5_000;

/** Wires the stages together, left to right: contracts → privacy → bronze → models → KPIs. */
export async function openPipeline(
  options: PulseOptions,
  onRunError?: (error: unknown) => void,
): Promise<Pipeline> {
  const validator = createContractValidator();
  const tokeniser = createTokeniser(options.tokenKey);
  const catalogue = loadCatalogue();
  const models = loadModels();
  const metrics = createMetrics();
  const warehouse = await openWarehouse({
    path: options.dbPath,
    memoryLimit: options.memoryLimit,
    threads: options.threads,
  });
  const writer = await BronzeWriter.open(warehouse.writer, { maxQueuedEvents: options.maxQueuedEvents });
  const runner = new ModelRunner(warehouse.modeller, models);
  const workers = options.ingestWorkers ?? 1;
  const pool = workers > 0 ? new PreparePool({ tokenKey: options.tokenKey, workers }) : undefined;
  const ingestor = createIngestor({ validator, tokeniser, writer, pool });
  const count = (source: string, receipt: DeliveryReceipt): DeliveryReceipt => {
    metrics.eventsIngested.inc({ source, outcome: 'accepted' }, receipt.accepted);
    metrics.eventsIngested.inc({ source, outcome: 'duplicate' }, receipt.duplicates);
    metrics.eventsIngested.inc({ source, outcome: 'quarantined' }, receipt.quarantined);
    return receipt;
  };
  const deliver: Deliver = async (items, meta) => count(meta.sourceKind, await ingestor.deliver(items, meta));
  const deliverBody: DeliverBody = async (mediaType, text, maxEvents, meta) =>
    count(meta.sourceKind, await ingestor.deliverBody(mediaType, text, maxEvents, meta));
  const timeZone = options.timeZone ?? 'Europe/Paris';
  const engine = new KpiEngine(warehouse.reader, catalogue, { timeZone, now: options.now });
  const snapshot = new KpiSnapshot(engine);
  // Live values are recomputed on three connections at once: most of a refresh's latency.
  const liveConnections = [warehouse.reader, await warehouse.connect(), await warehouse.connect()];
  const live = new LiveKpis(liveConnections, catalogue, { timeZone, now: options.now });
  const freshness = new FreshnessTracker((seconds) => metrics.ingestToVisibleSeconds.observe(seconds));
  const loop = new RefreshLoop({
    run: async () => {
      const started = performance.now();
      const result = await runner.run();
      metrics.modelRunSeconds.observe({ status: result.status }, (performance.now() - started) / 1000);
      const stale = !live.computedAt || Date.now() - live.computedAt.getTime() >= LIVE_MAX_AGE_MS;
      if (result.status === 'success' || stale) {
        snapshot.invalidate();
        const liveStarted = performance.now();
        const written = new Set(
          result.models.filter((m) => m.rows > 0 || m.mode === 'full').map((m) => m.model),
        );
        await live.recompute(stale ? undefined : written, LIVE_MAX_AGE_MS);
        metrics.liveRecomputeSeconds.observe((performance.now() - liveStarted) / 1000);
      }
      freshness.visible(result.watermarkTo);
      return result;
    },
    drained: () => writer.drained(),
    debounceMs: options.refreshDebounceMs ?? 20,
    onError: onRunError,
  });
  writer.onCommit((info) => {
    metrics.commitSeconds.observe(info.durationMs / 1000);
    metrics.commitGroupEvents.observe(info.events);
    freshness.committed(info.lastSeq, info.oldestReceivedAt);
    loop.request();
  });
  let closed = false;
  return {
    warehouse,
    writer,
    deliver,
    deliverBody,
    runner,
    loop,
    engine,
    snapshot,
    live,
    metrics,
    async close() {
      if (closed) return;
      closed = true;
      await writer.drained();
      await loop.stop();
      await pool?.close();
      await warehouse.close();
    },
  };
}

/** Starts the whole of Pulse in one process: ingest, the refresh loop and the API. */
export async function startPulse(options: PulseOptions): Promise<RunningPulse> {
  // The app's logger exists only once the app does; runs that fail before that are kept in loop.lastError.
  const served: { app?: FastifyInstance } = {};
  const pipeline = await openPipeline(options, (error) =>
    served.app?.log.error({ err: error }, 'model run failed'),
  );
  const { warehouse, writer, deliver, runner, loop, snapshot, live, metrics } = pipeline;
  // Bring the models up to date with whatever the file already holds before serving.
  await loop.refresh();
  const configured = [...(options.apiKeys ?? []), ...(options.demo ? [demoStoredKey()] : [])];
  const ring = new KeyRing([...configured, ...(await loadApiKeys(warehouse.reader))]);
  const keys = {
    ring,
    async create(name: string, roles: readonly Role[], expiresAt: Date | null) {
      const { key, stored } = generateKey(name, roles, expiresAt);
      await insertApiKey(warehouse.writer, stored);
      ring.set(stored);
      return key;
    },
    async revoke(id: string) {
      const revoked = await revokeApiKey(warehouse.writer, id);
      if (revoked) ring.replace([...configured, ...(await loadApiKeys(warehouse.reader))]);
      return revoked;
    },
  };
  const app = await buildApp({
    keys,
    deliverBody: pipeline.deliverBody,
    overloaded: () => writer.queuedEvents >= (options.maxQueuedEvents ?? 200_000),
    snapshot,
    live,
    metrics,
    queuedEvents: () => writer.queuedEvents,
    bodyLimitBytes: options.bodyLimitBytes ?? 16 * 1024 * 1024,
    maxBatchEvents: options.maxBatchEvents ?? 20_000,
    rateLimit: {
      max: options.ratePerKey ?? DEFAULT_RATE_PER_KEY,
      windowMs: options.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS,
    },
    logLevel: options.logLevel ?? 'warn',
    version: PULSE_VERSION,
    health: async () => ({
      ready: loop.lastError === undefined && writer.lastFailure === undefined,
      checks: {
        warehouse: {
          status: writer.lastFailure ? 'failing' : 'ok',
          ...(writer.lastFailure ? { error: writer.lastFailure.message.split('\n')[0] } : {}),
          path: warehouse.path,
          last_ingest_seq: writer.lastSeq.toString(),
          queued_events: writer.queuedEvents,
        },
        refresh: loop.lastError
          ? { status: 'failing', error: (loop.lastError as Error).message }
          : {
              status: 'ok',
              last_run: loop.lastResult?.runId ?? null,
              watermark: loop.lastResult?.watermarkTo.toString() ?? null,
            },
        live: { computed_at: live.computedAt?.toISOString() ?? null },
      },
    }),
  });
  served.app = app;
  // Named windows move with the clock even when no event arrives.
  const tick = setInterval(() => loop.request(), LIVE_MAX_AGE_MS);
  const address = await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  let closed = false;
  return {
    url: address.replace('[::1]', 'localhost'),
    app,
    warehouse,
    deliver,
    loop,
    live,
    engine: pipeline.engine,
    metrics,
    refresh: () => loop.refresh(),
    async rebuild() {
      await writer.drained();
      await loop.stop();
      try {
        const result = await runner.run({ full: true });
        snapshot.invalidate();
        await live.recompute();
        return result;
      } finally {
        loop.restart();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(tick);
      await app.close();
      await pipeline.close();
    },
  };
}
