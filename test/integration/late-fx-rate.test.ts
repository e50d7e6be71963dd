import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const NOW = new Date('2026-03-10T12:00:00Z');

/** A GBP order of two lines: 3 × 10.00 − 1.00 tax = 29.00 and 1 × 7.50 − 0.50 tax = 7.00 GBP. */
function gbpOrder(orderId: string, placedAt: string) {
  const event = orderEvent({ orderId, placedAt });
  return {
    ...event,
    data: {
      ...event.data,
      currency: 'GBP',
      lines: [
        { line_no: 1, sku: 'SKU-1', quantity: 3, unit_price: 10, discount: 0, tax: 1 },
        { line_no: 2, sku: 'SKU-2', quantity: 1, unit_price: 7.5, discount: 0, tax: 0.5 },
      ],
    },
  };
}

/**
 * An order converted before its hour's FX rate arrived is converted again when it does, in the
 * same run as new orders: the old lines are replaced (not kept beside their new version), while
 * the new events' lines go in without being looked for in the table (`new_keys_from: _seq`).
 */
describe('a late FX rate', () => {
  let pulse: TestPulse;
  before(async () => {
    // Runs happen when the test asks (refresh), never on the debounce timer in between.
    pulse = await startTestPulse({ now: () => NOW, refreshDebounceMs: 3_600_000 });
  });
  after(() => pulse?.dispose());

  const lines = (orderId: string) =>
    pulse.sql(
      `SELECT line_no, net::VARCHAR AS net, rate_to_eur::VARCHAR AS rate, net_eur::VARCHAR AS net_eur
       FROM silver_order_lines WHERE order_id = '${orderId}' ORDER BY line_no`,
    );

  it('converts the earlier lines again, once each, beside the new ones', async () => {
    const first = await pulse.post(
      JSON.stringify(gbpOrder('GBP-A', '2026-03-10T10:05:00Z')),
      'application/x-ndjson',
    );
    assert.equal(first.body.accepted, 1, JSON.stringify(first.body));
    await pulse.refresh();
    assert.deepEqual(await lines('GBP-A'), [
      { line_no: 1, net: '29.00', rate: null, net_eur: null },
      { line_no: 2, net: '7.00', rate: null, net_eur: null },
    ]);

    const rate = {
      specversion: '1.0',
      id: 'evt-fx-gbp-10',
      source: '/fx',
      type: 'fx.rate',
      time: '2026-03-10T10:59:00Z',
      data: { currency: 'GBP', hour: '2026-03-10T10:00:00Z', rate_to_eur: 1.25 },
    };
    const body = [rate, gbpOrder('GBP-B', '2026-03-10T10:30:00Z')].map((e) => JSON.stringify(e)).join('\n');
    const second = await pulse.post(body, 'application/x-ndjson');
    assert.equal(second.body.accepted, 2, JSON.stringify(second.body));
    await pulse.refresh();
    // By hand: 29.00 × 1.25 = 36.25 and 7.00 × 1.25 = 8.75 EUR.
    const converted = [
      { line_no: 1, net: '29.00', rate: '1.2500000000', net_eur: '36.250000000000' },
      { line_no: 2, net: '7.00', rate: '1.2500000000', net_eur: '8.750000000000' },
    ];
    assert.deepEqual(await lines('GBP-A'), converted);
    assert.deepEqual(await lines('GBP-B'), converted);
    const gold = await pulse.sql(
      `SELECT order_id, count(*)::INTEGER AS n, sum(net_eur)::VARCHAR AS net_eur FROM fact_order GROUP BY order_id ORDER BY order_id`,
    );
    assert.deepEqual(gold, [
      { order_id: 'GBP-A', n: 2, net_eur: '45.000000000000' },
      { order_id: 'GBP-B', n: 2, net_eur: '45.000000000000' },
    ]);
  });
});
