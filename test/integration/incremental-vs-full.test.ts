import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { generateEvents } from '../../src/generator/index.js';
import { Random } from '../../src/generator/index.js';
import { loadCatalogue } from '../../src/kpis/index.js';
import { startTestPulse, type TestPulse } from '../support/pulse.js';

const FROM = new Date('2026-03-01T00:00:00Z');
const WINDOW_FROM = new Date('2026-03-07T00:00:00Z');
const TO = new Date('2026-03-11T00:00:00Z');
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

/**
 * The incremental path (many small runs over batches that arrive out of order, with late,
 * duplicate and invalid events, late FX rates and late dimension versions) must end exactly where
 * a full rebuild over the same bronze ends: the same gold rows and the same KPI answers.
 */
describe('incremental refresh agrees with the full rebuild', () => {
  let pulse: TestPulse;
  const answers: Record<string, unknown> = {};

  before(async () => {
    pulse = await startTestPulse();
    const events = [
      ...generateEvents(FROM, TO, {
        seed: 7,
        ordersPerDay: 400,
        lateShare: 0.02,
        duplicateShare: 0.01,
        invalidShare: 0.005,
      }),
    ];
    const chunks: unknown[][] = [];
    for (let i = 0; i < events.length; i += 5000) chunks.push(events.slice(i, i + 5000));
    // Shuffle whole chunks: orders arrive before their FX rate and product versions, statuses before orders.
    const random = new Random(11);
    for (let i = chunks.length - 1; i > 0; i -= 1) {
      const j = random.int(0, i);
      [chunks[i], chunks[j]] = [chunks[j] as unknown[], chunks[i] as unknown[]];
    }
    for (const chunk of chunks) {
      await pulse.deliver(
        chunk.map((value) => ({ kind: 'value', value })),
        { sourceKind: 'test' },
      );
      await pulse.refresh();
    }
  });
  after(async () => pulse?.dispose());

  async function everyAnswer(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const window = `from=${WINDOW_FROM.toISOString()}&to=${TO.toISOString()}`;
    for (const kpi of loadCatalogue().kpis) {
      for (const extra of ['', ...kpi.dimensions.map((d) => `&by=${d}`), '&series=hour']) {
        const response = await pulse.fetch(`${pulse.url}/v1/kpis/${kpi.id}?${window}${extra}`);
        assert.equal(response.status, 200, `${kpi.id}${extra}`);
        const { lag_ms: _lag, ...answer } = (await response.json()) as Record<string, unknown>;
        out[`${kpi.id}${extra}`] = answer;
      }
    }
    return out;
  }

  it('has data in every KPI, so the comparison means something', async () => {
    Object.assign(answers, await everyAnswer());
    for (const id of [
      'net_revenue',
      'conversion_rate',
      'fulfilment_sla',
      'return_rate',
      'csat_index',
      'inventory_risk',
    ]) {
      const answer = answers[id] as { value: unknown; numerator: unknown };
      assert.ok(answer.value !== null && answer.value !== '0.00' && answer.numerator !== 0, `${id} is empty`);
    }
  });

  it('gives the same gold rows and the same KPI answers after a full rebuild', async () => {
    for (const table of GOLD)
      await pulse.sql(`CREATE TABLE snap_${table} AS SELECT * EXCLUDE (_updated_seq) FROM ${table}`);
    const result = await pulse.rebuild();
    assert.equal(result.status, 'success');
    for (const table of GOLD) {
      const [diff] = await pulse.sql(`
        SELECT (SELECT count(*) FROM (SELECT * EXCLUDE (_updated_seq) FROM ${table} EXCEPT ALL SELECT * FROM snap_${table}))::INTEGER AS extra,
               (SELECT count(*) FROM (SELECT * FROM snap_${table} EXCEPT ALL SELECT * EXCLUDE (_updated_seq) FROM ${table}))::INTEGER AS missing,
               (SELECT count(*) FROM ${table})::INTEGER AS n`);
      assert.deepEqual(
        { extra: diff?.extra, missing: diff?.missing },
        { extra: 0, missing: 0 },
        `${table} differs (${String(diff?.n)} rows)`,
      );
      assert.ok(Number(diff?.n) > 0, `${table} is empty`);
    }
    assert.deepEqual(await everyAnswer(), answers);
  });
});
