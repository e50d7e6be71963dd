import { openPipeline } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { parseFlags } from '../args.js';

export const BACKFILL_USAGE = `pulse backfill [--db FILE] [--config FILE]
  Rebuilds every silver and gold model from bronze (the full-recompute reference path), then checks the model tests.`;

export async function runBackfill(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { db: { type: 'string' }, config: { type: 'string' } });
  const config = loadConfig({ configFile: values.config, dbPath: values.db });
  const pipeline = await openPipeline({
    dbPath: config.warehouse.path,
    tokenKey: config.privacy.tokenKey,
    timeZone: config.business.timeZone,
    memoryLimit: config.warehouse.memoryLimit,
    threads: config.warehouse.threads,
    ingestWorkers: 0,
  });
  try {
    await pipeline.loop.stop();
    const started = performance.now();
    const result = await pipeline.runner.run({ full: true });
    for (const model of result.models) {
      process.stderr.write(
        `  ${model.model.padEnd(28)} ${String(model.rows).padStart(10)} rows ${model.durationMs.toFixed(0).padStart(7)} ms\n`,
      );
    }
    const rows = await pipeline.warehouse.reader.runAndReadAll(
      'SELECT count(*)::BIGINT AS n FROM bronze_events',
    );
    process.stdout.write(
      `${JSON.stringify({ bronze_events: Number(rows.getRowObjectsJson()[0]?.n ?? 0), models: result.models.length, watermark: result.watermarkTo.toString(), seconds: Number(((performance.now() - started) / 1000).toFixed(2)) })}\n`,
    );
    return 0;
  } finally {
    await pipeline.close();
  }
}
