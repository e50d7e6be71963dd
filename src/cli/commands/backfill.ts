import { openPipeline } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { PulseError } from '../../errors.js';
import { planBackfill, runBackfill as replayDays } from '../../orchestrator/index.js';
import { BACKFILL_MEMORY_LIMIT } from '../../warehouse/index.js';
import { parseFlags } from '../args.js';

export const BACKFILL_USAGE = `pulse backfill [--from YYYY-MM-DD --to YYYY-MM-DD] [--db FILE] [--config FILE]
  Rebuilds every silver and gold model from bronze (the full-recompute reference path); with
  --from/--to, rebuilds up to --from then replays each business day up to --to, with progress.`;

const MAX_DAYS = 3660;

export async function runBackfill(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    db: { type: 'string' },
    config: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
  });
  const range = dayRange(values.from, values.to);
  const config = loadConfig({ configFile: values.config, dbPath: values.db });
  const pipeline = await openPipeline({
    dbPath: config.warehouse.path,
    tokenKey: config.privacy.tokenKey,
    timeZone: config.business.timeZone,
    memoryLimit: config.warehouse.memoryLimit ?? BACKFILL_MEMORY_LIMIT,
    checkpointThreshold: config.warehouse.checkpointThreshold,
    threads: config.warehouse.threads,
    ingestWorkers: 0,
    openLineage: config.lineage,
  });
  try {
    await pipeline.loop.stop();
    const started = performance.now();
    let models = 0;
    let watermark = 0n;
    if (range) {
      const plan = await planBackfill(
        pipeline.warehouse.reader,
        range.from,
        range.to,
        config.business.timeZone,
      );
      const bar = progressBar(process.stderr);
      const results = await replayDays(pipeline.runner, plan, (done, total, label, result) => {
        const rows = result.models.reduce((sum, model) => sum + model.rows, 0);
        bar(done, total, `${label}: ${rows} rows`);
      });
      models = results[0]?.models.length ?? 0;
      watermark = results.at(-1)?.watermarkTo ?? 0n;
    } else {
      const result = await pipeline.runner.run({ full: true, trigger: 'backfill' });
      for (const model of result.models) {
        process.stderr.write(
          `  ${model.model.padEnd(28)} ${String(model.rows).padStart(10)} rows ${model.durationMs.toFixed(0).padStart(7)} ms\n`,
        );
      }
      models = result.models.length;
      watermark = result.watermarkTo;
    }
    const rows = await pipeline.warehouse.reader.runAndReadAll(
      'SELECT count(*)::BIGINT AS n FROM bronze_events',
    );
    process.stdout.write(
      `${JSON.stringify({ bronze_events: Number(rows.getRowObjectsJson()[0]?.n ?? 0), models, watermark: watermark.toString(), seconds: Number(((performance.now() - started) / 1000).toFixed(2)) })}\n`,
    );
    return 0;
  } finally {
    await pipeline.close();
  }
}

function dayRange(
  from: string | undefined,
  to: string | undefined,
): { from: string; to: string } | undefined {
  if (from === undefined && to === undefined) return undefined;
  for (const [flag, value] of [
    ['--from', from],
    ['--to', to],
  ] as const) {
    if (value === undefined) {
      throw new PulseError(
        'PULSE_ERR_USAGE',
        `${flag} is required with ${flag === '--from' ? '--to' : '--from'}`,
        {
          field: flag,
        },
      );
    }
    const date = new Date(`${value}T00:00:00Z`);
    if (
      !/^\d{4}-\d\d-\d\d$/.test(value) ||
      Number.isNaN(date.getTime()) ||
      date.toISOString().slice(0, 10) !== value
    ) {
      throw new PulseError(
        'PULSE_ERR_USAGE',
        `${flag} must be a date YYYY-MM-DD, got "${value.slice(0, 40)}"`,
        {
          field: flag,
        },
      );
    }
  }
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
  if (days <= 0)
    throw new PulseError('PULSE_ERR_USAGE', `--to (${to}) must be after --from (${from})`, { field: '--to' });
  if (days > MAX_DAYS) {
    throw new PulseError('PULSE_ERR_USAGE', `--from..--to spans ${days} days, at most ${MAX_DAYS}`, {
      field: '--to',
    });
  }
  return { from: from as string, to: to as string };
}

/** A bar redrawn in place on a terminal; one plain line per step otherwise (logs, pipes). */
function progressBar(stream: NodeJS.WriteStream): (done: number, total: number, label: string) => void {
  return (done, total, label) => {
    if (!stream.isTTY) {
      stream.write(`backfill ${done}/${total} ${label}\n`);
      return;
    }
    const width = 30;
    const filled = Math.round((done / total) * width);
    stream.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}`.padEnd(100),
    );
    if (done === total) stream.write('\n');
  };
}
