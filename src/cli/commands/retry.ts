import { openPipeline } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { PulseError } from '../../errors.js';
import { parseFlags } from '../args.js';

export const RETRY_USAGE = `pulse retry RUN_ID [--db FILE] [--config FILE]
  Runs a failed model run again over the same watermark range (a no-op once it is applied).`;

export async function runRetry(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { db: { type: 'string' }, config: { type: 'string' } },
    true,
  );
  const runId = positionals[0];
  if (positionals.length !== 1 || runId === undefined) {
    throw new PulseError('PULSE_ERR_USAGE', 'give exactly one RUN_ID (see GET /v1/runs?status=failed)', {
      field: 'RUN_ID',
    });
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(runId)) {
    throw new PulseError('PULSE_ERR_USAGE', `RUN_ID "${runId.slice(0, 80)}" is not a run id`, {
      field: 'RUN_ID',
    });
  }
  const config = loadConfig({ configFile: values.config, dbPath: values.db });
  const pipeline = await openPipeline({
    dbPath: config.warehouse.path,
    tokenKey: config.privacy.tokenKey,
    timeZone: config.business.timeZone,
    ingestWorkers: 0,
    openLineage: config.lineage,
  });
  try {
    await pipeline.loop.stop();
    const result = await pipeline.retry(runId);
    const worked = result.models.filter((model) => model.mode !== 'skipped');
    process.stdout.write(
      `${JSON.stringify({
        retried: runId,
        run: result.status === 'success' ? result.runId : null,
        status: result.status === 'success' ? 'success' : 'already_applied',
        watermark_to: result.watermarkTo.toString(),
        models: worked.map((model) => ({ model: model.model, rows: model.rows })),
      })}\n`,
    );
    return 0;
  } finally {
    await pipeline.close();
  }
}
