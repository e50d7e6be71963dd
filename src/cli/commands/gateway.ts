import { loadConfig } from '../../config/index.js';
import { startGateway } from '../../gateway/index.js';
import { parseFlags, portFlag } from '../args.js';
import { untilSignal } from './signals.js';

export const GATEWAY_USAGE = `pulse gateway [--port N] [--host H] [--config FILE]
  Stateless HTTP ingest: checks events and publishes them to the NATS JetStream stream
  (sources.nats); answers 2xx once JetStream has them. Run several behind a load balancer.`;

export async function runGateway(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    config: { type: 'string' },
  });
  const config = loadConfig({
    configFile: values.config,
    port: portFlag(values.port),
    host: values.host,
    withoutTokenKey: true,
  });
  process.stderr.write(`Connecting to NATS (${config.sources.nats.servers.join(', ')})…\n`);
  const gateway = await startGateway({
    host: config.server.host,
    port: config.server.port,
    bodyLimitBytes: config.server.bodyLimitBytes,
    maxBatchEvents: config.server.maxBatchEvents,
    apiKeys: config.apiKeys,
    nats: config.sources.nats,
    gateway: config.gateway,
    logLevel: config.logLevel,
  });
  process.stderr.write(
    `Pulse gateway is running on ${gateway.url}, publishing to stream ${config.sources.nats.stream} as ${config.gateway.subjectPrefix}.<type>\n`,
  );
  await untilSignal();
  process.stderr.write('Stopping…\n');
  await gateway.close();
  return 0;
}
