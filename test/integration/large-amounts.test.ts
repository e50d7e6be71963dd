import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const NOW = new Date('2026-03-10T12:00:00Z');

describe('large amounts', () => {
  let pulse: TestPulse;
  before(async () => {
    pulse = await startTestPulse({ now: () => NOW, refreshDebounceMs: 10 });
  });
  after(() => pulse?.dispose());

  it('convert exactly and never stop the refresh (a 2,000,000,000.00 EUR line, a GBP refund)', async () => {
    const fx = {
      specversion: '1.0',
      id: 'evt-fx-gbp',
      source: '/fx',
      type: 'fx.rate',
      time: '2026-03-10T09:00:00Z',
      data: { currency: 'GBP', hour: '2026-03-10T10:00:00Z', rate_to_eur: 1.1734567891 },
    };
    const big = orderEvent({
      orderId: 'BIG-1',
      placedAt: '2026-03-10T10:00:00Z',
      quantity: 1,
      unitPrice: 2_000_000_000,
    });
    const gbp = orderEvent({
      orderId: 'GBP-1',
      placedAt: '2026-03-10T10:00:00Z',
      quantity: 3,
      unitPrice: 333_333_333.33,
    });
    const body = [fx, big, { ...gbp, data: { ...gbp.data, currency: 'GBP' } }]
      .map((e) => JSON.stringify(e))
      .join('\n');
    const posted = await pulse.post(body, 'application/x-ndjson');
    assert.equal(posted.body.accepted, 3, JSON.stringify(posted.body));
    await pulse.refresh();
    // The runs that took these events in succeeded: nothing stuck behind a failing run.
    const runs = await pulse.sql(`SELECT status FROM pulse_runs ORDER BY started_at`);
    assert.ok(runs.length > 0 && runs.every((run) => run.status === 'success'), JSON.stringify(runs));
    const answer = (await (await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?window=today`)).json()) as {
      value: string;
    };
    // By hand: 2,000,000,000 − 2 tax = 1,999,999,998.00 EUR; the GBP line (3 × 333,333,333.33 − 2 tax)
    // = 999,999,997.99 GBP × 1.1734567891, rounded half up to the cent once, on the answer.
    const gbpProduct = 99_999_999_799n * 11_734_567_891n; // in 1e-12 EUR
    const expectedCents = 199_999_999_800n + (gbpProduct + 5n * 10n ** 9n) / 10n ** 10n;
    const [units, cents] = answer.value.split('.');
    assert.equal(BigInt(units!) * 100n + BigInt(cents!), expectedCents);
  });
});
