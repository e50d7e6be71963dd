import { startPulse, type RunningPulse } from '../../app.js';
import { loadConfig, type PulseConfig } from '../../config/index.js';
import { servingThreads } from '../../warehouse/index.js';
import { generateEvents, startLiveTraffic } from '../../generator/index.js';
import type { CloudEvent } from '../../contracts/index.js';
import { DEMO_API_KEY } from '../../security/index.js';
import { parseFlags, portFlag } from '../args.js';
import { lowerBackgroundThreads } from '../../serve/thread-priority.js';

export const START_USAGE = `pulse start [--demo] [--db FILE] [--port N] [--host H] [--config FILE]
  Runs ingest, the refresh loop and the API on one DuckDB file.
  --demo   use the demo token key, backfill history on an empty file and stream live traffic`;

const HISTORY_BATCH = 5_000;

/** The flags and the configuration of `pulse start`; throws PULSE_ERR_USAGE / PULSE_ERR_CONFIG naming the field. */
export function startConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): PulseConfig {
  const { values } = parseFlags(argv, {
    demo: { type: 'boolean', default: false },
    db: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    config: { type: 'string' },
  });
  return loadConfig(
    {
      configFile: values.config,
      demo: values.demo,
      dbPath: values.db,
      port: portFlag(values.port),
      host: values.host,
    },
    env,
  );
}

export async function runStart(argv: string[]): Promise<number> {
  const config = startConfig(argv);
  const pulse = await startPulse({
    dbPath: config.warehouse.path,
    tokenKey: config.privacy.tokenKey,
    port: config.server.port,
    host: config.server.host,
    timeZone: config.business.timeZone,
    bodyLimitBytes: config.server.bodyLimitBytes,
    maxBatchEvents: config.server.maxBatchEvents,
    ratePerKey: config.limits.ratePerKey,
    rateWindowMs: config.limits.rateWindowMs,
    refreshDebounceMs: config.refresh.debounceMs,
    qualityEnabled: config.quality.enabled,
    memoryLimit: config.warehouse.memoryLimit,
    checkpointThreshold: config.warehouse.checkpointThreshold,
    threads: config.warehouse.threads ?? servingThreads(),
    logLevel: config.logLevel,
    apiKeys: config.apiKeys,
    demo: config.demo.enabled,
    alerts: config.alerts,
    scorecards: config.scorecards,
    ...(config.sources.files
      ? {
          files: {
            ...config.sources.files,
            onFile: (report, movedTo) =>
              process.stderr.write(
                `${report.file}: ${report.status}, ${report.events} events (${report.accepted} accepted, ${report.duplicates} duplicates, ${report.quarantined} quarantined)${report.error ? `: ${report.error.message}` : ''} → ${movedTo}\n`,
              ),
            onError: (error) => process.stderr.write(`drop folder: ${(error as Error).message}\n`),
          },
        }
      : {}),
    openLineage: config.lineage,
    refreshSlaMs: config.orchestrator.refreshSlaMs,
    retryBackoffMs: config.orchestrator.retryBackoffMs,
    jobs: config.orchestrator.jobs,
    jwt: config.jwt,
    dp: config.dp,
    otlpEndpoint: config.telemetry.otlpEndpoint,
    ...(config.publish.postgres ? { marts: config.publish.postgres } : {}),
  });
  // After the start, so that DuckDB's and the pools' threads exist; the sweep catches later ones.
  const background =
    config.server.backgroundNice > 0 ? lowerBackgroundThreads(config.server.backgroundNice) : undefined;
  const url = pulse.url.replace('127.0.0.1', 'localhost');
  process.stderr.write(
    `Pulse is running on ${url} (API docs: ${url}/docs, KPIs: ${url}/v1/kpis), warehouse ${config.warehouse.path}\n`,
  );
  if (config.sources.files) process.stderr.write(`Watching ${config.sources.files.dir} for files\n`);
  let stopLive: (() => Promise<void>) | undefined;
  if (config.demo.enabled) {
    process.stderr.write(
      'Demo mode: the built-in demo token key is in use. Never use --demo with real data.\n',
    );
    process.stderr.write(
      `Demo API key (every role): ${DEMO_API_KEY}\n  curl -H 'Authorization: Bearer ${DEMO_API_KEY}' ${url}/v1/kpis\n`,
    );
    await backfillHistory(pulse, config);
    const live = startLiveTraffic({
      seed: config.demo.seed + 1,
      ordersPerDay: config.demo.ordersPerDay,
      onBatch: async (events: CloudEvent[]) => {
        if (events.length > 0)
          await pulse.deliver(
            events.map((value) => ({ kind: 'value', value })),
            { sourceKind: 'demo' },
          );
      },
    });
    stopLive = () => live.stop();
    process.stderr.write(
      `Demo traffic is live (about ${config.demo.ordersPerDay.toLocaleString('en')} orders a day). Press Ctrl+C to stop.\n`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stderr.write('Stopping…\n');
  background?.stop();
  await stopLive?.();
  await pulse.close();
  return 0;
}

/** On an empty warehouse, loads N days of generated history straight into the pipeline. */
async function backfillHistory(pulse: RunningPulse, config: PulseConfig): Promise<void> {
  const existing = await pulse.warehouse.reader.runAndReadAll(
    'SELECT count(*)::INTEGER AS n FROM bronze_events',
  );
  if (Number(existing.getRowObjectsJson()[0]?.n ?? 0) > 0 || config.demo.historyDays === 0) return;
  const to = new Date();
  const from = new Date(to.getTime() - config.demo.historyDays * 86_400_000);
  const ordersPerDay = Math.max(1, Math.round(config.demo.ordersPerDay * config.demo.historyScale));
  process.stderr.write(
    `Backfilling ${config.demo.historyDays} days of history at ${ordersPerDay.toLocaleString('en')} orders a day…\n`,
  );
  const started = performance.now();
  // One model run at the end beats hundreds of small ones competing with the load for the two cores.
  await pulse.loop.stop();
  let batch: { kind: 'value'; value: unknown }[] = [];
  let total = 0;
  let lastReport = started;
  for (const event of generateEvents(from, to, { seed: config.demo.seed, ordersPerDay })) {
    batch.push({ kind: 'value', value: event });
    if (batch.length >= HISTORY_BATCH) {
      await pulse.deliver(batch, { sourceKind: 'demo' });
      total += batch.length;
      batch = [];
      if (performance.now() - lastReport > 1_000) {
        lastReport = performance.now();
        process.stderr.write(
          `  ${total.toLocaleString('en')} events (${Math.round(total / ((lastReport - started) / 1000)).toLocaleString('en')}/s)\r`,
        );
      }
    }
  }
  if (batch.length > 0) await pulse.deliver(batch, { sourceKind: 'demo' });
  total += batch.length;
  pulse.loop.restart();
  await pulse.refresh();
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`Backfilled ${total.toLocaleString('en')} events in ${seconds.toFixed(1)} s.\n`);
}
