import { readFileSync } from 'node:fs';
import { RunPublication, type PipelineLog } from './app-publication.js';
import type { FastifyInstance } from 'fastify';
import {
  DEFAULT_ALERTS,
  DEFAULT_SCORECARDS,
  openAlerting,
  type Alerting,
  type AlertsConfig,
  type ScorecardsConfig,
} from './alerts/index.js';
import { DEFAULT_RATE_PER_KEY, DEFAULT_RATE_WINDOW_MS } from './config/index.js';
import { createContractValidator } from './contracts/index.js';
import { KpiEngine, KpiSnapshot, LiveKpis, loadCatalogue } from './kpis/index.js';
import { loadModels, ModelRunner, type RunResult } from './models/index.js';
import { PulseError } from './errors.js';
import {
  OpenLineageEmitter,
  projectLineage,
  type LineageGraph,
  type OpenLineageOptions,
} from './lineage/index.js';
import {
  CadenceJobs,
  FreshnessTracker,
  RefreshLoop,
  RunHistory,
  SlaMonitor,
  type CadenceJob,
} from './orchestrator/index.js';
import {
  ensureQualityTables,
  kpiDependencies,
  loadRules,
  PublishGate,
  QualityAlerts,
  QualityRunner,
  Remediator,
  type QualityPass,
} from './quality/index.js';
import {
  createMetrics,
  createTelemetry,
  HealthRegistry,
  NOOP_SPAN,
  type PulseMetrics,
  type Telemetry,
} from './observability/index.js';
import { DEFAULT_DP, type DpConfig } from './privacy/dp-config.js';
import { createTokeniser } from './privacy/index.js';
import { MartsPublisher, type MartsOptions } from './publish/index.js';
import {
  createJwtVerifier,
  demoStoredKey,
  generateKey,
  KeyRing,
  type JwtConfig,
  type Role,
  type StoredKey,
} from './security/index.js';
import { buildApp } from './serve/index.js';
import { privateBreakdowns } from './serve/private-breakdowns.js';
import {
  FilesSource,
  type Deliver,
  type DeliverBody,
  type DeliveryReceipt,
  type FilesSourceOptions,
} from './sources/index.js';
import {
  BronzeWriter,
  createIngestor,
  openWarehouse,
  PreparePool,
  PrivacyBudgetLedger,
  insertApiKey,
  insertKpiComment,
  listKpiComments,
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
  /** WAL size at which DuckDB checkpoints. */
  readonly checkpointThreshold?: string;
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
  /** Alert rules and channels; scorecard regions and schedule. */
  readonly alerts?: AlertsConfig;
  readonly scorecards?: ScorecardsConfig;
  /** A drop folder to watch (`sources.files`): started once the API listens, stopped first on close. */
  readonly files?: FilesSourceOptions;
  /** More parts to show in `/readyz` (e.g. the worker's NATS source); they do not change readiness. */
  readonly extraChecks?: () => Record<string, unknown>;
  /** Quality rules after each refresh and the publish gate (default on). */
  readonly qualityEnabled?: boolean;
  /** OpenLineage events of every model run: to a file and/or an endpoint (off when neither is set). */
  readonly openLineage?: OpenLineageOptions;
  /** Every commit must be visible within this many ms: a later refresh is an SLA breach. */
  readonly refreshSlaMs?: number;
  /** Waits before each retry of a failed refresh (default 200, 1000, 5000 ms). */
  readonly retryBackoffMs?: readonly number[];
  /** Refresh jobs on the KPIs' cadences, on top of the continuous loop. */
  readonly jobs?: readonly CadenceJob[];
  /** Where the pipeline logs what it does not throw (OpenLineage delivery, SLA bookkeeping). */
  readonly log?: (message: string, error?: unknown) => void;
  /** Bearer JWTs verified against a JWKS, besides API keys. */
  readonly jwt?: JwtConfig | undefined;
  /** Differential privacy of the customer-behaviour breakdowns. */
  readonly dp?: DpConfig | undefined;
  /** Where spans are exported by OTLP/HTTP; tracing is off without it. */
  readonly otlpEndpoint?: string | undefined;
  /** Where the JSON logs go (default stdout). */
  readonly logStream?: NodeJS.WritableStream;
  /** PostgreSQL marts the gold tables and KPI values are published to (none: not published). */
  readonly marts?: Omit<MartsOptions, 'timeZone'>;
}

/** The quality stage as wired: rules runner (absent when disabled), gate, alerts, remediation. */
export interface QualityStage {
  readonly runner: QualityRunner | undefined;
  readonly gate: PublishGate;
  readonly alerts: QualityAlerts;
  readonly remediator: Remediator;
  /** The latest pass, and the error of the latest pass that failed (the refresh goes on). */
  lastPass: QualityPass | undefined;
  lastError: unknown;
}

export type { PipelineLog } from './app-publication.js';

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
  readonly alerting: Alerting;
  /** The PostgreSQL marts publisher, when configured. */
  readonly publisher: MartsPublisher | undefined;
  readonly quality: QualityStage;
  readonly runner: ModelRunner;
  /** The OpenLineage emitter, when emission is configured. */
  readonly openLineage: OpenLineageEmitter | undefined;
  readonly sla: SlaMonitor;
  readonly jobs: CadenceJobs;
  /** Runs a failed model run again over its watermark range (idempotent). */
  retry(runId: string): Promise<RunResult>;
  /** Every part's health: sinks and exporters register here and show in /readyz. */
  readonly health: HealthRegistry;
  readonly telemetry: Telemetry;
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
  readonly quality: QualityStage;
  /** The lineage graph, derived from the SQL on first use. */
  readonly lineage: () => Promise<LineageGraph>;
  readonly runs: RunHistory;
  readonly sla: SlaMonitor;
  readonly jobs: CadenceJobs;
  /** The OpenLineage emitter, when emission is configured. */
  readonly openLineage: OpenLineageEmitter | undefined;
  /** Runs a failed model run again over its watermark range (idempotent). */
  retry(runId: string): Promise<RunResult>;
  readonly health: HealthRegistry;
  readonly telemetry: Telemetry;
  readonly publisher: MartsPublisher | undefined;
  close(): Promise<void>;
}

/** How often the live values are recomputed without new data, so named windows follow the clock. */
const LIVE_MAX_AGE_MS = 5_000;

/** Wires the stages together, left to right: contracts → privacy → bronze → models → KPIs. */
export async function openPipeline(
  options: PulseOptions,
  onRunError?: (error: unknown) => void,
  log?: PipelineLog,
): Promise<Pipeline> {
  const validator = createContractValidator();
  const tokeniser = createTokeniser(options.tokenKey);
  const catalogue = loadCatalogue();
  const models = loadModels();
  const metrics = createMetrics();
  const telemetry = createTelemetry({ otlpEndpoint: options.otlpEndpoint, version: PULSE_VERSION });
  const warehouse = await openWarehouse({
    path: options.dbPath,
    memoryLimit: options.memoryLimit,
    threads: options.threads,
    checkpointThreshold: options.checkpointThreshold,
  });
  const writer = await BronzeWriter.open(warehouse.writer, { maxQueuedEvents: options.maxQueuedEvents });
  const runner = new ModelRunner(warehouse.modeller, models);
  const note =
    options.log ??
    ((message: string, error?: unknown) =>
      process.stderr.write(
        `pulse: ${message}${error ? `: ${error instanceof Error ? error.message : String(error)}` : ''}\n`,
      ));
  const lineage = projectLineage();
  let openLineage: OpenLineageEmitter | undefined;
  if (options.openLineage?.file || options.openLineage?.url) {
    openLineage = new OpenLineageEmitter(options.openLineage, {
      warehousePath: options.dbPath,
      graph: await lineage(),
      producer: `https://github.com/pulse-kpi/pulse/tree/v${PULSE_VERSION}`,
      log: note,
      failed: (transport) => metrics.openLineageFailures.inc({ transport }),
    });
    runner.observer = openLineage;
  }
  const sla = new SlaMonitor(warehouse.writer, (job) => metrics.slaBreaches.inc({ job }), note);
  const knownKpis = new Set(catalogue.kpis.map((kpi) => kpi.id));
  for (const job of options.jobs ?? []) {
    const unknown = job.kpis.filter((id) => !knownKpis.has(id));
    if (unknown.length > 0) {
      throw new PulseError(
        'PULSE_ERR_CONFIG',
        `orchestrator.jobs.${job.name}.kpis: unknown KPI(s) ${unknown.join(', ')}`,
        {
          field: `orchestrator.jobs.${job.name}.kpis`,
        },
      );
    }
  }
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
  await ensureQualityTables(warehouse.modeller);
  const gate = new PublishGate(kpiDependencies(catalogue, models));
  // The rules and their alerts have connections of their own: they run beside the next model run.
  const alerts = new QualityAlerts(await warehouse.connect());
  const quality: QualityStage = {
    runner:
      options.qualityEnabled === false
        ? undefined
        : new QualityRunner(
            await warehouse.connect(),
            loadRules(new Set(models.map((m) => m.name))),
            gate,
            alerts,
            {
              timeZone,
              now: options.now,
              scorecardConnection: await warehouse.connect(),
              scoringConnection: await warehouse.connect(),
              uniqueKeys: new Map(
                models.flatMap((m) =>
                  m.materialized === 'incremental' ? [[m.name, m.uniqueKey] as const] : [],
                ),
              ),
              onError: (error) => {
                quality.lastError = error;
                onRunError?.(error);
              },
            },
          ),
    gate,
    alerts,
    remediator: new Remediator({ connection: await warehouse.connect(), validator, tokeniser, writer }),
    lastPass: undefined,
    lastError: undefined,
  };
  const hold = (id: string) => gate.hold(id);
  const snapshot = new KpiSnapshot(engine, { hold });
  // Live values are recomputed on three connections at once: most of a refresh's latency.
  const liveConnections = [warehouse.reader, await warehouse.connect(), await warehouse.connect()];
  const live = new LiveKpis(liveConnections, catalogue, { timeZone, now: options.now, hold });
  live.followRuns(runner);
  // The publisher reads its own DuckDB snapshot and never holds up ingest or the refresh loop.
  const publisher = options.marts
    ? new MartsPublisher(await warehouse.connect(), models, live, { ...options.marts, timeZone })
    : undefined;
  const freshness = new FreshnessTracker((seconds) => metrics.ingestToVisibleSeconds.observe(seconds));
  const publication = new RunPublication({
    quality,
    live,
    snapshot,
    metrics,
    telemetry,
    freshness,
    publisher,
    log,
    onError: onRunError,
    liveMaxAgeMs: LIVE_MAX_AGE_MS,
  });
  const loop = new RefreshLoop({
    run: async (trigger, causes) => {
      // Timer runs (no commit behind them) are not traced: they would be a root span every 5 s.
      const traces = causes.causes.flatMap((cause) => (cause.trace ? [cause.trace] : []));
      const span =
        traces.length > 0
          ? telemetry.startSpan('pulse.refresh', { parent: traces[0], links: traces.slice(1) })
          : NOOP_SPAN;
      try {
        const started = performance.now();
        const result = await runner.run({ trigger });
        metrics.modelRunSeconds.observe({ status: result.status }, (performance.now() - started) / 1000);
        publication.opened(result, span, causes, started);
        return result;
      } catch (error) {
        telemetry.fail(span, error);
        throw error;
      }
    },
    // Beside the next model run: the refresh of the next commits starts while this one is published.
    publish: (result) => publication.publish(result),
    // refresh() answers once the warn rules of its run are scored too: what it reports is complete.
    settled: async () => quality.runner?.scored(),
    drained: () => writer.drained(),
    debounceMs: options.refreshDebounceMs ?? 20,
    onError: onRunError,
    retryBackoffMs: options.retryBackoffMs ?? [200, 1000, 5000],
    slaMs: options.refreshSlaMs,
    onSlaBreach: (actualMs, result) =>
      sla.check('refresh', options.refreshSlaMs, actualMs, result.runId, `watermark ${result.watermarkTo}`),
  });
  const jobs = new CadenceJobs((trigger) => loop.refresh(trigger), sla, note);
  writer.onCommit((info) => {
    metrics.commitSeconds.observe(info.durationMs / 1000);
    metrics.commitGroupEvents.observe(info.events);
    freshness.committed(info.lastSeq, info.oldestReceivedAt);
    const traces = info.requests.flatMap((request) => (request.trace ? [request.trace] : []));
    const span = telemetry.enabled
      ? telemetry.startSpan('pulse.commit', {
          parent: traces[0],
          links: traces.slice(1),
          startTime: new Date(Date.now() - info.durationMs),
          attributes: {
            'pulse.commit.events': info.events,
            'pulse.commit.requests': info.requests.length,
            'pulse.commit.last_seq': Number(info.lastSeq),
          },
        })
      : NOOP_SPAN;
    span.end();
    loop.request({
      correlationIds: info.requests.map((request) => request.correlationId),
      ...(telemetry.enabled ? { trace: span.spanContext() } : {}),
    });
  });
  const health = new HealthRegistry();
  health.register('warehouse', {
    required: true,
    check: () => ({
      status: writer.lastFailure ? 'failing' : 'ok',
      ...(writer.lastFailure ? { error: writer.lastFailure.message.split('\n')[0] } : {}),
      path: warehouse.path,
      last_ingest_seq: writer.lastSeq.toString(),
      queued_events: writer.queuedEvents,
    }),
  });
  health.register('refresh', {
    required: true,
    check: () =>
      loop.lastError
        ? { status: 'failing', error: (loop.lastError as Error).message }
        : {
            status: 'ok',
            last_run: loop.lastResult?.runId ?? null,
            watermark: loop.lastResult?.watermarkTo.toString() ?? null,
          },
  });
  // Reported, never part of readiness: BI marts lagging must not take the API down.
  if (publisher)
    health.register('marts', {
      required: false,
      check: () => {
        const marts = publisher.health();
        return { ...marts, status: marts.status === 'starting' ? 'unknown' : marts.status };
      },
    });
  health.register('live', {
    required: false,
    check: () => ({
      status: live.computedAt ? 'ok' : 'unknown',
      computed_at: live.computedAt?.toISOString() ?? null,
    }),
  });
  if (telemetry.enabled) health.register('telemetry', { required: false, check: () => telemetry.health() });
  let closed = false;
  return {
    health,
    telemetry,
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
    publisher,
    quality,
    lineage,
    runs: new RunHistory(warehouse.reader, () => sla.flush()),
    sla,
    jobs,
    openLineage,
    retry: (runId) => loop.exclusive(() => runner.retry(runId)),
    async close() {
      if (closed) return;
      closed = true;
      jobs.stop();
      await writer.drained();
      await loop.stop();
      await quality.runner?.scorecard.flush().catch(() => undefined);
      await openLineage?.flush();
      await sla.flush();
      await publisher?.close();
      await pool?.close();
      await warehouse.close();
      await telemetry.shutdown().catch(() => undefined);
    },
  };
}

/** Starts the whole of Pulse in one process: ingest, the refresh loop and the API. */
export async function startPulse(options: PulseOptions): Promise<RunningPulse> {
  // The app's logger exists only once the app does; runs that fail before that are kept in loop.lastError.
  const served: { app?: FastifyInstance } = {};
  const pipeline = await openPipeline(
    options,
    (error) => served.app?.log.error({ err: error }, 'model run failed'),
    {
      info: (fields, message) => served.app?.log.info(fields, message),
      debug: (fields, message) => served.app?.log.debug(fields, message),
    },
  );
  const { warehouse, writer, deliver, runner, loop, snapshot, live, metrics, health, telemetry } = pipeline;
  const jwt = options.jwt ? createJwtVerifier(options.jwt) : undefined;
  if (jwt) health.register('jwks', { required: false, check: () => jwt.status() });
  // Ingest deduplicates against every stored event's key: read them before anything else uses
  // the writer's connection, so the first producer's batch does not wait for them.
  await writer.loadKeys();
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
  const alerting = openAlerting({
    alerts: options.alerts ?? DEFAULT_ALERTS,
    scorecards: options.scorecards ?? DEFAULT_SCORECARDS,
    catalogue: pipeline.engine.catalogue,
    live,
    // Its own connection: contributors and scorecards never queue behind the live recompute.
    engine: new KpiEngine(await warehouse.connect(), pipeline.engine.catalogue, {
      timeZone: pipeline.engine.timeZone,
      now: options.now,
    }),
    connection: await warehouse.connect(),
    timeZone: options.timeZone ?? 'Europe/Paris',
    onTransition: (transition) => metrics.alertTransitions.inc({ transition }),
    onDelivery: (record) => {
      metrics.alertDeliveries.inc({ channel: record.channel, outcome: record.outcome });
      if (record.outcome === 'failed' || record.outcome === 'dropped')
        served.app?.log.warn({ delivery: record }, 'alert delivery failed');
    },
    onError: (error) => served.app?.log.error({ err: error }, 'alerting failed'),
  });
  // The budget ledger has its own connection: never inside an ingest transaction of the writer.
  const ledger = new PrivacyBudgetLedger(await warehouse.connect());
  // A failing rule pass is reported, not fatal: the KPIs stay served (held ones stay held).
  health.register('quality', {
    required: false,
    check: () =>
      pipeline.quality.lastError
        ? { status: 'failing', error: (pipeline.quality.lastError as Error).message }
        : {
            status: pipeline.quality.runner ? 'ok' : 'unknown',
            enabled: pipeline.quality.runner !== undefined,
            held: [...pipeline.quality.gate.holds.keys()],
          },
  });
  // Parts a command adds (the worker's NATS source) are shown, never required: reads go on without them.
  for (const name of Object.keys(options.extraChecks?.() ?? {})) {
    health.register(name, {
      required: false,
      check: () => {
        const detail = (options.extraChecks?.()[name] ?? {}) as Record<string, unknown>;
        // The part's own word (`disconnected`) is kept as `state`; status speaks the registry's terms.
        return { ...detail, state: detail.status, status: detail.status === 'ok' ? 'ok' : 'failing' };
      },
    });
  }
  const app = await buildApp({
    alerting,
    keys,
    comments: {
      add: (comment) => insertKpiComment(warehouse.writer, comment),
      list: (kpiId, limit) => listKpiComments(warehouse.reader, kpiId, limit),
    },
    privateBreakdown: privateBreakdowns({ snapshot, ledger, config: options.dp ?? DEFAULT_DP }),
    deliverBody: pipeline.deliverBody,
    overloaded: () => writer.queuedEvents >= (options.maxQueuedEvents ?? 200_000),
    snapshot,
    live,
    metrics,
    queuedEvents: () => writer.queuedEvents,
    dedupeKeyBytes: () => writer.keyBytes,
    bodyLimitBytes: options.bodyLimitBytes ?? 16 * 1024 * 1024,
    maxBatchEvents: options.maxBatchEvents ?? 20_000,
    rateLimit: {
      max: options.ratePerKey ?? DEFAULT_RATE_PER_KEY,
      windowMs: options.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS,
    },
    logLevel: options.logLevel ?? 'warn',
    version: PULSE_VERSION,
    quality: {
      runner: pipeline.quality.runner,
      gate: pipeline.quality.gate,
      remediator: pipeline.quality.remediator,
      runFull: async () => {
        pipeline.quality.runner?.requestFull();
        await loop.refresh();
        if (pipeline.quality.lastError) throw pipeline.quality.lastError;
        return pipeline.quality.lastPass;
      },
    },
    lineage: pipeline.lineage,
    runs: pipeline.runs,
    health: () => health.report(),
    telemetry,
    jwt,
    logStream: options.logStream,
  });
  served.app = app;
  pipeline.jobs.start(options.jobs ?? []);
  // Named windows move with the clock even when no event arrives.
  const tick = setInterval(() => loop.request(), LIVE_MAX_AGE_MS);
  const address = await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  const files = options.files
    ? new FilesSource({
        ...options.files,
        onFile: (report, movedTo) => {
          app.log.info({ report: { ...report, quarantined_events: undefined }, movedTo }, 'file loaded');
          options.files?.onFile?.(report, movedTo);
        },
        onError: (error) => {
          app.log.error({ err: error }, 'drop folder');
          options.files?.onError?.(error);
        },
      })
    : undefined;
  await files?.start(deliver);
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
    publisher: pipeline.publisher,
    alerting,
    quality: pipeline.quality,
    runner,
    openLineage: pipeline.openLineage,
    sla: pipeline.sla,
    jobs: pipeline.jobs,
    retry: (runId) => pipeline.retry(runId),
    health,
    telemetry,
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
      await files?.stop();
      await app.close();
      await alerting.close();
      await pipeline.close();
    },
  };
}
