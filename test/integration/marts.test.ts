import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { generateEvents } from '../../src/generator/index.js';
import { loadModels } from '../../src/models/index.js';
import type { PublishResult } from '../../src/publish/index.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/postgres.js';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const NOW = new Date('2026-03-10T18:00:00Z');
const SCHEMA = 'marts_t';
const GOLD = loadModels()
  .filter((model) => model.layer === 'gold')
  .map((model) => model.name);

function order(
  id: string,
  seller: string | null,
  quantity: number,
  unitPrice: number,
  discount: number,
  tax: number,
) {
  const event = orderEvent({ orderId: id, placedAt: '2026-03-10T10:00:00Z' });
  return {
    ...event,
    data: {
      ...event.data,
      ...(seller ? { seller_id: seller, channel: 'marketplace' } : {}),
      lines: [{ line_no: 1, sku: 'SKU-1', quantity, unit_price: unitPrice, discount, tax }],
    },
  };
}

function refund(orderId: string, amount: string) {
  return {
    specversion: '1.0',
    id: `evt-refund-${orderId}`,
    source: '/shop/web',
    type: 'return.refunded',
    time: '2026-03-10T15:00:01Z',
    data: {
      return_id: `R-${orderId}`,
      order_id: orderId,
      refunded_at: '2026-03-10T15:00:00Z',
      amount,
      currency: 'EUR',
    },
  };
}

function cancel(orderId: string) {
  return {
    specversion: '1.0',
    id: `evt-cancel-${orderId}`,
    source: '/shop/web',
    type: 'order.status_changed',
    time: '2026-03-10T16:00:01Z',
    data: { order_id: orderId, status: 'cancelled', changed_at: '2026-03-10T16:00:00Z' },
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** What each publish did to fact_order, leaving out those that found nothing new. */
function factOrderPublishes(results: readonly PublishResult[]) {
  return results
    .map((result) => result.relations.find((r) => r.relation === 'fact_order'))
    .filter((r) => r !== undefined && r.mode !== 'skipped' && r.rows > 0)
    .map((r) => ({ mode: r!.mode, rows: r!.rows }));
}

const available = await postgresAvailable();

describe('PostgreSQL marts', { skip: available === true ? false : available }, () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let pulse: TestPulse;
  let sellerRole: string;
  let dir: string;

  const start = async (dirOption?: string) =>
    startTestPulse({
      now: () => NOW,
      refreshDebounceMs: 10,
      ...(dirOption ? { dir: dirOption } : {}),
      marts: {
        url: db.url(proxy.port),
        schema: SCHEMA,
        sellerRoles: { [sellerRole]: 'S-1' },
        retryMaxMs: 300,
        minIntervalMs: 0,
      },
    });

  /** Row count, and every DECIMAL/number column's exact sum, of each gold table: by plain SQL on both sides. */
  async function fingerprints(): Promise<{ duck: Record<string, string>; pg: Record<string, string> }> {
    const duck: Record<string, string> = {};
    const postgres: Record<string, string> = {};
    for (const table of GOLD) {
      const columns = await pulse.sql(
        `SELECT column_name FROM information_schema.columns WHERE table_name = '${table}' AND table_schema = 'main'
         AND (data_type LIKE 'DECIMAL%' OR data_type IN ('INTEGER', 'BIGINT')) ORDER BY ordinal_position`,
      );
      const sums = columns.map((c) => `coalesce(sum(${String(c.column_name)}), 0)`);
      const duckRow = await pulse.sql(
        `SELECT concat_ws('|', count(*), ${sums.map((s) => `${s}::VARCHAR`).join(', ') || "''"}) AS f FROM ${table}`,
      );
      const pgRow = await db.query<{ f: string }>(
        `SELECT concat_ws('|', count(*), ${sums.map((s) => `${s}::text`).join(', ') || "''"}) AS f FROM ${SCHEMA}.${table}`,
      );
      duck[table] = String(duckRow[0]?.f).replace(/\.0+(?=\||$)/g, '');
      postgres[table] = String(pgRow[0]?.f).replace(/\.0+(?=\||$)/g, '');
    }
    return { duck, pg: postgres };
  }

  async function caughtUp(): Promise<boolean | undefined> {
    const { duck, pg } = await fingerprints();
    return JSON.stringify(duck) === JSON.stringify(pg) ? true : undefined;
  }

  before(async () => {
    db = await createTestDatabase('pulse_marts_test');
    sellerRole = await db.createRole('pulse_seller_s1');
    proxy = await startTcpProxy('127.0.0.1', Number(process.env.PULSE_TEST_PG_PORT ?? 5432));
    pulse = await start();
    dir = pulse.dir;
    const events = [
      order('A', 'S-1', 2, 10, 0, 2), // net 18.00
      order('B', 'S-1', 1, 50.55, 5, 8.1), // net 37.45
      order('C', 'S-2', 3, 7.33, 0, 1), // net 20.99
      order('D', null, 1, 100, 0, 16.67), // net 83.33
      refund('B', '10.00'),
    ];
    const posted = await pulse.post(JSON.stringify(events), 'application/cloudevents-batch+json');
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    await pulse.refresh();
    await pulse.publisher!.publishNow();
  });
  after(async () => {
    await pulse?.close();
    await proxy?.close();
    await db?.drop();
    if (dir) (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
  });

  it('publishes every gold model with the same rows and exact sums as DuckDB, NUMERIC and timestamptz kept', async () => {
    const { duck, pg } = await fingerprints();
    assert.deepEqual(pg, duck);
    assert.equal(duck.fact_order?.split('|')[0], '4');
    const types = await db.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'fact_order'
       AND column_name IN ('net_eur', 'placed_at', 'quantity')`,
      [SCHEMA],
    );
    assert.deepEqual(Object.fromEntries(types.map((t) => [t.column_name, t.data_type])), {
      net_eur: 'numeric',
      placed_at: 'timestamp with time zone',
      quantity: 'integer',
    });
    const placed = await db.query<{ t: string }>(
      `SELECT min(placed_at AT TIME ZONE 'UTC')::text AS t FROM ${SCHEMA}.fact_order`,
    );
    assert.equal(placed[0]?.t, '2026-03-10 10:00:00');
  });

  it('serves the daily net revenue view and the live KPI values, documented for BI tools', async () => {
    const daily = await db.query<{ total: string }>(
      `SELECT sum(net_revenue_eur)::text AS total FROM ${SCHEMA}.v_net_revenue_daily WHERE business_date = '2026-03-10'`,
    );
    assert.equal(daily[0]?.total, '149.77'); // 18 + 37.45 + 20.99 + 83.33 − 10 refunded
    const current = await db.query<{ value: string }>(
      `SELECT value::text FROM ${SCHEMA}.v_kpi_current WHERE kpi_id = 'net_revenue' AND window_name = 'today'`,
    );
    assert.equal(current[0]?.value, '149.77');
    assert.equal(pulse.live.get('net_revenue', 'today')?.value, '149.77');
    const comment = await db.query<{ c: string }>(
      `SELECT col_description('${SCHEMA}.v_net_revenue_daily'::regclass,
         (SELECT attnum FROM pg_attribute WHERE attrelid = '${SCHEMA}.v_net_revenue_daily'::regclass AND attname = 'net_revenue_eur')) AS c`,
    );
    assert.match(comment[0]?.c ?? '', /lines_net_eur − refunds_eur/);
  });

  it('lets a seller role see only its own rows', async () => {
    const mine = await db.queryAs<{ n: string; net: string }>(
      sellerRole,
      `SELECT count(*)::text AS n, round(sum(net_eur), 2)::text AS net FROM ${SCHEMA}.fact_order`,
    );
    assert.deepEqual(mine[0], { n: '2', net: '55.45' });
    const daily = await db.queryAs<{ sellers: string; total: string }>(
      sellerRole,
      `SELECT string_agg(DISTINCT seller_id, ',') AS sellers, sum(net_revenue_eur)::text AS total FROM ${SCHEMA}.v_net_revenue_daily`,
    );
    assert.deepEqual(daily[0], { sellers: 'S-1', total: '45.45' });
    await assert.rejects(db.queryAs(sellerRole, `SELECT * FROM ${SCHEMA}.kpi_value`), /permission denied/);
    await assert.rejects(db.queryAs(sellerRole, `SELECT * FROM ${SCHEMA}.dim_product`), /permission denied/);
    // Setting a session variable or claiming another seller changes nothing: the role decides.
    const spoof = await db.queryAs<{ n: string }>(
      sellerRole,
      `SELECT count(*)::text AS n FROM ${SCHEMA}.fact_order WHERE seller_id = 'S-2'`,
    );
    assert.equal(spoof[0]?.n, '0');
  });

  it('replaces restated rows by their key: a cancelled order leaves net revenue, nothing is duplicated', async () => {
    const seen = pulse.publisher!.recent.length;
    assert.equal(
      (await pulse.post(JSON.stringify([cancel('D')]), 'application/cloudevents-batch+json')).status,
      200,
    );
    await pulse.refresh();
    await pulse.publisher!.publishNow();
    const modes = factOrderPublishes(pulse.publisher!.recent.slice(seen));
    assert.deepEqual(modes, [{ mode: 'incremental', rows: 1 }]);
    const rows = await db.query<{ n: string; status: string }>(
      `SELECT count(*)::text AS n, max(status) AS status FROM ${SCHEMA}.fact_order WHERE order_id = 'D'`,
    );
    assert.deepEqual(rows[0], { n: '1', status: 'cancelled' });
    const daily = await db.query<{ total: string }>(
      `SELECT sum(net_revenue_eur)::text AS total FROM ${SCHEMA}.v_net_revenue_daily`,
    );
    assert.equal(daily[0]?.total, '66.44');
    assert.deepEqual((await fingerprints()).pg, (await fingerprints()).duck);
  });

  it('runs publishes asked for at once one after the other: each commits, none breaks another', async () => {
    const publisher = pulse.publisher!;
    const seen = publisher.recent.length;
    // A refresh ending while a caller publishes asks for one too: both share one DuckDB connection.
    const results = await Promise.all([
      publisher.publishNow(),
      publisher.publishNow(),
      publisher.publishNow(),
    ]);
    assert.equal(results.length, 3);
    assert.ok(publisher.recent.length - seen >= 3, `${publisher.recent.length - seen} publishes recorded`);
    assert.equal(publisher.health().status, 'ok');
    assert.deepEqual((await fingerprints()).pg, (await fingerprints()).duck);
  });

  it('keeps ingesting while PostgreSQL is unreachable, reports it on /readyz, and catches up with nothing lost', async () => {
    proxy.cut();
    const events = [
      ...generateEvents(new Date('2026-03-10T08:00:00Z'), new Date('2026-03-10T10:00:00Z'), {
        seed: 7,
        ordersPerDay: 10_000,
      }),
    ];
    for (let i = 0; i < events.length; i += 2_000) {
      const posted = await pulse.post(
        JSON.stringify(events.slice(i, i + 2_000)),
        'application/cloudevents-batch+json',
      );
      assert.ok(posted.status === 200 || posted.status === 207, JSON.stringify(posted.body).slice(0, 300));
    }
    await pulse.refresh(); // the refresh loop is not held up by the marts
    const health = await waitFor('marts failing on /readyz', async () => {
      const response = await fetch(`${pulse.url}/readyz`);
      const body = (await response.json()) as { status: string; checks: { marts: { status: string } } };
      return body.checks.marts.status === 'failing' ? { code: response.status, body } : undefined;
    });
    assert.equal(health.code, 200);
    assert.equal(health.body.status, 'ready');
    assert.equal(await caughtUp().catch(() => undefined), undefined); // PostgreSQL is behind
    proxy.restore();
    await waitFor('marts to catch up', caughtUp);
    const { duck } = await fingerprints();
    assert.ok(Number(duck.fact_order?.split('|')[0]) > 100, duck.fact_order);
    const ready = (await (await fetch(`${pulse.url}/readyz`)).json()) as {
      checks: { marts: { status: string } };
    };
    assert.equal(ready.checks.marts.status, 'ok');
  });

  it('resumes from its watermark in PostgreSQL after a restart, incrementally', async () => {
    await pulse.close();
    pulse = await start(dir);
    await pulse.publisher!.publishNow();
    const seen = pulse.publisher!.recent.length;
    assert.equal(
      (
        await pulse.post(
          JSON.stringify([order('E', 'S-1', 1, 12.34, 0, 0)]),
          'application/cloudevents-batch+json',
        )
      ).status,
      200,
    );
    await pulse.refresh();
    await pulse.publisher!.publishNow();
    assert.deepEqual(factOrderPublishes(pulse.publisher!.recent.slice(seen)), [
      { mode: 'incremental', rows: 1 },
    ]);
    await waitFor('marts to match after restart', caughtUp);
    const mine = await db.queryAs<{ n: string }>(
      sellerRole,
      `SELECT count(*)::text AS n FROM ${SCHEMA}.fact_order WHERE order_id = 'E'`,
    );
    assert.equal(mine[0]?.n, '1');
  });
});
