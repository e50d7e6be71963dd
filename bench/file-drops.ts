/**
 * File-drop throughput: `pulse load` of the whole UCI Online Retail export (one CSV per trading
 * day) through the online_retail mapping into a fresh warehouse, models refreshed at the end, in
 * rows of CSV per second of wall time; beside it, in the same run, DuckDB's `read_csv` of the same
 * files alone into an in-memory table (no mapping, contracts, tokenising, commit or models).
 * Skips with a note when the dataset is absent (PULSE_BENCH_ONLINE_RETAIL overrides its folder).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runPulseCli } from './pulse-cli.js';
import type { BenchmarkResult } from './report.js';
import { formatMiB, formatMs, formatNumber, formatPercent, formatRate } from './stats.js';

export const ONLINE_RETAIL_DIR =
  process.env.PULSE_BENCH_ONLINE_RETAIL ?? '/work/shared/datasets/online-retail/by-day';

interface FileDropRun {
  readonly rows: number;
  readonly events: number;
  readonly loadMs: number;
  readonly rowsPerSecond: number;
  readonly baselineMs: number;
  readonly baselineRowsPerSecond: number;
  readonly peakRssBytes: number;
  readonly othersPercent: number;
}

async function readCsvAlone(files: readonly string[]): Promise<{ rows: number; ms: number }> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const db = await instance.connect();
  try {
    const list = files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ');
    const started = performance.now();
    await db.run(
      `CREATE TABLE rows_ AS SELECT * FROM read_csv([${list}], all_varchar = true, header = true, ` +
        `delim = ',', quote = '"', escape = '"')`,
    );
    const ms = performance.now() - started;
    const count = await db.runAndReadAll('SELECT count(*)::INTEGER AS n FROM rows_');
    return { rows: Number(count.getRowObjectsJson()[0]?.n), ms };
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

export async function runFileDropsBenchmark(options: {
  runs: number;
  log: (line: string) => void;
}): Promise<BenchmarkResult> {
  const title = 'File drops: the Online Retail export through `pulse load`';
  const sources = existsSync(ONLINE_RETAIL_DIR)
    ? readdirSync(ONLINE_RETAIL_DIR)
        .filter((name) => name.endsWith('.csv'))
        .sort()
        .map((name) => join(ONLINE_RETAIL_DIR, name))
    : [];
  if (sources.length === 0) {
    const note = `skipped: no Online Retail CSV files in ${ONLINE_RETAIL_DIR} (set PULSE_BENCH_ONLINE_RETAIL)`;
    options.log(`file-drops: ${note}`);
    return { name: 'file-drops', title, method: note, figures: [], notes: [note], runs: [], discarded: [] };
  }
  const runs: FileDropRun[] = [];
  for (let i = 1; i <= options.runs; i += 1) {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-files-'));
    try {
      const drop = join(dir, 'drop');
      mkdirSync(drop);
      for (const file of sources) copyFileSync(file, join(drop, file.slice(file.lastIndexOf('/') + 1)));
      const load = await runPulseCli(
        ['load', drop, '--mapping', 'online_retail', '--db', join(dir, 'pulse.duckdb')],
        dir,
      );
      const totals = JSON.parse(load.stdout.trim().split('\n').pop() ?? '{}') as {
        rows_read: number;
        events: number;
      };
      const baseline = await readCsvAlone(sources);
      if (baseline.rows !== totals.rows_read) {
        throw new Error(
          `pulse load read ${totals.rows_read} rows, read_csv ${baseline.rows}: not the same files`,
        );
      }
      const run: FileDropRun = {
        rows: totals.rows_read,
        events: totals.events,
        loadMs: load.wallMs,
        rowsPerSecond: totals.rows_read / (load.wallMs / 1000),
        baselineMs: baseline.ms,
        baselineRowsPerSecond: baseline.rows / (baseline.ms / 1000),
        peakRssBytes: load.peakRssBytes,
        othersPercent: load.othersPercent,
      };
      runs.push(run);
      options.log(
        `file-drops run ${i}/${options.runs}: ${formatNumber(run.rows)} rows → ${formatNumber(run.events)} events in ` +
          `${formatMs(run.loadMs)} = ${formatRate(run.rowsPerSecond, 'rows/s')}; read_csv alone ${formatMs(run.baselineMs)} = ` +
          `${formatRate(run.baselineRowsPerSecond, 'rows/s')}; peak RSS ${formatMiB(run.peakRssBytes)}; others ${formatPercent(run.othersPercent)}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const rows = runs[0]?.rows ?? 0;
  return {
    name: 'file-drops',
    title,
    method:
      `\`pulse load\` (a child process) of ${sources.length} daily CSV files, ${formatNumber(rows)} rows, through the ` +
      'online_retail mapping into a fresh DuckDB file: read on its own in-memory DuckDB, mapped to events, checked ' +
      'against the contracts, tokenised, committed in batches of 5,000 events, models refreshed once at the end; ' +
      'rows of CSV per second of the whole command (process start included). Baseline, in the same run: DuckDB ' +
      '`read_csv` of the same files into an in-memory table, 2 threads, nothing else.',
    figures: [
      {
        label: 'pulse load throughput',
        values: runs.map((r) => r.rowsPerSecond),
        format: (v) => formatRate(v, 'rows/s'),
        baseline: {
          label: 'read_csv alone',
          values: runs.map((r) => r.baselineRowsPerSecond),
          format: (v) => formatRate(v, 'rows/s'),
        },
      },
      { label: 'pulse load wall time', values: runs.map((r) => r.loadMs), format: formatMs },
      { label: 'pulse load peak RSS', values: runs.map((r) => r.peakRssBytes), format: formatMiB },
      { label: 'Other processes CPU', values: runs.map((r) => r.othersPercent), format: formatPercent },
    ],
    notes: runs.some((r) => r.othersPercent > 10)
      ? [
          'Other processes used the cores during these runs (see the row above): the figures are indicative only.',
        ]
      : [],
    runs,
    discarded: [],
  };
}
