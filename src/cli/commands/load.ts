import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openPipeline } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { PulseError } from '../../errors.js';
import {
  findMapping,
  loadFile,
  mappingFor,
  MappingReader,
  progressPrinter,
  settleFile,
  type FileReport,
  type Mapping,
} from '../../sources/index.js';
import { parseFlags } from '../args.js';

export const LOAD_USAGE = `pulse load FILE|DIR [--mapping NAME] [--db FILE] [--config FILE] [--batch N]
  Loads export files (CSV, JSONL, Parquet) through a mapping (online_retail, shopify_orders; JSONL
  without one is CloudEvents), once. Each file then moves to done/ or failed/ beside it, with a
  JSON report; the models are refreshed at the end. Exit code 1 when a file failed.`;

/** Hidden and partial files are never loaded. */
const SKIPPED = /^\.|\.(part|partial|tmp|crdownload|filepart)$/i;

export async function runLoad(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      mapping: { type: 'string' },
      db: { type: 'string' },
      config: { type: 'string' },
      batch: { type: 'string', default: '5000' },
    },
    true,
  );
  if (positionals.length !== 1)
    throw new PulseError('PULSE_ERR_USAGE', 'pulse load needs one FILE or DIR', { field: 'FILE' });
  const target = positionals[0] as string;
  if (!existsSync(target))
    throw new PulseError('PULSE_ERR_USAGE', `no such file or folder: ${target}`, { field: 'FILE' });
  if (!/^\d+$/.test(values.batch) || Number(values.batch) < 1 || Number(values.batch) > 100_000) {
    throw new PulseError('PULSE_ERR_USAGE', `--batch must be an integer 1–100000, got "${values.batch}"`, {
      field: '--batch',
    });
  }
  const forced = values.mapping === undefined ? undefined : findMapping(values.mapping, '--mapping');
  const config = loadConfig({ configFile: values.config, dbPath: values.db });
  const rules = config.sources.files?.mappings ?? [];
  const files = statSync(target).isDirectory()
    ? readdirSync(target, { withFileTypes: true })
        .filter((entry) => entry.isFile() && !SKIPPED.test(entry.name))
        .map((entry) => join(target, entry.name))
        .sort()
    : [target];
  const pipeline = await openPipeline({
    dbPath: config.warehouse.path,
    tokenKey: config.privacy.tokenKey,
    timeZone: config.business.timeZone,
    memoryLimit: config.warehouse.memoryLimit,
    checkpointThreshold: config.warehouse.checkpointThreshold,
    threads: config.warehouse.threads,
  });
  const reader = await MappingReader.open({ maxLineBytes: config.sources.files?.maxLineBytes });
  const progress = progressPrinter(process.stderr);
  const reports: FileReport[] = [];
  await pipeline.loop.stop(); // one model run at the end, not one per batch
  try {
    for (const file of files) {
      let mapping: Mapping | null;
      try {
        mapping = forced ?? mappingFor(file, rules) ?? null;
      } catch {
        mapping = null;
      }
      const report = await loadFile(file, {
        reader,
        deliver: pipeline.deliver,
        mapping,
        batchEvents: Number(values.batch),
        maxLineBytes: config.sources.files?.maxLineBytes,
        onProgress: progress.update,
      });
      progress.end();
      const movedTo = settleFile(file, report);
      reports.push(report);
      process.stderr.write(`${summary(report)} → ${movedTo}\n`);
    }
    pipeline.loop.restart();
    await pipeline.loop.refresh();
  } finally {
    await reader.close();
    await pipeline.close();
  }
  const totals = {
    files: reports.length,
    failed: reports.filter((r) => r.status === 'failed').length,
    rows_read: sum(reports, 'rows_read'),
    events: sum(reports, 'events'),
    accepted: sum(reports, 'accepted'),
    duplicates: sum(reports, 'duplicates'),
    quarantined: sum(reports, 'quarantined'),
  };
  process.stdout.write(`${JSON.stringify(totals)}\n`);
  return totals.failed > 0 ? 1 : 0;
}

function sum(reports: FileReport[], key: 'rows_read' | 'events' | 'accepted' | 'duplicates' | 'quarantined') {
  return reports.reduce((total, report) => total + report[key], 0);
}

function summary(report: FileReport): string {
  const head = `${report.file}: ${report.status}, ${report.rows_read} rows, ${report.events} events (${report.accepted} accepted, ${report.duplicates} duplicates, ${report.quarantined} quarantined) in ${report.duration_ms} ms`;
  return report.error ? `${head}: ${report.error.code} ${report.error.message}` : head;
}
