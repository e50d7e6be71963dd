import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { seasonalNaive } from '../../src/kpis/index.js';

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

describe('seasonal-naive forecast', () => {
  it('repeats the last season and widens the band by √(seasons ahead), by hand', () => {
    // Season 4: the last season is [2, 3, 5, 4]. Seasonal differences y_t − y_{t−4}: 1, 1, 2, 0;
    // σ = √((1 + 1 + 4 + 0) / 4) = √1.5 = 1.2247448714; 80 % band: ±1.2816 σ = ±1.5696330274 one
    // season ahead, ±1.2816 σ √2 = ±1.2816 √3 = ±2.2197963150 two seasons ahead.
    const { values, sigma } = seasonalNaive([1, 2, 3, 4, 2, 3, 5, 4], 4, 6);
    close(sigma as number, 1.2247448714);
    assert.deepEqual(
      values.map((v) => v.value),
      [2, 3, 5, 4, 2, 3],
    );
    close(values[0]!.upper - values[0]!.value, 1.5696330274);
    close(values[3]!.value - values[3]!.lower, 1.5696330274);
    close(values[4]!.upper - values[4]!.value, 2.219796315);
    close(values[5]!.lower, 3 - 2.219796315);
  });

  it('skips missing buckets in σ and has no forecast without a full season', () => {
    // Differences where both ends are known: t=2: 5 − 3 = 2 only; σ = 2. Null in the last season reads 0.
    const { values, sigma } = seasonalNaive([3, null, 5, null], 2, 2);
    assert.equal(sigma, 2);
    assert.deepEqual(values, [
      { value: 5, lower: 5 - 1.2816 * 2, upper: 5 + 1.2816 * 2 },
      { value: 0, lower: -1.2816 * 2, upper: 1.2816 * 2 },
    ]);
    assert.deepEqual(seasonalNaive([1, 2], 3, 4), { values: [], sigma: null });
    assert.throws(() => seasonalNaive([1, 2], 0, 1), /season/);
  });
});
