import { openPipeline } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { runModelTests } from '../../models/index.js';
import { parseFlags } from '../args.js';

export const RUN_USAGE = `pulse run [MODEL…] [--full] [--test] [--db FILE] [--config FILE]
  Runs the SQL models (incrementally; --full rebuilds them) and, with --test, the model tests.`;

export async function runModels(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      full: { type: 'boolean', default: false },
      test: { type: 'boolean', default: false },
      db: { type: 'string' },
      config: { type: 'string' },
    },
    true,
  );
  const config = loadConfig({ configFile: values.config, dbPath: values.db });
  const pipeline = await openPipeline({
    dbPath: config.warehouse.path,
    tokenKey: config.privacy.tokenKey,
    timeZone: config.business.timeZone,
    openLineage: config.lineage,
  });
  try {
    const result = await pipeline.runner.run({
      full: values.full,
      trigger: 'manual',
      select: positionals.length > 0 ? positionals : undefined,
    });
    for (const model of result.models) {
      process.stdout.write(
        `${model.model.padEnd(28)} ${model.mode.padEnd(12)} ${String(model.rows).padStart(10)} rows ${model.durationMs.toFixed(0).padStart(7)} ms\n`,
      );
    }
    if (!values.test) return 0;
    const tests = await runModelTests(pipeline.warehouse.reader);
    let failed = 0;
    for (const test of tests) {
      if (test.status === 'fail') failed += 1;
      process.stdout.write(
        `${test.status.toUpperCase().padEnd(5)} ${test.model}.${test.name}${test.failures ? ` (${test.failures} rows)` : ''}\n`,
      );
    }
    return failed > 0 ? 1 : 0;
  } finally {
    await pipeline.close();
  }
}
