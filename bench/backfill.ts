/**
 * `pulse backfill` over 10 M order lines: its wall time and peak RSS (goal ≤ 1.5 GiB), beside DuckDB
 * alone parsing the same lines out of the same bronze (the floor of what the rebuild must do).
 *
 * The bronze is built once per invocation: a day of generated traffic through `pulse ingest` (the
 * catalogue, customers, rates, sessions…), then 4,000,000 `order.placed` events of 1 to 4 lines
 * (10,000,000 lines) written straight into bronze by SQL over the previous 30 days, on the
 * generated SKUs, customers and channels. Each run works on a fresh copy of that file.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKFILL_MEMORY_LIMIT } from '../src/warehouse/defaults.js';
import { ingestGenerated, runPulseCli } from './pulse-cli.js';
import type { BenchmarkResult } from './report.js';
import { formatMiB, formatMs, formatNumber, formatPercent, formatRate } from './stats.js';

const ORDERS = 4_000_000;
/** Order i has i % 4 + 1 lines: 1 + 2 + 3 + 4 per 4 orders. */
const LINES = (ORDERS / 4) * 10;
const DAYS = 30;
const GOAL_BYTES = 1.5 * 2 ** 30;

interface BackfillRun {
  readonly backfillMs: number;
  readonly peakRssBytes: number;
  readonly linesPerSecond: number;
  readonly baselineMs: number;
  readonly baselinePeakRssBytes: number;
  readonly baselineLinesPerSecond: number;
  readonly factOrderRows: number;
  readonly othersPercent: number;
}

/** The synthetic orders, appended after the generated day in ingest order, placed over the 30 days before it. */
function ordersSql(): string {
  return `
INSERT INTO bronze_events
WITH seed AS (
  SELECT (SELECT max(ingest_seq) FROM bronze_events) AS seq,
         (SELECT epoch_ms(min(event_time)) FROM bronze_events) AS first_ms,
         (SELECT list(DISTINCT data->>'$.sku') FROM bronze_events WHERE event_type = 'product.upserted') AS skus,
         (SELECT list(DISTINCT data->>'$.customer_token') FROM bronze_events WHERE event_type = 'order.placed') AS customers
),
orders AS (
  SELECT range AS i,
         make_timestamp((first_ms - ${DAYS}::BIGINT * 86400000 + range * (${DAYS}::BIGINT * 86400000 // ${ORDERS})) * 1000)::TIMESTAMPTZ AS placed,
         seq, skus, customers
  FROM seed, range(${ORDERS})
)
SELECT md5_number('bf-' || i), seq + 1 + i, 'bf-' || i, 'order.placed', '/backfill-bench', placed,
       placed + INTERVAL 2 SECOND, 'backfill-bench',
       json_object(
         'order_id', 'BF-' || i,
         'placed_at', strftime(placed, '%Y-%m-%dT%H:%M:%S.%gZ'),
         'customer_token', customers[1 + i % len(customers)],
         'channel', ['web', 'mobile', 'store', 'marketplace'][1 + i % 4],
         'brand', 'bench', 'country', ['FR', 'DE', 'ES', 'IT', 'NL'][1 + i % 5],
         'currency', 'EUR', 'seller_id', 'S' || lpad((i % 40)::VARCHAR, 3, '0'),
         'session_id', 'SES-BF-' || i,
         'promised_delivery_at', strftime(placed + INTERVAL 3 DAY, '%Y-%m-%dT%H:%M:%S.%gZ'),
         'lines', list_transform(range(1, i % 4 + 2), n -> json_object(
           'line_no', n, 'sku', skus[1 + (i * 7 + n) % len(skus)], 'quantity', 1 + (i + n) % 3,
           'unit_price', ((i * 31 + n * 17) % 20000 + 100) / 100, 'discount', 0,
           'tax', ((i * 31 + n * 17) % 20000 + 100) // 600 / 100))
       )::VARCHAR
-- No ORDER BY: DuckDB keeps the range's order on insert, and sorting 4 M documents would spill.
FROM orders`;
}

/** Builds the bronze once: a generated day through `pulse ingest`, then the orders by SQL. */
export async function buildBronze(dir: string, log: (line: string) => void): Promise<string> {
  const started = performance.now();
  const path = join(dir, 'bronze.duckdb');
  await ingestGenerated(dir, ['--days', '1', '--rate', '6000'], path);
  const instance = await DuckDBInstance.create(path, { memory_limit: '2GB' });
  const connection = await instance.connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    await connection.run(ordersSql());
    await connection.run('CHECKPOINT');
    const counts = (
      await connection.runAndReadAll(
        `SELECT count(*)::INTEGER AS events, count(*) FILTER (WHERE batch_id = 'backfill-bench')::INTEGER AS orders FROM bronze_events`,
      )
    ).getRowObjectsJson()[0];
    log(
      `backfill: bronze of ${formatNumber(Number(counts?.events))} events (${formatNumber(Number(counts?.orders))} ` +
        `synthetic orders) built in ${formatNumber((performance.now() - started) / 1000, 1)} s, ` +
        `${formatMiB(statSync(path).size)}`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return path;
}

/**
 * The floor, in its own process for its own peak RSS: DuckDB with the backfill's memory cap parsing
 * every order line out of the same bronze into a table, as silver_order_lines does first.
 */
async function parseAlone(
  path: string,
  dir: string,
): Promise<{ ms: number; lines: number; peakRssBytes: number }> {
  const script = join(dir, 'parse-alone.mjs');
  writeFileSync(
    script,
    `import { DuckDBInstance } from ${JSON.stringify(import.meta.resolve('@duckdb/node-api'))};
const instance = await DuckDBInstance.create(${JSON.stringify(path)}, { memory_limit: '${BACKFILL_MEMORY_LIMIT}', threads: '${availableParallelism()}' });
const db = await instance.connect();
const started = performance.now();
await db.run(\`CREATE TEMP TABLE lines AS SELECT event_id, unnest(d.lines) AS line, d.placed_at::TIMESTAMPTZ AS placed_at
  FROM (SELECT event_id, from_json(data, '{"order_id":"VARCHAR","placed_at":"VARCHAR","currency":"VARCHAR","lines":[{"line_no":"VARCHAR","sku":"VARCHAR","quantity":"VARCHAR","unit_price":"VARCHAR","discount":"VARCHAR","tax":"VARCHAR"}]}') AS d
        FROM bronze_events WHERE event_type = 'order.placed')\`);
const ms = performance.now() - started;
const n = (await db.runAndReadAll('SELECT count(*)::INTEGER AS n FROM lines')).getRowObjectsJson()[0].n;
process.stdout.write(JSON.stringify({ ms, n, maxRssKiB: process.resourceUsage().maxRSS }));
`,
  );
  const child = spawn(process.execPath, [script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`DuckDB alone exited with ${code}: ${err.slice(-2000)}`);
  const result = JSON.parse(out) as { ms: number; n: number; maxRssKiB: number };
  return { ms: result.ms, lines: result.n, peakRssBytes: result.maxRssKiB * 1024 };
}

/** What the rebuild left: the synthetic lines in fact_order, and every order line in silver. */
async function rebuiltLines(path: string): Promise<{ factOrderSynthetic: number; silver: number }> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const rows = await connection.runAndReadAll(
      `SELECT (SELECT count(*) FROM fact_order WHERE order_id LIKE 'BF-%')::INTEGER AS synthetic,
              (SELECT count(*) FROM silver_order_lines)::INTEGER AS silver`,
    );
    const [row] = rows.getRowObjectsJson();
    return { factOrderSynthetic: Number(row?.synthetic), silver: Number(row?.silver) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function runBackfillBenchmark(options: {
  runs: number;
  log: (line: string) => void;
}): Promise<BenchmarkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-backfill-'));
  const runs: BackfillRun[] = [];
  try {
    const bronze = await buildBronze(dir, options.log);
    for (let i = 1; i <= options.runs; i += 1) {
      const path = join(dir, `run-${i}.duckdb`);
      copyFileSync(bronze, path);
      try {
        const backfill = await runPulseCli(['backfill', '--db', path], dir);
        const baseline = await parseAlone(bronze, dir);
        const rebuilt = await rebuiltLines(path);
        if (baseline.lines !== rebuilt.silver) {
          throw new Error(
            `pulse backfill built ${rebuilt.silver} order lines, DuckDB alone ${baseline.lines}: not the same work`,
          );
        }
        const run: BackfillRun = {
          backfillMs: backfill.wallMs,
          peakRssBytes: backfill.peakRssBytes,
          linesPerSecond: LINES / (backfill.wallMs / 1000),
          baselineMs: baseline.ms,
          baselinePeakRssBytes: baseline.peakRssBytes,
          baselineLinesPerSecond: LINES / (baseline.ms / 1000),
          factOrderRows: rebuilt.factOrderSynthetic,
          othersPercent: backfill.othersPercent,
        };
        runs.push(run);
        options.log(
          `backfill run ${i}/${options.runs}: ${formatMs(run.backfillMs)}, peak RSS ${formatMiB(run.peakRssBytes)}, ` +
            `${formatNumber(run.factOrderRows)} synthetic lines in fact_order; DuckDB alone ${formatMs(run.baselineMs)}, ` +
            `peak RSS ${formatMiB(run.baselinePeakRssBytes)}; others ${formatPercent(run.othersPercent)}`,
        );
      } finally {
        rmSync(path, { force: true });
        rmSync(`${path}.wal`, { force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const lost = runs.filter((r) => r.factOrderRows !== LINES).length;
  return {
    name: 'backfill',
    title: '`pulse backfill` of 10 M order lines',
    method:
      `\`pulse backfill --db\` (a child process, the full rebuild of every model) of a bronze holding a generated ` +
      `day and ${formatNumber(ORDERS)} synthetic orders of ${formatNumber(LINES)} lines over ${DAYS} days, on a fresh ` +
      `copy each run, with the default settings (DuckDB memory cap ${BACKFILL_MEMORY_LIMIT}). Baseline, in the same run: ` +
      'DuckDB alone (its own process, the same cap) parsing the same order lines out of the same bronze into a table.',
    figures: [
      {
        label: '`pulse backfill` peak RSS',
        values: runs.map((r) => r.peakRssBytes),
        format: formatMiB,
        baseline: {
          label: 'DuckDB alone, peak RSS',
          values: runs.map((r) => r.baselinePeakRssBytes),
          format: formatMiB,
        },
        goal: { label: '≤ 1,536 MiB', met: (median: number) => median <= GOAL_BYTES },
      },
      {
        label: '`pulse backfill` order lines per second',
        values: runs.map((r) => r.linesPerSecond),
        format: (v) => formatRate(v, 'lines/s'),
        baseline: {
          label: 'DuckDB alone parsing them',
          values: runs.map((r) => r.baselineLinesPerSecond),
          format: (v) => formatRate(v, 'lines/s'),
        },
      },
      { label: '`pulse backfill` wall time', values: runs.map((r) => r.backfillMs), format: formatMs },
      { label: 'Other processes CPU', values: runs.map((r) => r.othersPercent), format: formatPercent },
    ],
    notes: [
      ...(lost > 0
        ? [`${lost} run(s) ended with fewer than ${formatNumber(LINES)} synthetic lines in fact_order.`]
        : []),
      ...(runs.some((r) => r.othersPercent > 10)
        ? [
            'Other processes used the cores during some runs (see the row above): those figures are indicative only.',
          ]
        : []),
    ],
    runs,
    discarded: [],
  };
}
