import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { openPipeline } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { PulseError } from '../../errors.js';
import type { SourceItem } from '../../sources/index.js';
import { parseFlags } from '../args.js';

export const INGEST_USAGE = `pulse ingest FILE.ndjson… [--db FILE] [--config FILE] [--batch N]
  Loads CloudEvents NDJSON files into the warehouse (same contracts and quarantine as HTTP), then refreshes the models.`;

export async function runIngest(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { db: { type: 'string' }, config: { type: 'string' }, batch: { type: 'string', default: '5000' } },
    true,
  );
  if (positionals.length === 0)
    throw new PulseError('PULSE_ERR_USAGE', 'pulse ingest needs at least one NDJSON file', { field: 'FILE' });
  const missing = positionals.filter((file) => !existsSync(file));
  if (missing.length > 0)
    throw new PulseError('PULSE_ERR_USAGE', `no such file: ${missing.join(', ')}`, { field: 'FILE' });
  if (!/^\d+$/.test(values.batch) || Number(values.batch) < 1 || Number(values.batch) > 100_000) {
    throw new PulseError('PULSE_ERR_USAGE', `--batch must be an integer 1–100000, got "${values.batch}"`, {
      field: '--batch',
    });
  }
  const batchSize = Number(values.batch);
  const config = loadConfig({ configFile: values.config, dbPath: values.db });
  const pipeline = await openPipeline({
    dbPath: config.warehouse.path,
    tokenKey: config.privacy.tokenKey,
    timeZone: config.business.timeZone,
  });
  const totals = { accepted: 0, duplicates: 0, quarantined: 0 };
  await pipeline.loop.stop(); // refresh once at the end, not after every batch
  try {
    for (const file of positionals) {
      let batch: SourceItem[] = [];
      let lineNo = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        const receipt = await pipeline.deliver(batch, { sourceKind: 'files' });
        totals.accepted += receipt.accepted;
        totals.duplicates += receipt.duplicates;
        totals.quarantined += receipt.quarantined;
        batch = [];
      };
      for await (const line of createInterface({
        input: createReadStream(file, 'utf8'),
        crlfDelay: Infinity,
      })) {
        lineNo += 1;
        if (line.trim().length === 0) continue;
        try {
          batch.push({ kind: 'value', value: JSON.parse(line) });
        } catch (error) {
          batch.push({
            kind: 'unparseable',
            text: line,
            message: `${file} line ${lineNo} is not valid JSON: ${(error as Error).message}`,
          });
        }
        if (batch.length >= batchSize) await flush();
      }
      await flush();
    }
    pipeline.loop.restart();
    await pipeline.loop.refresh();
  } finally {
    await pipeline.close();
  }
  process.stdout.write(`${JSON.stringify(totals)}\n`);
  return 0;
}
