import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { generateEvents } from '../../src/generator/index.js';
import type { SlaBreach } from '../../src/orchestrator/index.js';
import { startTestPulse, type TestPulse } from '../support/pulse.js';

const GOLD = [
  'dim_product',
  'dim_customer',
  'dim_channel',
  'fact_order',
  'fact_shipment',
  'fact_returns',
  'fact_refund',
  'fact_session',
  'fact_support_case',
  'fact_inventory',
];
type Json = Record<string, unknown>;

/**
 * A run that fails midway (an injected failure inside its transaction, after several models
 * wrote) leaves nothing behind; retrying it reads the same watermark range and, followed by the
 * normal refreshes, ends where an uninterrupted history ends: a full rebuild over the same bronze.
 */
describe('run history, failed runs and retries', () => {
  let pulse: TestPulse;
  let firstRun: string;
  let failedRun: Json;
  const deliver = (events: unknown[]) =>
    pulse.deliver(
      events.map((value) => ({ kind: 'value', value })),
      { sourceKind: 'test' },
    );
  const count = async (sql: string): Promise<number> => Number((await pulse.sql(sql))[0]?.n);

  before(async () => {
    // Runs happen when the test asks (refresh), never on the debounce timer in between.
    pulse = await startTestPulse({ retryBackoffMs: [], refreshDebounceMs: 3_600_000 });
    const events = [
      ...generateEvents(new Date('2026-03-01T00:00:00Z'), new Date('2026-03-05T00:00:00Z'), {
        seed: 5,
        ordersPerDay: 150,
      }),
    ];
    const third = Math.floor(events.length / 3);
    await deliver(events.slice(0, third));
    firstRun = (await pulse.refresh())?.runId as string;
    await deliver(events.slice(third, 2 * third));
    const observer = pulse.runner.observer;
    pulse.runner.observer = {
      modelStarted: (_run, model) => {
        if (model.name === 'fact_order') throw new Error('injected failure: the run dies in fact_order');
      },
      modelFinished: () => undefined,
      runCommitted: () => undefined,
      runFailed: () => undefined,
    };
    try {
      await assert.rejects(pulse.refresh(), /injected failure/);
    } finally {
      pulse.runner.observer = observer;
    }
    const response = await pulse.fetch(`${pulse.url}/v1/runs?status=failed`);
    failedRun = ((await response.json()) as { runs: Json[] }).runs[0] as Json;
    await deliver(events.slice(2 * third));
  });
  after(async () => pulse?.dispose());

  it('records each run with its trigger, rows per model, duration and watermarks', async () => {
    const response = await pulse.fetch(`${pulse.url}/v1/runs/${firstRun}`);
    assert.equal(response.status, 200);
    const run = (await response.json()) as Json & { models: { model: string; rows: number }[] };
    assert.equal(run.status, 'success');
    assert.equal(run.trigger, 'refresh');
    assert.equal(run.error, null);
    assert.ok(Number(run.duration_ms) > 0);
    // finished_at is when the run ended, not when its transaction began: the span covers the duration.
    const [times] = await pulse.sql(
      `SELECT epoch_ms(finished_at) - epoch_ms(started_at) AS span_ms, duration_ms FROM pulse_runs WHERE run_id = '${firstRun}'`,
    );
    assert.ok(
      Number(times?.span_ms) >= Number(times?.duration_ms) - 5,
      `finished_at − started_at ${String(times?.span_ms)} ms against a duration of ${String(times?.duration_ms)} ms`,
    );
    // The first run built every model from the first third of bronze: its rows are that third's.
    const orders = await count(
      `SELECT count(*) AS n FROM bronze_events WHERE event_type = 'order.placed' AND ingest_seq <= ${String(run.watermark_to)}`,
    );
    assert.ok(orders > 0);
    assert.equal(run.models.find((model) => model.model === 'silver_orders')?.rows, orders);
    const lines = await count(
      `SELECT sum(json_array_length(data->'$.lines')) AS n FROM bronze_events WHERE event_type = 'order.placed' AND ingest_seq <= ${String(run.watermark_to)}`,
    );
    assert.equal(run.models.find((model) => model.model === 'silver_order_lines')?.rows, lines);
    assert.equal(
      run.rows,
      run.models.reduce((sum, model) => sum + model.rows, 0),
    );
  });

  it('records the failed run with its error and the watermark range it read, and keeps none of its writes', async () => {
    assert.equal(failedRun.status, 'failed');
    assert.match(String(failedRun.error), /injected failure/);
    assert.equal(failedRun.trigger, 'refresh');
    const first = (await (await pulse.fetch(`${pulse.url}/v1/runs/${firstRun}`)).json()) as Json;
    assert.equal(failedRun.watermark_from, first.watermark_to);
    assert.ok(BigInt(String(failedRun.watermark_to)) > BigInt(String(first.watermark_to)));
    const visible = await count(`SELECT count(*) AS n FROM silver_orders`);
    const firstThird = await count(
      `SELECT count(*) AS n FROM bronze_events WHERE event_type = 'order.placed' AND ingest_seq <= ${String(first.watermark_to)}`,
    );
    assert.equal(visible, firstThird, 'silver_orders, which ran before the failure, was rolled back');
  });

  it('retries the failed run over the same range, idempotently, and ends with the gold of an uninterrupted run', async () => {
    const retried = await pulse.retry(String(failedRun.id));
    assert.equal(retried.status, 'success');
    assert.equal(retried.watermarkTo.toString(), failedRun.watermark_to);
    // Only the range of the failed run was read, although the last third has arrived since.
    const orders = await count(
      `SELECT count(*) AS n FROM bronze_events WHERE event_type = 'order.placed' AND ingest_seq <= ${String(failedRun.watermark_to)}`,
    );
    assert.equal(await count(`SELECT count(*) AS n FROM silver_orders`), orders);
    const record = (await (await pulse.fetch(`${pulse.url}/v1/runs/${retried.runId}`)).json()) as Json;
    assert.equal(record.trigger, 'retry');
    assert.equal(record.retry_of, failedRun.id);
    // Again: nothing left to do, nothing written, no new run recorded.
    const again = await pulse.retry(String(failedRun.id));
    assert.equal(again.status, 'skipped');
    assert.equal(await count(`SELECT count(*) AS n FROM silver_orders`), orders);
    assert.equal(
      await count(`SELECT count(*) AS n FROM pulse_runs WHERE retry_of = '${String(failedRun.id)}'`),
      1,
    );

    await pulse.refresh();
    const allOrders = await count(
      `SELECT count(DISTINCT event_id) AS n FROM bronze_events WHERE event_type = 'order.placed'`,
    );
    assert.equal(
      await count(`SELECT count(*) AS n FROM silver_orders`),
      allOrders,
      'no order twice, none missing',
    );
    // The reference: a full rebuild over the same bronze, compared row for row in plain SQL.
    for (const table of GOLD) {
      await pulse.warehouse.reader.run(
        `CREATE TABLE kept_${table} AS SELECT * EXCLUDE (_updated_seq) FROM ${table}`,
      );
    }
    const rebuilt = await pulse.rebuild();
    // A full build reports the rows it wrote too (CREATE TABLE AS reports none by itself).
    assert.equal(
      rebuilt.models.find((model) => model.model === 'fact_order')?.rows,
      await count(`SELECT count(*) AS n FROM fact_order`),
    );
    for (const table of GOLD) {
      const rows = await count(`SELECT count(*) AS n FROM ${table}`);
      const missing = await count(
        `SELECT count(*) AS n FROM (SELECT * EXCLUDE (_updated_seq) FROM ${table} EXCEPT ALL SELECT * FROM kept_${table})`,
      );
      const extra = await count(
        `SELECT count(*) AS n FROM (SELECT * FROM kept_${table} EXCEPT ALL SELECT * EXCLUDE (_updated_seq) FROM ${table})`,
      );
      assert.deepEqual({ table, missing, extra }, { table, missing: 0, extra: 0 });
      if (table === 'fact_order') assert.ok(rows > 0);
    }
  });

  it('refuses to retry a run that did not fail or does not exist, naming RUN_ID', async () => {
    await assert.rejects(pulse.retry(firstRun), (error: Error & { field?: string }) => {
      assert.equal(error.field, 'RUN_ID');
      assert.match(error.message, /did not fail/);
      return true;
    });
    await assert.rejects(pulse.retry('no-such-run'), /no run "no-such-run"/);
  });

  it('records an SLA breach of a cadence job: a row, a metric and the in-process hook', async () => {
    const breaches: SlaBreach[] = [];
    const unsubscribe = pulse.sla.onBreach((breach) => breaches.push(breach));
    await deliver([
      ...generateEvents(new Date('2026-03-05T00:00:00Z'), new Date('2026-03-05T02:00:00Z'), {
        seed: 6,
        ordersPerDay: 150,
      }),
    ]);
    // A refresh cannot finish within 1 ms: the job breaches its SLA.
    const result = await pulse.jobs.tick({
      name: 'kpi_pt2m',
      kpis: ['net_revenue'],
      everyMs: 120_000,
      slaMs: 1,
    });
    unsubscribe();
    assert.equal(breaches.length, 1);
    assert.equal(breaches[0]?.job, 'kpi_pt2m');
    assert.equal(breaches[0]?.runId, result?.runId);
    assert.ok((breaches[0]?.actualMs ?? 0) > 1);
    await pulse.sla.flush();
    const rows = await pulse.sql(`SELECT job, run_id, sla_ms FROM pulse_sla_breaches`);
    assert.deepEqual(rows, [{ job: 'kpi_pt2m', run_id: result?.runId ?? null, sla_ms: 1 }]);
    const metrics = await (await pulse.fetch(`${pulse.url}/metrics`)).text();
    assert.match(metrics, /pulse_sla_breaches_total\{job="kpi_pt2m"\} 1/);
    const recorded = await pulse.fetch(`${pulse.url}/v1/runs/${result?.runId}`);
    if (recorded.status === 200) assert.equal(((await recorded.json()) as Json).trigger, 'kpi_pt2m');
    // Only a run that found nothing new goes unrecorded (another run took the events first).
    else
      assert.ok(
        result?.models.every((m) => m.mode === 'skipped'),
        `run ${result?.runId} missing`,
      );
  });

  it('lists runs newest first, filtered by status and trigger', async () => {
    const all = ((await (await pulse.fetch(`${pulse.url}/v1/runs`)).json()) as { runs: Json[] }).runs;
    const inWarehouse = await count(`SELECT count(*) AS n FROM pulse_runs`);
    assert.equal(all.length, Math.min(50, inWarehouse));
    const started = all.map((run) => String(run.started_at));
    assert.deepEqual(started, [...started].sort().reverse());
    const retries = (
      (await (await pulse.fetch(`${pulse.url}/v1/runs?trigger=retry&limit=5`)).json()) as { runs: Json[] }
    ).runs;
    assert.deepEqual(
      retries.map((run) => run.retry_of),
      [failedRun.id],
    );
  });

  it('answers bad input with a clear error naming the field', async () => {
    const cases: [string, number, string][] = [
      ['/v1/runs?limit=abc', 400, 'limit'],
      ['/v1/runs?limit=0', 400, 'limit'],
      ['/v1/runs?limit=5000', 400, 'limit'],
      ['/v1/runs?status=exploded', 400, 'status'],
      ['/v1/runs?trigger=%27%3B%20DROP%20TABLE', 400, 'trigger'],
      ['/v1/runs?colour=red', 400, 'colour'],
      ['/v1/runs/not%20an%20id', 400, 'id'],
      ['/v1/runs/00000000-0000-0000-0000-000000000000', 404, 'id'],
      ['/v1/lineage?direction=sideways&node=net_revenue', 400, 'direction'],
      ['/v1/lineage?direction=upstream', 400, 'node'],
      ['/v1/lineage?node=silver_orders.discount', 404, 'node'],
      [`/v1/lineage?node=${'x'.repeat(300)}`, 400, 'node'],
    ];
    for (const [path, status, field] of cases) {
      const response = await pulse.fetch(`${pulse.url}${path}`);
      const body = (await response.json()) as { error: { field?: string; message: string } };
      assert.equal(response.status, status, path);
      assert.equal(body.error.field, field, `${path}: ${body.error.message}`);
    }
  });

  it('serves runs and lineage to read keys only', async () => {
    const read = await pulse.keyFor('read');
    const ingest = await pulse.keyFor('ingest');
    for (const path of [
      '/v1/runs',
      `/v1/runs/${firstRun}`,
      '/v1/lineage?node=net_revenue&direction=upstream',
    ]) {
      const allowed = await fetch(`${pulse.url}${path}`, { headers: { authorization: `Bearer ${read}` } });
      assert.equal(allowed.status, 200, path);
      const denied = await fetch(`${pulse.url}${path}`, { headers: { authorization: `Bearer ${ingest}` } });
      assert.equal(denied.status, 403, path);
      assert.equal((await fetch(`${pulse.url}${path}`)).status, 401, path);
    }
  });

  it('GET /v1/lineage answers the whole graph and impact analysis', async () => {
    const whole = (await (await pulse.fetch(`${pulse.url}/v1/lineage`)).json()) as {
      nodes: { id: string }[];
      edges: unknown[];
      models: { from: string; to: string }[];
      glossary: { id: string }[];
    };
    assert.ok(whole.nodes.some((node) => node.id === 'silver_order_lines.discount'));
    assert.ok(whole.models.some((edge) => edge.from === 'bronze_events' && edge.to === 'silver_orders'));
    assert.ok(whole.models.some((edge) => edge.from === 'fact_order' && edge.to === 'net_revenue'));
    assert.ok(whole.glossary.some((term) => term.id === 'net_revenue.lines_net'));
    const impact = (await (
      await pulse.fetch(`${pulse.url}/v1/lineage?node=silver_order_lines.discount`)
    ).json()) as { nodes: { id: string }[]; direction: string };
    assert.equal(impact.direction, 'downstream');
    assert.deepEqual(
      impact.nodes.map((node) => node.id),
      ['fact_order.discount'],
    );
    const upstream = (await (
      await pulse.fetch(`${pulse.url}/v1/lineage?node=conversion_rate&direction=upstream`)
    ).json()) as { contractFields: string[] };
    // With its breakdowns by loyalty tier and segment (the customer at the session, from customer.upserted).
    assert.deepEqual(upstream.contractFields, [
      'customer.upserted.customer_id',
      'customer.upserted.effective_at',
      'customer.upserted.loyalty_tier',
      'customer.upserted.segment',
      'order.placed.channel',
      'order.placed.order_id',
      'order.placed.placed_at',
      'session.started.channel',
      'session.started.customer_id',
      'session.started.session_id',
      'session.started.started_at',
    ]);
  });
});
