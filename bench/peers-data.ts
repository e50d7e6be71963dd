/**
 * The peers benchmark's data and SQL, in DuckDB. About 10 M order lines in the gold table
 * `fact_order` (the columns of Pulse's model, copied from a warehouse Pulse built itself), generated
 * with SQL over range(): 4 M orders of 1–4 lines over 60 days ending now, stored in placed_at order
 * as Pulse appends them; 5 channels, 3 brands, 5 countries and their currencies, 40 marketplace
 * sellers, 6 categories, 1,800 SKUs, 300,000 customers, ~3 % cancelled, DECIMAL amounts; refunds for
 * ~6 % of the orders in `fact_refund`. Also the KPI (net revenue and orders by channel × minute), its
 * full recompute and the bucket maintenance after a batch.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export const ORDERS = 4_000_000;
export const DAYS = 60;
/** Inserted in time order, in chunks small enough to sort in memory. */
const CHUNKS = 8;
const DAY_MS = 86_400_000;

/** The KPI, the same text in DuckDB and PostgreSQL: net revenue and orders by channel × minute. */
export function kpiSql(where = ''): string {
  return `SELECT channel, date_trunc('minute', placed_at) AS minute,
       sum(net_eur) FILTER (WHERE status <> 'cancelled') AS net_revenue,
       count(DISTINCT order_id) AS orders
FROM fact_order ${where}
GROUP BY 1, 2`;
}

/** Lookup tables of the generator (temporary: not in the file). */
const LOOKUPS = [
  `CREATE OR REPLACE TEMP TABLE g_products AS
   SELECT p AS pid, ['aurora', 'borealis', 'cirrus'][1 + (p % 3)::INT] AS brand,
          upper(left(['aurora', 'borealis', 'cirrus'][1 + (p % 3)::INT], 3)) || '-' || (10000 + p)::VARCHAR AS sku,
          (((hash(p, 'price') % 49500) + 500) / 100)::DECIMAL(18, 2) AS unit_price,
          ['apparel', 'beauty', 'electronics', 'footwear', 'sports', 'home'][1 + (hash(p, 'cat') % 6)::INT] AS category
   FROM range(1800) t(p)`,
  `CREATE OR REPLACE TEMP TABLE g_customers AS
   SELECT c AS cid, md5(c::VARCHAR) AS customer_token,
          ['bronze', 'silver', 'gold'][1 + (hash(c, 't') % 3)::INT] AS loyalty_tier,
          ['new', 'occasional', 'regular'][1 + (hash(c, 's') % 3)::INT] AS segment
   FROM range(300000) t(c)`,
  `CREATE OR REPLACE TEMP TABLE g_channels AS SELECT * FROM (VALUES (0, 'web', 'online'), (1, 'mobile', 'app'),
     (2, 'marketplace', 'third_party'), (3, 'store', 'offline'), (4, 'partner', 'wholesale')) v(chid, channel, channel_type)`,
  `CREATE OR REPLACE TEMP TABLE g_countries AS SELECT * FROM (VALUES (0, 'FR', 'EUR', 1.0, 0.20),
     (1, 'DE', 'EUR', 1.0, 0.19), (2, 'ES', 'EUR', 1.0, 0.21), (3, 'AE', 'AED', 0.2520, 0.05),
     (4, 'SA', 'SAR', 0.2468, 0.15)) v(coid, country, currency, rate, vat)`,
];

/** The columns the generator fills (by name), to check them against the model's. */
export const GENERATED_COLUMNS = (
  'order_id line_no sku customer_token channel brand country seller_id session_id currency quantity ' +
  'unit_price gross discount tax net rate_to_eur net_eur placed_at status category product_brand ' +
  'product_version loyalty_tier segment channel_type _ingested_at _updated_seq'
).split(' ');

/** Lines of orders [first, first + count), placed evenly over [fromMs, fromMs + spanMs), in time order. */
function linesSql(first: number, count: number, fromMs: number, spanMs: number): string {
  const stepUs = Math.max(1, Math.floor((spanMs * 1000) / count));
  return `WITH o AS (
  SELECT o, hash(o) AS h, 'ORD-' || o::VARCHAR AS order_id, 1 + hash(o, 'n') % 4 AS nlines,
         make_timestamptz(${Math.round(fromMs * 1000)}::BIGINT + (o - ${first}) * ${stepUs} + (hash(o, 'j') % ${stepUs})::BIGINT) AS placed_at
  FROM range(${first}, ${first + count}) t(o)
), l AS (
  SELECT o.*, line_no, hash(o, line_no) AS lh FROM o JOIN range(1, 5) r(line_no) ON line_no <= nlines
), x AS (
  SELECT l.*, p.*, ch.*, co.*, cu.*,
         CASE WHEN lh % 10 < 8 THEN 1 WHEN lh % 10 < 9 THEN 2 ELSE 3 END AS quantity,
         CASE WHEN h // 7 % 100 < 3 THEN 'cancelled' WHEN h // 7 % 100 < 60 THEN 'paid'
              WHEN h // 7 % 100 < 90 THEN 'dispatched' ELSE 'delivered' END AS status,
         CASE WHEN lh // 10 % 10 = 0 THEN 0.1 ELSE 0 END AS disc
  FROM l JOIN g_products p ON p.pid = lh // 100 % 1800 JOIN g_channels ch ON ch.chid = h % 5
  JOIN g_countries co ON co.coid = h // 5 % 5 JOIN g_customers cu ON cu.cid = h // 25 % 300000
), g AS (
  SELECT *, (unit_price * quantity)::DECIMAL(18, 2) AS gross,
         round(unit_price * quantity * disc, 2)::DECIMAL(18, 2) AS discount FROM x
), t AS (SELECT *, round((gross - discount) * vat / (1 + vat), 2)::DECIMAL(18, 2) AS tax FROM g)
SELECT order_id, line_no::INTEGER AS line_no, sku, customer_token, channel, brand, country,
       CASE WHEN channel = 'marketplace' THEN 'S' || lpad((1 + h // 11 % 40)::VARCHAR, 3, '0') END AS seller_id,
       'SES-' || o::VARCHAR AS session_id, currency, quantity::INTEGER AS quantity, unit_price, gross, discount, tax,
       (gross - discount - tax)::DECIMAL(18, 2) AS net, rate::DECIMAL(18, 10) AS rate_to_eur,
       ((gross - discount - tax) * rate::DECIMAL(18, 10))::DECIMAL(38, 12) AS net_eur, placed_at, status, category,
       brand AS product_brand, 1::BIGINT AS product_version, loyalty_tier, segment, channel_type,
       placed_at + INTERVAL 150 MILLISECOND AS _ingested_at, o::BIGINT AS _updated_seq
FROM t
ORDER BY placed_at, order_id, line_no`;
}

async function one(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>> {
  return ((await connection.runAndReadAll(sql)).getRowObjectsJson()[0] ?? {}) as Record<string, unknown>;
}

export interface BuiltData {
  readonly lines: number;
  readonly refunds: number;
  readonly groups: number;
  /** count of groups | Σ orders | Σ net revenue (2 decimals) of the KPI over the history. */
  readonly totals: string;
  /** Model columns the generator does not fill (left NULL). */
  readonly missingColumns: readonly string[];
}

/**
 * Creates fact_order and fact_refund like those of the Pulse warehouse `schemaFrom`, fills them, and
 * builds kpi_minute once (the reference totals for PostgreSQL). History ends at `endMs`.
 */
export async function buildData(c: DuckDBConnection, schemaFrom: string, endMs: number): Promise<BuiltData> {
  await c.run(`SET TimeZone = 'UTC'`);
  await c.run(`ATTACH '${schemaFrom.replaceAll("'", "''")}' AS pulse_schema (READ_ONLY)`);
  for (const table of ['fact_order', 'fact_refund']) {
    await c.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM pulse_schema.${table} LIMIT 0`);
  }
  await c.run('DETACH pulse_schema');
  const columns = (await c.runAndReadAll(`SELECT column_name FROM (DESCRIBE fact_order)`))
    .getRowObjectsJson()
    .map((row) => String(row.column_name));
  for (const sql of LOOKUPS) await c.run(sql);
  const fromMs = endMs - DAYS * DAY_MS;
  const perChunk = ORDERS / CHUNKS;
  for (let i = 0; i < CHUNKS; i++) {
    const span = (DAYS * DAY_MS) / CHUNKS;
    await c.run(
      `INSERT INTO fact_order BY NAME ${linesSql(i * perChunk, perChunk, fromMs + i * span, span)}`,
    );
  }
  // Refunds for ~6 % of the orders not cancelled, of their first line, 3–17 days after the order.
  await c.run(`INSERT INTO fact_refund BY NAME
    SELECT * FROM (
      SELECT md5(order_id || '/refund') AS event_id, 'RET-' || substr(order_id, 5) AS return_id, order_id,
             placed_at + to_seconds((259200 + hash(order_id, 'd') % 1209600)::BIGINT) AS refunded_at,
             net AS amount, currency, rate_to_eur, net_eur AS amount_eur, channel, brand, country, seller_id,
             placed_at + to_seconds((259200 + hash(order_id, 'd') % 1209600)::BIGINT) AS _ingested_at,
             _updated_seq
      FROM fact_order
      WHERE line_no = 1 AND status <> 'cancelled' AND hash(order_id, 'refund') % 100 < 6)
    WHERE refunded_at < make_timestamptz(${endMs * 1000}::BIGINT)
    ORDER BY refunded_at`);
  await c.run(`CREATE OR REPLACE TABLE kpi_minute AS ${kpiSql()}`);
  await c.run('CHECKPOINT');
  const counts = await one(
    c,
    `SELECT (SELECT count(*) FROM fact_order) AS lines, (SELECT count(*) FROM fact_refund) AS refunds`,
  );
  const totals = await kpiTotals(c, 'kpi_minute');
  return {
    lines: Number(counts.lines),
    refunds: Number(counts.refunds),
    groups: Number(totals.split('|')[0]),
    totals,
    missingColumns: columns.filter((column) => !GENERATED_COLUMNS.includes(column)),
  };
}

/** "groups|Σ orders|Σ net revenue" of a KPI table, written alike by DuckDB and PostgreSQL. */
export const TOTALS_SQL = (table: string): string =>
  `SELECT count(*)::VARCHAR || '|' || sum(orders)::VARCHAR || '|' || round(sum(net_revenue), 2)::DECIMAL(38, 2)::VARCHAR AS t FROM ${table}`;

export async function kpiTotals(c: DuckDBConnection, table: string): Promise<string> {
  return String((await one(c, TOTALS_SQL(table))).t);
}

/** Appends `lines` new order lines placed over the `spanMs` before now; returns the first new _updated_seq. */
export async function appendBatch(c: DuckDBConnection, firstOrder: number, lines: number, spanMs: number) {
  const orders = Math.ceil(lines / 2) + 2;
  await c.run(
    `INSERT INTO fact_order BY NAME SELECT * FROM (${linesSql(firstOrder, orders, Date.now() - spanMs, spanMs)}) LIMIT ${lines}`,
  );
  return { nextOrder: firstOrder + orders, sinceSeq: firstOrder };
}

/**
 * The bucket maintenance: in one transaction, find the minutes the new rows (_updated_seq ≥ sinceSeq)
 * touched, delete those buckets and recompute them from fact_order. Returns how many buckets.
 */
export async function refreshBuckets(c: DuckDBConnection, sinceSeq: number): Promise<number> {
  await c.run('BEGIN TRANSACTION');
  try {
    await c.run(`CREATE OR REPLACE TEMP TABLE touched AS
      SELECT DISTINCT date_trunc('minute', placed_at) AS minute FROM fact_order WHERE _updated_seq >= ${sinceSeq}`);
    const range = await one(c, `SELECT min(minute)::VARCHAR AS lo, count(*) AS n FROM touched`);
    await c.run(`DELETE FROM kpi_minute WHERE minute IN (SELECT minute FROM touched)`);
    await c.run(
      `INSERT INTO kpi_minute ${kpiSql(
        `WHERE placed_at >= '${String(range.lo)}'::TIMESTAMPTZ
         AND date_trunc('minute', placed_at) IN (SELECT minute FROM touched)`,
      )}`,
    );
    await c.run('COMMIT');
    return Number(range.n);
  } catch (error) {
    await c.run('ROLLBACK');
    throw error;
  }
}

/** Buckets that differ between the maintained kpi_minute and a full recompute kpi_full (both ways). */
export async function bucketMismatches(c: DuckDBConnection): Promise<number> {
  const row = await one(
    c,
    `SELECT (SELECT count(*) FROM (SELECT * FROM kpi_minute EXCEPT SELECT * FROM kpi_full))
          + (SELECT count(*) FROM (SELECT * FROM kpi_full EXCEPT SELECT * FROM kpi_minute)) AS n`,
  );
  return Number(row.n);
}
