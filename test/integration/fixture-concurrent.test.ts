import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Random } from '../../src/generator/index.js';
import { loadCatalogue } from '../../src/kpis/index.js';
import {
  INVALID_EVENT_ID,
  REQUEST_1_BATCH,
  REQUEST_2_NDJSON,
  REQUEST_3_BATCH,
  REQUEST_4_SINGLE,
  WINDOW,
} from '../fixtures/kpi-fixture.js';
import { startTestPulse, type TestPulse } from '../support/pulse.js';

/**
 * The hand-computed fixture again, but posted the way a busy system would: shuffled, in many
 * small concurrent batches (some events twice), with refreshes racing the posts. The KPIs must be
 * the hand-computed ones, and exactly those of a full rebuild.
 */
describe('the fixture posted in small concurrent shuffled batches', () => {
  let pulse: TestPulse;
  const window = `from=${WINDOW.from}&to=${WINDOW.to}`;

  async function everyAnswer(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const kpi of loadCatalogue().kpis) {
      for (const by of ['', ...kpi.dimensions.map((d) => `&by=${d}`)]) {
        const { lag_ms: _lag, ...answer } = (await (
          await pulse.fetch(`${pulse.url}/v1/kpis/${kpi.id}?${window}${by}`)
        ).json()) as Record<string, unknown>;
        out[`${kpi.id}${by}`] = answer;
      }
    }
    return out;
  }

  before(async () => {
    pulse = await startTestPulse({ refreshDebounceMs: 1 });
    const random = new Random(2026);
    // First version of each id only: the fixture resends evt-order-O-102 with altered data, which
    // must lose to the first version; shuffled, it could arrive first (that case is the sequential test's).
    const sequence = [...REQUEST_1_BATCH, ...REQUEST_2_NDJSON, ...REQUEST_3_BATCH, REQUEST_4_SINGLE];
    const events = sequence.filter((event, i) => sequence.findIndex((e) => e.id === event.id) === i);
    const resent = events.filter(() => random.next() < 0.2);
    const all = [...events, ...resent];
    for (let i = all.length - 1; i > 0; i -= 1) {
      const j = random.int(0, i);
      [all[i], all[j]] = [all[j] as (typeof all)[number], all[i] as (typeof all)[number]];
    }
    const batches: (typeof all)[] = [];
    for (let i = 0; i < all.length;) {
      const size = random.int(1, 5);
      batches.push(all.slice(i, i + size));
      i += size;
    }
    const answers = await Promise.all(
      batches.map(async (batch, i) => {
        if (i % 7 === 0) void pulse.refresh();
        const ndjson = i % 2 === 0;
        const body = ndjson ? batch.map((e) => JSON.stringify(e)).join('\n') : JSON.stringify(batch);
        return pulse.post(body, ndjson ? 'application/x-ndjson' : 'application/cloudevents-batch+json');
      }),
    );
    assert.ok(
      answers.every((a) => a.status === 200 || a.status === 422),
      'every batch was taken',
    );
    const accepted = answers.reduce((n, a) => n + Number(a.body.accepted ?? 0), 0);
    const quarantined = answers.reduce((n, a) => n + Number(a.body.quarantined ?? 0), 0);
    const duplicates = answers.reduce((n, a) => n + Number(a.body.duplicates ?? 0), 0);
    // Every valid id stored exactly once; the one invalid event (O-111) quarantined each time it came.
    assert.equal(accepted + quarantined + duplicates, all.length);
    assert.equal(accepted, events.length - 1);
    assert.equal(quarantined, all.filter((e) => e.id === INVALID_EVENT_ID).length);
    await pulse.refresh();
  });
  after(async () => pulse?.dispose());

  it('serves the hand-computed values', async () => {
    const get = async (id: string) =>
      (await (await pulse.fetch(`${pulse.url}/v1/kpis/${id}?${window}`)).json()) as Record<string, unknown>;
    assert.equal((await get('net_revenue')).value, '901.87');
    assert.deepEqual(
      [(await get('conversion_rate')).numerator, (await get('conversion_rate')).denominator],
      [10, 15],
    );
    assert.deepEqual(
      [(await get('fulfilment_sla')).numerator, (await get('fulfilment_sla')).denominator],
      [3, 6],
    );
    assert.deepEqual([(await get('return_rate')).numerator, (await get('return_rate')).denominator], [3, 7]);
    assert.equal((await get('csat_index')).value, 62.5);
    assert.equal((await get('inventory_risk')).value, 2);
  });

  it('serves exactly what a full rebuild serves, for every KPI and breakdown', async () => {
    const incremental = await everyAnswer();
    await pulse.rebuild();
    assert.deepEqual(await everyAnswer(), incremental);
  });
});
