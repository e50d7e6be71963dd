/**
 * PostgreSQL marts: (1) publish lag, from the commit of an order to its row being visible in the mart,
 * under the thesis load of 50,000 events/min; (2) COPY as the initial-load path against plain
 * multi-row INSERTs of the same rows, side by side.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { startPulse } from '../src/app.js';
import { generateEvents } from '../src/generator/index.js';
import { copyLine } from '../src/publish/index.js';
import type { BenchmarkResult } from './report.js';
import { formatMs, formatRate } from './stats.js';

const PG = process.env.PULSE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';

async function withDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const name = `pulse_bench_marts_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${PG}/test` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    return await work(`${PG}/${name}`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

const COLUMNS = `order_id text, line_no integer, sku text, channel text, brand text, country text, seller_id text,
  quantity integer, unit_price numeric(18,2), gross numeric(18,2), discount numeric(18,2), tax numeric(18,2),
  net numeric(18,2), net_eur numeric(24,8), placed_at timestamptz`;

function rowOf(i: number): unknown[] {
  const price = ((i % 9000) + 100) / 100;
  return [
    `O-${i}`,
    1,
    `SKU-${i % 5000}`,
    'web',
    'aurora',
    'FR',
    i % 7 === 0 ? `S-${i % 50}` : null,
    2,
    price.toFixed(2),
    (price * 2).toFixed(2),
    '0.00',
    '1.00',
    (price * 2 - 1).toFixed(2),
    (price * 2 - 1).toFixed(8),
    new Date(Date.UTC(2026, 2, 10) + i * 1000).toISOString(),
  ];
}

async function loadRates(url: string, rows: number): Promise<{ copy: number; insert: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE by_copy (${COLUMNS}); CREATE TABLE by_insert (${COLUMNS})`);
    let started = performance.now();
    const copy = client.query(pgCopy.from('COPY by_copy FROM STDIN'));
    const done = finished(copy);
    for (let i = 0; i < rows; i += 1000) {
      let text = '';
      for (let j = i; j < Math.min(rows, i + 1000); j++) text += copyLine(rowOf(j));
      if (!copy.write(text)) await new Promise((resolve) => copy.once('drain', resolve));
    }
    copy.end();
    await done;
    const copyRate = rows / ((performance.now() - started) / 1000);
    started = performance.now();
    await client.query('BEGIN');
    for (let i = 0; i < rows; i += 1000) {
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (let j = i; j < Math.min(rows, i + 1000); j++) {
        const row = rowOf(j);
        tuples.push(`(${row.map((_, k) => `$${values.length + k + 1}`).join(', ')})`);
        values.push(...row);
      }
      await client.query(`INSERT INTO by_insert VALUES ${tuples.join(', ')}`, values);
    }
    await client.query('COMMIT');
    const insertRate = rows / ((performance.now() - started) / 1000);
    const check = await client.query<{ a: string; b: string }>(
      `SELECT (SELECT sum(net_eur) FROM by_copy)::text AS a, (SELECT sum(net_eur) FROM by_insert)::text AS b`,
    );
    if (check.rows[0]?.a !== check.rows[0]?.b) throw new Error('COPY and INSERT loaded different rows');
    return { copy: copyRate, insert: insertRate };
  } finally {
    await client.end();
  }
}

/** Orders and the rest of the generated traffic at `eventsPerMinute`, one marker order per batch. */
async function publishLags(url: string, seconds: number, eventsPerMinute: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-marts-'));
  const pulse = await startPulse({
    dbPath: join(dir, 'pulse.duckdb'),
    tokenKey: 'bench-key-0123456789abcdef',
    port: 0,
    marts: { url, schema: 'pulse_marts', minIntervalMs: 100 },
  });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const lags: number[] = [];
  const pending = new Map<string, number>();
  let stop = false;
  let stoppedAt = Number.POSITIVE_INFINITY;
  const poller = (async () => {
    while (!stop || pending.size > 0) {
      if (pending.size > 0) {
        const seen = await client
          .query<{ order_id: string }>(
            `SELECT order_id FROM pulse_marts.fact_order WHERE order_id = ANY($1)`,
            [[...pending.keys()]],
          )
          .catch(() => ({ rows: [] as { order_id: string }[] }));
        const now = performance.now();
        for (const row of seen.rows) {
          const committed = pending.get(row.order_id);
          if (committed !== undefined) lags.push(now - committed);
          pending.delete(row.order_id);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (stop && performance.now() > stoppedAt + 30_000) break; // a marker never seen is left out
    }
  })();
  const batchMs = 500;
  const perBatch = Math.round((eventsPerMinute / 60_000) * batchMs);
  const traffic = generateEvents(new Date('2026-03-10T00:00:00Z'), new Date('2026-03-20T00:00:00Z'), {
    seed: 5,
    ordersPerDay: 200_000,
  })[Symbol.iterator]();
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < deadline) {
    const tick = performance.now();
    const batch = [];
    for (let i = 0; i < perBatch - 1; i++)
      batch.push({ kind: 'value' as const, value: traffic.next().value });
    const marker = `BENCH-${n++}`;
    batch.push({
      kind: 'value' as const,
      value: {
        specversion: '1.0',
        id: `evt-${marker}`,
        source: '/bench',
        type: 'order.placed',
        time: '2026-03-10T10:00:01Z',
        data: {
          order_id: marker,
          placed_at: '2026-03-10T10:00:00Z',
          customer_id: 'C-1',
          channel: 'web',
          brand: 'aurora',
          country: 'FR',
          currency: 'EUR',
          promised_delivery_at: '2026-03-13T10:00:00Z',
          lines: [{ line_no: 1, sku: 'SKU-1', quantity: 1, unit_price: 10, discount: 0, tax: 1 }],
        },
      },
    });
    await pulse.deliver(batch, { sourceKind: 'bench' });
    pending.set(marker, performance.now()); // deliver resolves after the commit
    const wait = batchMs - (performance.now() - tick);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  stop = true;
  stoppedAt = performance.now();
  await poller;
  await client.end();
  await pulse.close();
  rmSync(dir, { recursive: true, force: true });
  return lags;
}

export async function runMartsBenchmark(options: {
  runs: number;
  seconds?: number;
  rows?: number;
  log: (line: string) => void;
}): Promise<BenchmarkResult> {
  const copies: number[] = [];
  const inserts: number[] = [];
  const p50s: number[] = [];
  const p95s: number[] = [];
  const runs: unknown[] = [];
  const rows = options.rows ?? 100_000;
  for (let run = 0; run < options.runs; run++) {
    const rates = await withDatabase((url) => loadRates(url, rows));
    copies.push(rates.copy);
    inserts.push(rates.insert);
    const lags = (await withDatabase((url) => publishLags(url, options.seconds ?? 30, 50_000))).sort(
      (a, b) => a - b,
    );
    const at = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? Number.NaN;
    p50s.push(at(0.5));
    p95s.push(at(0.95));
    runs.push({ rates, lags: lags.length, p50: at(0.5), p95: at(0.95) });
    options.log(
      `marts run ${run + 1}: COPY ${formatRate(rates.copy, 'rows/s')} vs INSERT ${formatRate(rates.insert, 'rows/s')}; publish lag p50 ${formatMs(at(0.5))} p95 ${formatMs(at(0.95))} (${lags.length} markers)`,
    );
  }
  return {
    name: 'marts',
    title: 'PostgreSQL marts: publish lag and COPY initial load',
    method:
      'Publish lag: an order committed to DuckDB (deliver resolved) until its row is visible in pulse_marts.fact_order, ' +
      'one marker order per 500 ms batch of generated traffic at 50,000 events/min, PostgreSQL polled every 10 ms. ' +
      `Initial load: ${rows.toLocaleString('en')} 15-column order rows (NUMERIC, timestamptz) by COPY FROM STDIN vs multi-row INSERTs of 1,000 rows, same rows, same server.`,
    figures: [
      { label: 'Publish lag p50', values: p50s, format: formatMs },
      { label: 'Publish lag p95', values: p95s, format: formatMs },
      {
        label: 'Initial load, COPY',
        values: copies,
        format: (v) => formatRate(v, 'rows/s'),
        baseline: { label: 'multi-row INSERT', values: inserts, format: (v) => formatRate(v, 'rows/s') },
      },
    ],
    notes: [],
    runs,
    discarded: [],
  };
}
