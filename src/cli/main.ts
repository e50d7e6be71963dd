import { PulseError } from '../errors.js';
import { BACKFILL_USAGE, runBackfill } from './commands/backfill.js';
import { GATEWAY_USAGE, runGateway } from './commands/gateway.js';
import { runGenerate } from './commands/generate.js';
import { KEYS_USAGE, runKeys } from './commands/keys.js';
import { INGEST_USAGE, runIngest } from './commands/ingest.js';
import { LOAD_USAGE, runLoad } from './commands/load.js';
import { LINEAGE_USAGE, runLineage } from './commands/lineage.js';
import { RETRY_USAGE, runRetry } from './commands/retry.js';
import { RUN_USAGE, runModels } from './commands/run.js';
import { SCORECARD_USAGE, runScorecard } from './commands/scorecard.js';
import { QUALITY_USAGE, REMEDIATE_USAGE, runQuality, runRemediate } from './commands/quality.js';
import { START_USAGE, runStart } from './commands/start.js';
import { WORKER_USAGE, runWorker } from './commands/worker.js';

const USAGE = `Pulse: real-time KPI intelligence for ecommerce

Usage: pulse <command> [options]

Commands:
  ${START_USAGE.replaceAll('\n', '\n  ')}
  ${GATEWAY_USAGE.replaceAll('\n', '\n  ')}
  ${WORKER_USAGE.replaceAll('\n', '\n  ')}
  pulse generate --days N [--from YYYY-MM-DD] [--rate ORDERS_PER_DAY] [--seed S] [--out FILE | --post URL]
    Writes seeded synthetic traffic as NDJSON, or posts it to a running Pulse.
  ${INGEST_USAGE.replaceAll('\n', '\n  ')}
  ${LOAD_USAGE.replaceAll('\n', '\n  ')}
  ${RUN_USAGE.replaceAll('\n', '\n  ')}
  ${BACKFILL_USAGE.replaceAll('\n', '\n  ')}
  ${KEYS_USAGE.replaceAll('\n', '\n  ')}
  ${SCORECARD_USAGE.replaceAll('\n', '\n  ')}
  ${QUALITY_USAGE.replaceAll('\n', '\n  ')}
  ${REMEDIATE_USAGE.replaceAll('\n', '\n  ')}
  ${LINEAGE_USAGE.replaceAll('\n', '\n  ')}
  ${RETRY_USAGE.replaceAll('\n', '\n  ')}

Configuration: pulse.config.yaml (or --config FILE), overridden by PULSE_TOKEN_KEY, PULSE_DB,
PULSE_PORT, PULSE_HOST, PULSE_TIME_ZONE, PULSE_LOG_LEVEL, PULSE_NATS_SERVERS,
PULSE_QUALITY_ENABLED.`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  start: runStart,
  gateway: runGateway,
  worker: runWorker,
  generate: runGenerate,
  ingest: runIngest,
  load: runLoad,
  run: runModels,
  backfill: runBackfill,
  keys: runKeys,
  scorecard: runScorecard,
  quality: runQuality,
  remediate: runRemediate,
  lineage: runLineage,
  retry: runRetry,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`pulse: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (error) {
    if (
      error instanceof PulseError &&
      (error.code === 'PULSE_ERR_USAGE' || error.code === 'PULSE_ERR_CONFIG')
    ) {
      process.stderr.write(`pulse ${command}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`pulse ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
