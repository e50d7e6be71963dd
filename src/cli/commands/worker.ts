import { startPulse, type RunningPulse } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { servingThreads } from '../../warehouse/index.js';
import { NatsSource } from '../../sources/nats/index.js';
import { parseFlags, portFlag } from '../args.js';
import { untilSignal } from './signals.js';

export const WORKER_USAGE = `pulse worker [--db FILE] [--port N] [--host H] [--config FILE]
  Consumes the NATS JetStream stream (sources.nats) into the warehouse and serves the API
  (KPIs, streams). One worker per warehouse file.`;

export async function runWorker(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    db: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    config: { type: 'string' },
  });
  const config = loadConfig({
    configFile: values.config,
    dbPath: values.db,
    port: portFlag(values.port),
    host: values.host,
  });
  const nats = config.sources.nats;
  // Made before the API starts so /readyz can show it; it connects only in start().
  const running: { pulse?: RunningPulse } = {};
  const source = new NatsSource({
    ...nats,
    name: `pulse-worker-${nats.durable}`,
    onError: (error) =>
      running.pulse?.app.log.warn({ err: error }, 'a NATS batch was not committed; it will be redelivered'),
  });
  const pulse = await startPulse({
    dbPath: config.warehouse.path,
    tokenKey: config.privacy.tokenKey,
    port: config.server.port,
    host: config.server.host,
    timeZone: config.business.timeZone,
    bodyLimitBytes: config.server.bodyLimitBytes,
    maxBatchEvents: config.server.maxBatchEvents,
    refreshDebounceMs: config.refresh.debounceMs,
    memoryLimit: config.warehouse.memoryLimit,
    checkpointThreshold: config.warehouse.checkpointThreshold,
    threads: config.warehouse.threads ?? servingThreads(),
    logLevel: config.logLevel,
    apiKeys: config.apiKeys,
    extraChecks: () => ({ nats: source.health() }),
  });
  // The API serves KPIs from the warehouse whether or not NATS is up; the source waits for it.
  process.stderr.write(
    `Pulse worker API on ${pulse.url}, warehouse ${config.warehouse.path}; connecting to NATS (${config.sources.nats.servers.join(', ')})…\n`,
  );
  running.pulse = pulse;
  await source.start(pulse.deliver);
  process.stderr.write(`Consuming stream ${nats.stream} as durable consumer ${nats.durable}\n`);
  await untilSignal();
  process.stderr.write('Stopping…\n');
  await source.stop();
  await pulse.close();
  return 0;
}
