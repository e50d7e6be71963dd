import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createContractValidator } from './contracts/index.js';
import { KpiEngine, KpiSnapshot, loadCatalogue } from './kpis/index.js';
import { loadModels, ModelRunner, type RunResult } from './models/index.js';
import { RefreshLoop } from './orchestrator/index.js';
import { createTokeniser } from './privacy/index.js';
import { buildApp } from './serve/index.js';
import type { Deliver } from './sources/index.js';
import { BronzeWriter, createIngestor, openWarehouse, type Warehouse } from './warehouse/index.js';

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
  readonly runner: ModelRunner;
  readonly loop: RefreshLoop;
  readonly engine: KpiEngine;
  readonly snapshot: KpiSnapshot;
  close(): Promise<void>;
}

/** Wires the stages together, left to right: contracts → privacy → bronze → models → KPIs. */
export async function openPipeline(
  options: PulseOptions,
  onRunError?: (error: unknown) => void,
): Promise<Pipeline> {
  const validator = createContractValidator();
  const tokeniser = createTokeniser(options.tokenKey);
  const catalogue = loadCatalogue();
  const models = loadModels();
  const warehouse = await openWarehouse({
    path: options.dbPath,
    memoryLimit: options.memoryLimit,
    threads: options.threads,
  });
  const writer = await BronzeWriter.open(warehouse.writer);
  const runner = new ModelRunner(warehouse.modeller, models);
  const deliver = createIngestor({ validator, tokeniser, writer });
  const engine = new KpiEngine(warehouse.reader, catalogue, {
    timeZone: options.timeZone ?? 'Europe/Paris',
    now: options.now,
  });
  const snapshot = new KpiSnapshot(engine);
  const loop = new RefreshLoop({
    run: () => runner.run(),
    drained: () => writer.drained(),
    debounceMs: options.refreshDebounceMs ?? 50,
    onRun: (result) => {
      if (result.status === 'success') snapshot.invalidate();
    },
    onError: onRunError,
  });
  writer.onCommit(() => loop.request());
  let closed = false;
  return {
    warehouse,
    writer,
    deliver,
    runner,
    loop,
    engine,
    snapshot,
    async close() {
      if (closed) return;
      closed = true;
      await writer.drained();
      await loop.stop();
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
  const { warehouse, writer, deliver, runner, loop, snapshot } = pipeline;
  // Bring the models up to date with whatever the file already holds before serving.
  await loop.refresh();
  const app = await buildApp({
    deliver,
    snapshot,
    bodyLimitBytes: options.bodyLimitBytes ?? 16 * 1024 * 1024,
    maxBatchEvents: options.maxBatchEvents ?? 20_000,
    logLevel: options.logLevel ?? 'warn',
    version: PULSE_VERSION,
    health: async () => ({
      ready: loop.lastError === undefined,
      checks: {
        warehouse: { path: warehouse.path, last_ingest_seq: writer.lastSeq.toString() },
        refresh: loop.lastError
          ? { status: 'failing', error: (loop.lastError as Error).message }
          : {
              status: 'ok',
              last_run: loop.lastResult?.runId ?? null,
              watermark: loop.lastResult?.watermarkTo.toString() ?? null,
            },
      },
    }),
  });
  const address = await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  served.app = app;
  let closed = false;
  return {
    url: address.replace('[::1]', 'localhost'),
    app,
    warehouse,
    deliver,
    loop,
    refresh: () => loop.refresh(),
    async rebuild() {
      await writer.drained();
      await loop.stop();
      try {
        const result = await runner.run({ full: true });
        snapshot.invalidate();
        return result;
      } finally {
        loop.restart();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await pipeline.close();
    },
  };
}
