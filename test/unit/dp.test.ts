import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadCatalogue, type KpiDefinition } from '../../src/kpis/index.js';
import { laplace, noiseBreakdown, secureUniform, sensitivityOf } from '../../src/privacy/dp.js';

const N = 40_000;

describe('the Laplace mechanism', () => {
  it('draws uniforms in (0, 1) from the secure source', () => {
    let sum = 0;
    for (let i = 0; i < N; i += 1) {
      const u = secureUniform();
      assert.ok(u > 0 && u < 1);
      sum += u;
    }
    // Mean of U(0,1) is ½ with standard error √(1/12)/√N ≈ 0.0014: ±0.01 is 7 standard errors.
    assert.ok(Math.abs(sum / N - 0.5) < 0.01, `mean ${sum / N}`);
  });

  for (const b of [0.5, 2, 120 / 0.5]) {
    it(`has mean 0 and mean absolute deviation b = ${b}`, () => {
      const draws = Array.from({ length: N }, () => laplace(b));
      const mean = draws.reduce((s, x) => s + x, 0) / N;
      const mad = draws.reduce((s, x) => s + Math.abs(x), 0) / N;
      // Laplace(0, b): sd of X is b√2, so the mean's standard error is b√2/√N ≈ 0.007 b; |X| is
      // exponential with mean b and sd b, so the MAD's standard error is b/√N ≈ 0.005 b.
      // ±4 % of b on the MAD is 8 standard errors, and rejects a scale off by even 10 % (b√2, 2b, b/ε mistakes).
      assert.ok(Math.abs(mean) < 0.05 * b, `mean ${mean} for b ${b}`);
      assert.ok(Math.abs(mad - b) < 0.04 * b, `mean |x| ${mad} for b ${b}`);
      // The tail: P(|X| > b) = e^-1 ≈ 0.368 (sd of the share ≈ 0.0024).
      const beyond = draws.filter((x) => Math.abs(x) > b).length / N;
      assert.ok(Math.abs(beyond - Math.exp(-1)) < 0.02, `share beyond b ${beyond}`);
      // Symmetric: as many positive as negative draws (sd of the share 0.0025).
      const positive = draws.filter((x) => x > 0).length / N;
      assert.ok(Math.abs(positive - 0.5) < 0.02, `positive share ${positive}`);
    });
  }

  it('inverts the CDF exactly: known uniforms give known draws', () => {
    // u = 0.75 → u − ½ = 0.25 → −b · ln(1 − 0.5) = b ln 2.
    assert.ok(Math.abs(laplace(3, () => 0.75) - 3 * Math.LN2) < 1e-12);
    assert.ok(Math.abs(laplace(3, () => 0.25) + 3 * Math.LN2) < 1e-12);
    assert.ok(laplace(3, () => 0.5) === 0, 'u = ½ is the median: no noise');
  });
});

describe('noised breakdowns', () => {
  const catalogue = loadCatalogue();
  const kpi = (id: string) => catalogue.kpis.find((k) => k.id === id) as KpiDefinition;

  it('derives each KPI sensitivity from its definition', () => {
    assert.deepEqual(sensitivityOf(kpi('conversion_rate')), { numerator: 1, denominator: 1 });
    // CSAT: the largest channel weight (phone, 1.2) × a score scaled to 100.
    assert.deepEqual(sensitivityOf(kpi('csat_index')), { numerator: 120, denominator: 1.2 });
    assert.throws(() => sensitivityOf(kpi('net_revenue')), /no differential-privacy sensitivity/);
  });

  it('splits ε between numerator and denominator and suppresses small noised cells', () => {
    const scales: number[] = [];
    const noise = (offset: number) => (scale: number) => {
      scales.push(scale);
      return offset;
    };
    const cells = [
      { key: 'gold', value: 0.4, numerator: 24, denominator: 60 },
      { key: 'silver', value: 0, numerator: 0, denominator: 4 },
    ];
    const { points, scale } = noiseBreakdown(kpi('conversion_rate'), cells, 0.5, 10, noise(1));
    // b = Δ / (ε/2) = 1 / 0.25 = 4 for each side.
    assert.deepEqual(scale, { numerator: 4, denominator: 4 });
    assert.deepEqual(scales, [4, 4, 4, 4]);
    assert.deepEqual(points[0], {
      key: 'gold',
      value: Math.round((25 / 61) * 1e4) / 1e4,
      numerator: 25,
      denominator: 61,
    });
    assert.deepEqual(points[1], {
      key: 'silver',
      value: null,
      numerator: null,
      denominator: null,
      suppressed: 'fewer than 10 records',
    });
    // Post-processing keeps a ratio a ratio: no negative counts, no rate above 1.
    let call = 0;
    const numeratorUp = () => (call++ % 2 === 0 ? 30 : 0); // numerator +30, denominator +0
    const wild = noiseBreakdown(
      kpi('conversion_rate'),
      [{ key: 'x', value: 1, numerator: 50, denominator: 50 }],
      0.5,
      10,
      numeratorUp,
    );
    assert.equal(wild.points[0]?.value, 1);
    assert.equal(wild.points[0]?.numerator, 80);
    const csat = noiseBreakdown(
      kpi('csat_index'),
      [{ key: 'gold', value: 80, numerator: 2400, denominator: 30 }],
      1,
      10,
      () => 0,
    );
    assert.deepEqual(csat.scale, { numerator: 240, denominator: 2.4 });
    assert.equal(csat.points[0]?.value, 80);
  });
});
