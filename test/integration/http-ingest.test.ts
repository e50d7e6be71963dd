import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const BATCH = 'application/cloudevents-batch+json';
const WINDOW = 'from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z';

describe('POST /v1/events', () => {
  let pulse: TestPulse;
  before(async () => {
    pulse = await startTestPulse({ bodyLimitBytes: 64 * 1024, maxBatchEvents: 50 });
  });
  after(async () => pulse.dispose());

  async function bronzeCount(): Promise<number> {
    return Number((await pulse.sql('SELECT count(*)::INTEGER AS n FROM bronze_events'))[0]?.n);
  }

  it('refuses malformed JSON with 400 naming the body, storing nothing', async () => {
    const before = await bronzeCount();
    const { status, body } = await pulse.post('[{"specversion": "1.0", ', BATCH);
    assert.equal(status, 400);
    assert.deepEqual(Object.keys(body), ['error']);
    const error = body.error as Record<string, string>;
    assert.equal(error.code, 'PULSE_ERR_MALFORMED_BODY');
    assert.equal(error.field, '(body)');
    assert.match(String(error.message), /not valid JSON/);
    assert.equal(await bronzeCount(), before);
  });

  it('refuses a wrong content type with 415', async () => {
    const { status, body } = await pulse.post(JSON.stringify(orderEvent()), 'text/plain');
    assert.equal(status, 415);
    assert.equal((body.error as Record<string, string>).code, 'PULSE_ERR_UNSUPPORTED_MEDIA_TYPE');
    assert.equal((body.error as Record<string, string>).field, 'content-type');
  });

  it('refuses an oversized body with 413', async () => {
    const big = JSON.stringify([{ ...orderEvent(), padding: 'x'.repeat(70 * 1024) }]);
    const { status, body } = await pulse.post(big, BATCH);
    assert.equal(status, 413);
    assert.equal((body.error as Record<string, string>).code, 'PULSE_ERR_BODY_TOO_LARGE');
  });

  it('refuses a batch over the event limit with 413, and a non-array batch with 400', async () => {
    const tooMany = JSON.stringify(Array.from({ length: 51 }, () => orderEvent()));
    const over = await pulse.post(tooMany, BATCH);
    assert.equal(over.status, 413);
    assert.equal((over.body.error as Record<string, string>).code, 'PULSE_ERR_BATCH_TOO_LARGE');
    const notArray = await pulse.post(JSON.stringify(orderEvent()), BATCH);
    assert.equal(notArray.status, 400);
    assert.equal((notArray.body.error as Record<string, string>).code, 'PULSE_ERR_BATCH_NOT_ARRAY');
    const empty = await pulse.post('   ', BATCH);
    assert.equal(empty.status, 400);
  });

  it('keeps the good events of a mixed batch and quarantines the bad one with rule and field', async () => {
    const good1 = orderEvent({ orderId: 'MIX-1', unitPrice: 100 });
    const bad = orderEvent({ orderId: 'MIX-2', quantity: 0 });
    const good2 = orderEvent({ orderId: 'MIX-3', unitPrice: 50 });
    const { status, body } = await pulse.post(JSON.stringify([good1, bad, good2]), BATCH);
    assert.equal(status, 200);
    assert.equal(body.accepted, 2);
    assert.equal(body.duplicates, 0);
    assert.equal(body.quarantined, 1);
    const [quarantined] = body.quarantined_events as Record<string, unknown>[];
    assert.equal(quarantined?.index, 1);
    assert.equal(quarantined?.id, 'evt-MIX-2');
    assert.equal(quarantined?.field, 'data.lines[0].quantity');
    assert.equal(quarantined?.rule, 'minimum');
    const stored = await pulse.sql(
      `SELECT event_id FROM bronze_events WHERE event_id LIKE 'evt-MIX-%' ORDER BY 1`,
    );
    assert.deepEqual(
      stored.map((row) => row.event_id),
      ['evt-MIX-1', 'evt-MIX-3'],
    );
    const rows = await pulse.sql(
      `SELECT rule, field, event_type FROM quarantine WHERE event_id = 'evt-MIX-2'`,
    );
    assert.deepEqual(rows, [
      { rule: 'minimum', field: 'data.lines[0].quantity', event_type: 'order.placed' },
    ]);
  });

  it('answers 422 when every event fails its contract, and still quarantines them', async () => {
    const bad = orderEvent({ orderId: 'ALLBAD' });
    (bad.data as Record<string, unknown>).currency = 'EURO';
    const { status, body } = await pulse.post(JSON.stringify(bad), 'application/cloudevents+json');
    assert.equal(status, 422);
    assert.equal(body.quarantined, 1);
    assert.equal((body.quarantined_events as Record<string, unknown>[])[0]?.field, 'data.currency');
    const rows = await pulse.sql(
      `SELECT count(*)::INTEGER AS n FROM quarantine WHERE event_id = 'evt-ALLBAD'`,
    );
    assert.equal(rows[0]?.n, 1);
  });

  it('takes NDJSON, quarantining a line that is not JSON and keeping the others', async () => {
    const lines = [
      JSON.stringify(orderEvent({ orderId: 'ND-1' })),
      '{"broken": ',
      '',
      JSON.stringify(orderEvent({ orderId: 'ND-2' })),
    ];
    const { status, body } = await pulse.post(lines.join('\n'), 'application/x-ndjson');
    assert.equal(status, 200);
    assert.equal(body.accepted, 2);
    assert.equal(body.quarantined, 1);
    const [bad] = body.quarantined_events as Record<string, unknown>[];
    assert.equal(bad?.rule, 'json');
    assert.equal(bad?.index, 1);
    assert.match(String(bad?.message), /line 2/);
  });

  it('counts a batch sent twice as duplicates and leaves the KPIs unchanged', async () => {
    const batch = JSON.stringify([
      orderEvent({ orderId: 'TWICE-1', unitPrice: 7.77 }),
      orderEvent({ orderId: 'TWICE-2', unitPrice: 3.33 }),
    ]);
    const first = await pulse.post(batch, BATCH);
    assert.deepEqual([first.body.accepted, first.body.duplicates], [2, 0]);
    await pulse.refresh();
    const kpiBefore = (await (await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${WINDOW}`)).json()) as {
      value: string;
    };
    // Orders accepted so far in this file, each line net = 2 × unit_price − 2 (tax): MIX-1 198.00,
    // MIX-3 98.00, ND-1 18.00, ND-2 18.00, TWICE-1 13.54, TWICE-2 4.66 → 350.20.
    assert.equal(kpiBefore.value, '350.20');
    const second = await pulse.post(batch, BATCH);
    assert.equal(second.status, 200);
    assert.deepEqual([second.body.accepted, second.body.duplicates, second.body.quarantined], [0, 2, 0]);
    await pulse.refresh();
    const kpiAfter = (await (await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${WINDOW}`)).json()) as {
      value: string;
    };
    assert.equal(kpiAfter.value, kpiBefore.value);
    const rows = await pulse.sql(
      `SELECT count(*)::INTEGER AS n FROM fact_order WHERE order_id LIKE 'TWICE-%'`,
    );
    assert.equal(rows[0]?.n, 2);
  });

  it('never lets email, name, phone or customer_id reach the warehouse', async () => {
    const good = orderEvent({ orderId: 'PII-1' });
    const bad = orderEvent({ orderId: 'PII-2', quantity: -1 });
    await pulse.post(JSON.stringify([good, bad]), BATCH);
    await pulse.refresh();
    const bronze = await pulse.sql(`SELECT data FROM bronze_events WHERE event_id = 'evt-PII-1'`);
    const data = JSON.parse(String(bronze[0]?.data)) as Record<string, unknown>;
    assert.equal(data.email, undefined);
    assert.equal(data.name, undefined);
    assert.equal(data.phone, undefined);
    assert.equal(data.customer_id, undefined);
    assert.match(String(data.customer_token), /^[0-9a-f]{32}$/);
    const quarantined = await pulse.sql(`SELECT payload FROM quarantine WHERE event_id = 'evt-PII-2'`);
    const everything = JSON.stringify([
      bronze,
      quarantined,
      await pulse.sql('SELECT * FROM fact_order'),
      await pulse.sql('SELECT * FROM silver_orders'),
    ]);
    for (const secret of ['jane.doe@example.com', 'Jane Doe', '+33 6 12 34 56 78', 'C-42']) {
      assert.ok(!everything.includes(secret), `${secret} reached the warehouse`);
    }
  });

  it('answers an unknown KPI with 404 and a bad window with 400 naming the parameter', async () => {
    const unknown = await pulse.fetch(`${pulse.url}/v1/kpis/gross_margin`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'PULSE_ERR_UNKNOWN_KPI');
    const badFrom = await pulse.fetch(
      `${pulse.url}/v1/kpis/net_revenue?from=yesterday&to=2026-03-11T00:00:00Z`,
    );
    assert.equal(badFrom.status, 400);
    assert.equal(((await badFrom.json()) as { error: { field: string } }).error.field, 'from');
    const badWindow = await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?window=week`);
    assert.equal(badWindow.status, 400);
    const unknownParam = await pulse.fetch(`${pulse.url}/v1/kpis?colour=red`);
    assert.equal(unknownParam.status, 400);
  });

  it('serves every KPI, the OpenAPI document and health', async () => {
    const all = (await (await pulse.fetch(`${pulse.url}/v1/kpis?${WINDOW}`)).json()) as {
      kpis: { id: string; unit: string; definition_version: number }[];
    };
    assert.deepEqual(
      all.kpis.map((kpi) => kpi.id),
      ['net_revenue', 'conversion_rate', 'fulfilment_sla', 'return_rate', 'csat_index', 'inventory_risk'],
    );
    assert.ok(all.kpis.every((kpi) => kpi.definition_version === 1 && kpi.unit.length > 0));
    const openapi = (await (await pulse.fetch(`${pulse.url}/docs/json`)).json()) as {
      paths: Record<string, unknown>;
    };
    assert.ok(openapi.paths['/v1/events']);
    assert.ok(openapi.paths['/v1/kpis/{id}']);
    assert.equal((await pulse.fetch(`${pulse.url}/healthz`)).status, 200);
    assert.equal((await pulse.fetch(`${pulse.url}/readyz`)).status, 200);
  });
});
