import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadCatalogue } from '../../src/kpis/index.js';
import { summableByMinute } from '../../src/kpis/live-bucket-sql.js';
import { capSpans, mergeSpans } from '../../src/kpis/bucket-tables.js';

describe('minute buckets', () => {
  it('joins touching spans and caps their number by joining the closest', () => {
    assert.deepEqual(
      mergeSpans([
        { from: 120, to: 180 },
        { from: 0, to: 60 },
        { from: 60, to: 120 },
        { from: 300, to: 360 },
      ]),
      [
        { from: 0, to: 180 },
        { from: 300, to: 360 },
      ],
    );
    // Gaps 40, 10, 100: the 10 goes first, then the 40.
    const spans = [
      { from: 0, to: 10 },
      { from: 50, to: 60 },
      { from: 70, to: 80 },
      { from: 180, to: 190 },
    ];
    assert.deepEqual(capSpans(spans, 3), [
      { from: 0, to: 10 },
      { from: 50, to: 80 },
      { from: 180, to: 190 },
    ]);
    assert.deepEqual(capSpans(spans, 2), [
      { from: 0, to: 80 },
      { from: 180, to: 190 },
    ]);
  });

  it('sums from buckets only the measures that add across minutes and read one table', () => {
    const kpis = new Map(loadCatalogue().kpis.map((kpi) => [kpi.id, kpi]));
    const net = kpis.get('net_revenue')!.numerator!;
    assert.equal(summableByMinute(net, net.sql), true);
    assert.equal(
      summableByMinute(net, net.sql_by!.category!),
      false,
      'refunds split by joining the order lines',
    );
    const conversion = kpis.get('conversion_rate')!;
    assert.equal(summableByMinute(conversion.numerator!, conversion.numerator!.sql), true);
    assert.equal(summableByMinute(conversion.denominator!, conversion.denominator!.sql), true);
    const returns = kpis.get('return_rate')!;
    // An order's returns can fall in several minutes: its distinct count does not add up.
    assert.equal(summableByMinute(returns.numerator!, returns.numerator!.sql), false);
    assert.equal(
      summableByMinute({ ...returns.numerator!, one_time_per_key: true }, returns.numerator!.sql),
      true,
    );
  });
});
