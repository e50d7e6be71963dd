/**
 * `npm run chaos`: the crash-safety harness. Prints the summary table and exits 1 on any lost or
 * duplicated event or KPI mismatch (2 on a bad command line).
 *
 *   node dist/chaos/main.js [--rounds N] [--producers P] [--batch B] [--max-delay-ms MS] [--seed S] [--keep]
 */
import { parseArgs } from 'node:util';
import { failed, renderReport, runChaos } from './harness.js';

function integer(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
    throw new Error(`--${flag} must be an integer ${min}–${max}, got "${value}"`);
  return Number(value);
}

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        rounds: { type: 'string', default: '100' },
        producers: { type: 'string', default: '4' },
        batch: { type: 'string', default: '250' },
        'max-delay-ms': { type: 'string', default: '1500' },
        seed: { type: 'string', default: '1' },
        keep: { type: 'boolean', default: false },
      },
    });
    options = {
      rounds: integer('rounds', values.rounds, 1, 100_000),
      producers: integer('producers', values.producers, 1, 64),
      batchSize: integer('batch', values.batch, 1, 10_000),
      maxDelayMs: integer('max-delay-ms', values['max-delay-ms'], 0, 600_000),
      seed: integer('seed', values.seed, 0, 2 ** 31),
      keep: values.keep,
    };
  } catch (error) {
    process.stderr.write(`chaos: ${(error as Error).message}\n`);
    return 2;
  }
  const report = await runChaos({ ...options, log: (line) => void process.stderr.write(`${line}\n`) });
  process.stdout.write(`${renderReport(report)}\n`);
  if (report.lostSample.length > 0) process.stdout.write(`lost (sample): ${report.lostSample.join(', ')}\n`);
  for (const line of report.mismatchSample) process.stdout.write(`mismatch: ${line.slice(0, 2000)}\n`);
  for (const line of report.oddAnswers) process.stdout.write(`unexpected answer: ${line}\n`);
  if (options.keep) process.stdout.write(`kept: ${report.dir}\n`);
  const bad = failed(report);
  process.stdout.write(
    bad
      ? 'chaos: FAILED\n'
      : 'chaos: every acknowledged event stored exactly once, KPIs equal a full recompute\n',
  );
  return bad ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
