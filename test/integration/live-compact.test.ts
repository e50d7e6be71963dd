import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { generateEvents } from '../../src/generator/index.js';
import { loadCatalogue, type KpiAnswer, type KpiDefinition } from '../../src/kpis/index.js';
import { noteRun } from '../../src/kpis/live-bucket-set.js';
import { CompactSnapshot } from '../../src/kpis/live-compact.js';
import { compileLiveSnapshot } from '../../src/kpis/live-compile.js';
import { PreparedQueries } from '../../src/warehouse/index.js';
import { assertLiveMatchesEngine } from '../support/live-compare.js';
import { deliverAndRefresh, orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Inventory Risk's live value reads compact tables (each SKU × warehouse's newest snapshot, orders
 * summed per hour over 28 days) in place of fact_inventory and fact_order. Against the engine's
 * plain query over the tables, at a clock off the minute: with orders at both ends of the 28 days,
 * a late snapshot that is its pair's newest (and one that is not), an order cancelled ten days back,
 * and an hour that passes and takes the oldest order out of the window.
 */
describe('Inventory Risk from compact tables', () => {
  let pulse: TestPulse;
  let clock = new Date('2026-03-10T12:00:27.450Z');
  let sku = '';
  // The same KPI with hour buckets, kept from the same runs beside the live values' day buckets.
  let hourly: CompactSnapshot;
  let queries: PreparedQueries;
  let kpi: KpiDefinition;

  const deliver = (events: unknown[]) => deliverAndRefresh(pulse, events);
  const reference = async (): Promise<KpiAnswer> => {
    const live = pulse.live.get('inventory_risk', '1h') as KpiAnswer;
    return pulse.engine.compute('inventory_risk', { from: live.window.from, to: live.window.to });
  };
  const ago = (ms: number) => new Date(clock.getTime() - ms).toISOString();
  const sorted = (rows: readonly Record<string, unknown>[]) => rows.map((row) => JSON.stringify(row)).sort();
  /** Every value live against the engine, and the hour-bucket twin against the KPI SQL over the tables. */
  const assertAgrees = async (label: string) => {
    assert.equal(await assertLiveMatchesEngine(pulse, label), 3 * 26);
    const query = compileLiveSnapshot(kpi, clock);
    const expected = await queries.rows(query.sql, query.params);
    assert.ok(expected.length > 1, 'the total and breakdowns');
    assert.deepEqual(sorted(await hourly.rows(queries, clock)), sorted(expected), `${label}: hour buckets`);
  };

  before(async () => {
    pulse = await startTestPulse({ now: () => clock, refreshDebounceMs: 10 });
    kpi = loadCatalogue().kpis.find((k) => k.id === 'inventory_risk') as KpiDefinition;
    const days = kpi.snapshot?.compact?.fact_order;
    assert.ok(days && 'sum' in days && days.per === 'day', 'the catalogue sums orders per day');
    hourly = new CompactSnapshot(
      {
        ...kpi,
        snapshot: {
          sql: kpi.snapshot?.sql ?? '',
          compact: { ...kpi.snapshot?.compact, fact_order: { ...days, per: 'hour' } },
        },
      },
      'hourly_',
    );
    queries = new PreparedQueries(await pulse.warehouse.connect());
    pulse.runner.onCommit((result) => noteRun(result, hourly.tables));
    await deliver([
      ...generateEvents(new Date(clock.getTime() - 2 * DAY), clock, { seed: 21, ordersPerDay: 2000 }),
    ]);
    // A SKU with stock in every warehouse that holds it, for the old orders below.
    const [row] = await pulse.sql(
      `SELECT sku FROM fact_inventory GROUP BY sku HAVING min(available_to_promise) > 0 ORDER BY sku LIMIT 1`,
    );
    sku = String(row?.sku);
    const old = (orderId: string, placedAt: string) =>
      orderEvent({ orderId, placedAt, sku, quantity: 3, unitPrice: 4_000 });
    await deliver([
      old('OLD-EDGE', ago(28 * DAY - 20 * MINUTE)), // in the part hour at the window's start
      old('OLD-OUT', ago(28 * DAY + MINUTE)), // just before it
      old('OLD-27', ago(27 * DAY)),
      old('OLD-10', ago(10 * DAY)),
    ]);
  });
  after(async () => pulse?.dispose());

  it('reads the compact tables and agrees with the tables', async () => {
    const tables = await pulse.sql(
      `SELECT table_name FROM duckdb_tables() WHERE database_name = 'pulse_live' AND table_name LIKE '%inventory_risk%'
       ORDER BY 1`,
    );
    assert.deepEqual(
      tables.map((t) => String(t.table_name).replace(/^b\d+_/, '')),
      ['inventory_risk_fact_inventory', 'inventory_risk_fact_order'],
    );
    const [held] = await pulse.sql(
      `SELECT count(*)::INTEGER AS n FROM (SELECT DISTINCT sku, warehouse FROM fact_inventory)`,
    );
    const [compact] = await pulse.sql(
      `SELECT count(*)::INTEGER AS n FROM pulse_live.${String(tables[0]?.table_name)}`,
    );
    assert.equal(compact?.n, held?.n, 'one row per SKU × warehouse');
    await assertAgrees('first refresh');
  });

  it('agrees after late snapshots and a cancellation ten days back', async () => {
    clock = new Date(clock.getTime() + 95_000);
    await pulse.live.recompute();
    const before = await reference();
    // Every warehouse of one SKU that is not at risk and sells: a late snapshot (30 s ago, a minute
    // the compact table already holds) with nothing available puts it at risk.
    const [target] = await pulse.sql(
      `SELECT f.sku, list(DISTINCT f.warehouse ORDER BY f.warehouse) AS warehouses, max(f.as_of) AS newest
       FROM fact_inventory f
       WHERE f.sku IN (SELECT sku FROM fact_order WHERE status <> 'cancelled' AND sku <> $sku
                       AND placed_at >= TIMESTAMPTZ '2026-03-09 12:00:00+00')
       GROUP BY f.sku HAVING min(f.available_to_promise) > 1000 ORDER BY f.sku LIMIT 1`.replace(
        '$sku',
        `'${sku}'`,
      ),
    );
    assert.ok(target, 'a SKU with plenty of stock');
    assert.ok(
      new Date(String(target.newest)).getTime() < clock.getTime() - 30_000,
      'the late snapshot is newest',
    );
    const snapshot = (id: string, sku: string, warehouse: string, asOf: string, atp: number) => ({
      specversion: '1.0',
      id,
      source: '/wms',
      type: 'inventory.snapshot',
      time: clock.toISOString(),
      data: { sku, warehouse, as_of: asOf, on_hand: atp, available_to_promise: atp },
    });
    const warehouses = target.warehouses as unknown as string[];
    const [mine] = await pulse.sql(`SELECT min(warehouse) AS w FROM fact_inventory WHERE sku = '${sku}'`);
    await deliver([
      ...warehouses.map((w, i) => snapshot(`evt-late-inv-${i}`, String(target.sku), w, ago(30_000), 0)),
      // Older than its pair's newest: never counts, however much it says.
      snapshot('evt-stale-inv', sku, String(mine?.w), ago(3 * DAY), 1_000_000),
      {
        specversion: '1.0',
        id: 'evt-cancel-old-10',
        source: '/oms',
        type: 'order.status_changed',
        time: clock.toISOString(),
        data: { order_id: 'OLD-10', status: 'cancelled', changed_at: ago(MINUTE) },
      },
    ]);
    const [cancelled] = await pulse.sql(`SELECT status FROM fact_order WHERE order_id = 'OLD-10'`);
    assert.equal(cancelled?.status, 'cancelled');
    const after = await reference();
    assert.ok(Number(after.numerator) >= Number(before.numerator) + 1, 'the late snapshot put a SKU at risk');
    assert.notDeepEqual(after.revenue_share, before.revenue_share);
    await assertAgrees('after late snapshots');
  });

  it('agrees when an hour passes and the oldest order leaves the 28 days', async () => {
    const before = await reference();
    clock = new Date(clock.getTime() + HOUR);
    await pulse.live.recompute();
    const after = await reference();
    assert.notDeepEqual(after.revenue_share, before.revenue_share, 'OLD-EDGE left the window');
    await assertAgrees('an hour later');
  });

  it('agrees past midnight, with a late order in the day that just closed', async () => {
    clock = new Date('2026-03-11T00:04:31.250Z');
    await deliver([
      orderEvent({ orderId: 'LATE-YESTERDAY', placedAt: ago(2 * HOUR), sku, quantity: 5, unitPrice: 900 }),
    ]);
    await assertAgrees('past midnight');
    clock = new Date(clock.getTime() + 3 * MINUTE);
    await deliver([
      orderEvent({ orderId: 'LATE-YESTERDAY-2', placedAt: ago(3 * HOUR), sku, quantity: 7, unitPrice: 800 }),
    ]);
    await assertAgrees('after a late order in the closed day');
  });
});
