import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { LiveValue } from '../../src/kpis/index.js';
import type { QualityEvent } from '../../src/quality/index.js';
import { livePayload } from '../../src/serve/live-payload.js';
import { fxRate, order } from '../support/quality.js';
import { startTestPulse, type TestPulse } from '../support/pulse.js';

const RANGE = 'from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z';
const RULE = 'silver_fx_rates.rate_to_eur.range';

interface Answer {
  value: string | number | null;
  quality: string;
  quality_hold?: { rules: { rule: string; table: string; failed: number }[] };
}

describe('publish gate: a KPI is held while an error rule fails on its inputs', () => {
  let pulse: TestPulse;
  const alerts: QualityEvent[] = [];
  const pushed: LiveValue[] = [];

  before(async () => {
    // The live values follow a clock pinned inside the business day of the events.
    pulse = await startTestPulse({ now: () => new Date('2026-03-10T15:00:00Z') });
    pulse.quality.alerts.subscribe((event) => alerts.push(event));
    pulse.live.subscribe((changed) =>
      pushed.push(...changed.filter((v) => v.id === 'net_revenue' && v.by === null)),
    );
  });
  after(async () => pulse?.dispose());

  const post = async (events: unknown[]) => {
    const posted = await pulse.post(JSON.stringify(events), 'application/cloudevents-batch+json');
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    await pulse.refresh();
  };
  const live = async (): Promise<Answer> =>
    (await (await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?window=today`)).json()) as Answer;
  const ranged = async (): Promise<Answer> =>
    (await (await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${RANGE}`)).json()) as Answer;

  it('publishes while the data is good', async () => {
    // 100 GBP at 1.2 (rate of 09:00) + 50 EUR = 170.00 EUR
    await post([
      fxRate('GBP', '2026-03-10T09:00:00Z', 1.2),
      order('G-1', { currency: 'GBP', placedAt: '2026-03-10T09:15:00Z', unitPrice: 100 }),
      order('G-2', { placedAt: '2026-03-10T09:30:00Z', unitPrice: 50 }),
    ]);
    assert.deepEqual([(await live()).value, (await live()).quality], ['170.00', 'ok']);
    assert.deepEqual([(await ranged()).value, (await ranged()).quality], ['170.00', 'ok']);
  });

  it('holds the last good value, naming the rule, when a rate rounds to zero', async () => {
    // 1e-11 passes the contract (> 0) but is 0 in DECIMAL(18, 10): every GBP amount of 10:00 would be 0.
    // Without the gate the value would be 170 + 10 × 0 + 30 = 200.00.
    await post([
      fxRate('GBP', '2026-03-10T10:00:00Z', 0.00000000001),
      order('G-3', { currency: 'GBP', placedAt: '2026-03-10T10:30:00Z', unitPrice: 10 }),
      order('G-4', { placedAt: '2026-03-10T10:40:00Z', unitPrice: 30 }),
    ]);
    for (const answer of [await live(), await ranged()]) {
      assert.equal(answer.value, '170.00');
      assert.equal(answer.quality, 'held');
      assert.deepEqual(answer.quality_hold?.rules, [{ rule: RULE, table: 'silver_fx_rates', failed: 1 }]);
    }
    // Conversion reads fact_order too (which reads the rates): held as well, and so is CSAT, whose
    // breakdown by loyalty tier reads the orders' customers; Fulfilment SLA reads shipments only.
    const all = (await (await pulse.fetch(`${pulse.url}/v1/kpis?window=today`)).json()) as {
      kpis: (Answer & { id: string })[];
    };
    const byId = new Map(all.kpis.map((k) => [k.id, k.quality]));
    assert.equal(byId.get('conversion_rate'), 'held');
    assert.equal(byId.get('csat_index'), 'held');
    assert.equal(byId.get('fulfilment_sla'), 'ok');
    // The push carries the hold too.
    const last = pushed[pushed.length - 1] as LiveValue;
    const payload = livePayload(last, 0);
    assert.equal(payload.quality, 'held');
    assert.equal(payload.value, '170.00');
    // An alert for the rule and one for the KPI, also stored.
    assert.ok(alerts.some((a) => a.kind === 'rule_failed' && a.rule === RULE && a.severity === 'error'));
    assert.ok(alerts.some((a) => a.kind === 'kpi_held' && a.kpi === 'net_revenue' && a.rule === RULE));
    const stored = await pulse.sql(
      `SELECT kind FROM quality_events WHERE kpi_id = 'net_revenue' ORDER BY raised_at`,
    );
    assert.deepEqual(
      stored.map((r) => r.kind),
      ['kpi_held'],
    );
  });

  it('releases the KPI when a corrected rate arrives, with the new number', async () => {
    // The corrected 10:00 rate (1.1) replaces the bad one: 170 + 10 × 1.1 + 30 = 211.00
    await post([fxRate('GBP', '2026-03-10T10:00:00Z', 1.1, 'evt-fx-GBP-10-corrected')]);
    for (const answer of [await live(), await ranged()]) {
      assert.equal(answer.value, '211.00');
      assert.equal(answer.quality, 'ok');
      assert.equal(answer.quality_hold, undefined);
    }
    assert.ok(alerts.some((a) => a.kind === 'kpi_released' && a.kpi === 'net_revenue'));
    assert.ok(alerts.some((a) => a.kind === 'rule_recovered' && a.rule === RULE));
    const quality = (await (await pulse.fetch(`${pulse.url}/v1/quality`)).json()) as { holds: object };
    assert.deepEqual(quality.holds, {});
  });
});

describe('quality switched off', () => {
  let pulse: TestPulse;
  before(async () => {
    pulse = await startTestPulse({ now: () => new Date('2026-03-10T15:00:00Z'), qualityEnabled: false });
  });
  after(async () => pulse?.dispose());

  it('publishes every value and reports the rules as disabled', async () => {
    await pulse.post(
      JSON.stringify([
        fxRate('GBP', '2026-03-10T10:00:00Z', 0.00000000001),
        order('G-3', { currency: 'GBP', placedAt: '2026-03-10T10:30:00Z', unitPrice: 10 }),
      ]),
      'application/cloudevents-batch+json',
    );
    await pulse.refresh();
    const answer = (await (
      await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?window=today`)
    ).json()) as Answer;
    assert.deepEqual([answer.value, answer.quality], ['0.00', 'ok']);
    const quality = (await (await pulse.fetch(`${pulse.url}/v1/quality`)).json()) as { enabled: boolean };
    assert.equal(quality.enabled, false);
  });
});
