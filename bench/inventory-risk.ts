/**
 * What Inventory Risk's live query costs each refresh over 28 days of history, read from compact
 * tables (live-compact.ts) against the same KPI SQL over the tables themselves (the baseline, what
 * every refresh ran before). A generated day goes through the pipeline once; its orders and
 * inventory snapshots are then copied 27 times a day further back (28 days at the day's rate, as a
 * shop running for a month holds), ordered by business time as the models keep them.
 *
 * Each refresh of a run adds 50 order lines in the last minutes and one inventory snapshot, and
 * every other refresh one late line five days back (a day bucket to sum again, as a status change
 * of an older order does), moves the clock 2 s on, then runs both queries, in alternating order,
 * and checks that they answer the same rows.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openPipeline } from '../src/app.js';
import { generateEvents } from '../src/generator/index.js';
import { loadCatalogue, type KpiDefinition } from '../src/kpis/index.js';
import { CompactSnapshot } from '../src/kpis/live-compact.js';
import { compileLiveSnapshot } from '../src/kpis/live-compile.js';
import { PreparedQueries } from '../src/warehouse/index.js';
import { deliverAndRun } from './deliver-events.js';
import type { BenchmarkResult } from './report.js';
import { formatMs, formatNumber, percentile } from './stats.js';

export interface InventoryRiskOptions {
  readonly runs: number;
  readonly log: (line: string) => void;
}

const ORDERS_PER_DAY = 60_000;
const DAYS = 28;
const REFRESHES = 60;
const STEP_MS = 2_000;
const TOKEN_KEY = 'bench-inventory-risk-token-key-0123456789';
const MINUTE_MS = 60_000;

interface Run {
  referenceMs: number[];
  /** Refreshes that changed no past day, and refreshes that changed one. */
  compactMs: number[];
  rebuildMs: number[];
  buildMs: number;
}

/** One generated day through the pipeline, then copied back to fill 28 days; returns its end. */
export async function buildHistory(
  path: string,
  log: (line: string) => void,
): Promise<{ end: Date; lines: number }> {
  const started = performance.now();
  const end = new Date(Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 3_600_000);
  const from = new Date(end.getTime() - 86_400_000);
  const pipeline = await openPipeline({ dbPath: path, tokenKey: TOKEN_KEY, timeZone: 'Europe/Paris' });
  try {
    await deliverAndRun(pipeline, generateEvents(from, end, { seed: 41, ordersPerDay: ORDERS_PER_DAY }));
  } finally {
    await pipeline.close();
  }
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    const back = `range(1, ${DAYS}) AS d_(k)`;
    await connection.run(`CREATE OR REPLACE TABLE fact_order AS
      SELECT * FROM (
        SELECT * FROM fact_order
        UNION ALL
        SELECT * EXCLUDE (k) REPLACE (order_id || '~' || k AS order_id, placed_at - to_days(k::INTEGER) AS placed_at)
        FROM fact_order, ${back}
      ) ORDER BY placed_at`);
    await connection.run(`CREATE OR REPLACE TABLE fact_inventory AS
      SELECT * FROM (
        SELECT * FROM fact_inventory
        UNION ALL
        SELECT * EXCLUDE (k) REPLACE (as_of - to_days(k::INTEGER) AS as_of) FROM fact_inventory, ${back}
      ) ORDER BY as_of`);
    await connection.run('CHECKPOINT');
    const reader = await connection.runAndReadAll('SELECT count(*)::INTEGER AS n FROM fact_order');
    const lines = Number(reader.getRowObjectsJson()[0]?.n);
    log(
      `inventory-risk: ${DAYS} days of history (${formatNumber(lines)} order lines) built in ` +
        `${formatNumber((performance.now() - started) / 1000, 1)} s`,
    );
    return { end, lines };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const sorted = (rows: readonly Record<string, unknown>[]): string =>
  JSON.stringify(rows.map((row) => JSON.stringify(row)).sort());

async function once(seed: string, end: Date, kpi: KpiDefinition, runNo: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-inventory-'));
  const path = join(dir, 'run.duckdb');
  copyFileSync(seed, path);
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    const queries = new PreparedQueries(connection);
    const compact = new CompactSnapshot(kpi, `bench${runNo}_`);
    let now = end.getTime() + 27_450;
    const built = performance.now();
    await compact.rows(queries, new Date(now));
    const buildMs = performance.now() - built;
    const referenceMs: number[] = [];
    const compactMs: number[] = [];
    const rebuildMs: number[] = [];
    for (let i = 0; i < REFRESHES; i++) {
      now += STEP_MS;
      const at = new Date(now);
      const late = Math.floor(i / 2) % 2 === 0;
      const params = { now: at.toISOString(), i: String(i) };
      // 50 lines of the last day, moved to the last minutes; one five days back; one snapshot.
      const inserted = await queries.rows(
        `INSERT INTO fact_order
         SELECT * REPLACE ('R' || $i || '-' || order_id AS order_id,
                           $now::TIMESTAMPTZ - to_milliseconds((row_number() OVER ())::BIGINT * 1000) AS placed_at)
         FROM (SELECT * FROM fact_order WHERE order_id NOT LIKE '%~%' ORDER BY order_id LIMIT 50 OFFSET ($i::INTEGER * 50))
         UNION ALL
         SELECT * REPLACE ('L' || $i || '-' || order_id AS order_id, $now::TIMESTAMPTZ - INTERVAL 5 DAY AS placed_at)
         FROM (SELECT * FROM fact_order WHERE order_id NOT LIKE '%~%' ORDER BY order_id LIMIT $late::INTEGER OFFSET $i::INTEGER)
         RETURNING epoch_ms(date_trunc('minute', placed_at)) AS m`,
        { ...params, late: String(late ? 1 : 0) },
      );
      await queries.rows(
        `INSERT INTO fact_inventory
         SELECT * REPLACE ($now::TIMESTAMPTZ - INTERVAL 1 SECOND AS as_of, 0 AS available_to_promise)
         FROM (SELECT * FROM fact_inventory ORDER BY as_of DESC, sku, warehouse LIMIT 1 OFFSET $i::INTEGER)`,
        params,
      );
      for (const table of compact.tables) {
        table.note(
          table.inputs[0] === 'fact_order'
            ? inserted.map((row) => Number(row.m))
            : [Math.floor((now - 1_000) / MINUTE_MS) * MINUTE_MS],
        );
      }
      const reference = async () => {
        const started = performance.now();
        const query = compileLiveSnapshot(kpi, at);
        const rows = await queries.rows(query.sql, query.params);
        referenceMs.push(performance.now() - started);
        return rows;
      };
      const compacted = async () => {
        const started = performance.now();
        const rows = await compact.rows(queries, at);
        (late ? rebuildMs : compactMs).push(performance.now() - started);
        return rows;
      };
      const [first, second] = i % 2 === 0 ? [reference, compacted] : [compacted, reference];
      if (sorted(await first()) !== sorted(await second())) {
        throw new Error(`inventory-risk: the compact tables answered differently at refresh ${i}`);
      }
    }
    return { referenceMs, compactMs, rebuildMs, buildMs };
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runInventoryRiskBenchmark(options: InventoryRiskOptions): Promise<BenchmarkResult> {
  const kpi = loadCatalogue().kpis.find((k) => k.id === 'inventory_risk');
  if (!kpi) throw new Error('inventory_risk is not in the catalogue');
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-inventory-seed-'));
  try {
    const seed = join(dir, 'seed.duckdb');
    const { end, lines } = await buildHistory(seed, options.log);
    const runs: Run[] = [];
    for (let i = 1; i <= options.runs; i++) {
      const run = await once(seed, end, kpi, i);
      options.log(
        `inventory-risk run ${i}/${options.runs}: compact p50 ${formatMs(percentile(run.compactMs, 50))}, ` +
          `with a past day rebuilt ${formatMs(percentile(run.rebuildMs, 50))}; over the tables p50 ${formatMs(percentile(run.referenceMs, 50))}; ` +
          `first build ${formatMs(run.buildMs)}`,
      );
      runs.push(run);
    }
    const at = (pick: (r: Run) => number[], q: number) => runs.map((r) => percentile(pick(r), q));
    return {
      name: 'inventory-risk',
      title: "Inventory Risk's live query over 28 days of history",
      method:
        `A generated day (${formatNumber(ORDERS_PER_DAY)} orders) through the pipeline, its orders and inventory ` +
        `snapshots copied back to fill ${DAYS} days (${formatNumber(lines)} order lines). ${REFRESHES} refreshes per run, ` +
        `each adding 50 recent order lines and one snapshot, every other one a line five days late, 2 s apart; the live query read ` +
        `from the compact tables against the same KPI SQL over the tables (baseline), alternating, with equal answers checked.`,
      figures: [
        {
          label: 'Live query p50, compact tables',
          values: at((r) => r.compactMs, 50),
          format: formatMs,
          baseline: { label: 'over the tables p50', values: at((r) => r.referenceMs, 50), format: formatMs },
        },
        {
          label: 'Live query p50, compact tables, a past day summed again',
          values: at((r) => r.rebuildMs, 50),
          format: formatMs,
          baseline: { label: 'over the tables p50', values: at((r) => r.referenceMs, 50), format: formatMs },
        },
        {
          label: 'Live query p95, compact tables, all refreshes',
          values: at((r) => [...r.compactMs, ...r.rebuildMs], 95),
          format: formatMs,
          baseline: { label: 'over the tables p95', values: at((r) => r.referenceMs, 95), format: formatMs },
        },
        { label: 'First build of the compact tables', values: runs.map((r) => r.buildMs), format: formatMs },
      ],
      notes: [
        'In the bench process on one DuckDB connection with no other load; both answers compared at every refresh.',
      ],
      runs: runs.map((r) => ({
        buildMs: r.buildMs,
        compactP50: percentile(r.compactMs, 50),
        rebuildP50: percentile(r.rebuildMs, 50),
        referenceP50: percentile(r.referenceMs, 50),
      })),
      discarded: [],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
