import { getRandomValues } from 'node:crypto';
import type { KpiAnswer, KpiDefinition, KpiPoint } from '../kpis/index.js';

/**
 * A uniform double in the open interval (0, 1) from the operating system's CSPRNG: 53 random bits
 * (the whole mantissa), zero redrawn. Math.random is predictable and would let noise be subtracted.
 */
export function secureUniform(): number {
  const words = new Uint32Array(2);
  for (;;) {
    getRandomValues(words);
    const value = ((words[0] as number) * 2 ** 21 + ((words[1] as number) >>> 11)) / 2 ** 53;
    if (value > 0) return value;
  }
}

/** One draw of Laplace(0, scale), by inverting its CDF on a uniform in (−½, ½). */
export function laplace(scale: number, uniform: () => number = secureUniform): number {
  const u = uniform() - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

/**
 * How much one record (one order, one session, one support case) can move each side of a KPI.
 * Counts move by 1; CSAT's weighted sum by the largest channel weight × 100 (a score of 5 scaled
 * to 100), its weighted count by the largest weight.
 */
export function sensitivityOf(kpi: KpiDefinition): { numerator: number; denominator: number } {
  if (kpi.numerator?.aggregate === 'count_distinct' && kpi.denominator?.aggregate === 'count_distinct')
    return { numerator: 1, denominator: 1 };
  if (kpi.kind === 'index' && kpi.weights) {
    const weight = Math.max(...Object.values(kpi.weights));
    return { numerator: weight * 100, denominator: weight };
  }
  throw new Error(`${kpi.id}: no differential-privacy sensitivity is defined for its measures`);
}

/** What the answer says about the privacy it was given. */
export type PrivacyNote =
  | {
      readonly mechanism: 'laplace';
      readonly epsilon: number;
      readonly sensitivity: { readonly numerator: number; readonly denominator: number };
      readonly scale: { readonly numerator: number; readonly denominator: number };
      readonly min_cell_count: number;
      readonly remaining_budget: number;
      readonly budget_resets_at: string;
    }
  | { readonly mechanism: 'none'; readonly reason: string };

export type NoisedPoint = KpiPoint & { readonly suppressed?: string };

/**
 * The breakdown of a ratio KPI with Laplace noise on each cell's numerator and denominator, ε/2
 * each (sequential composition); the cells partition the records, so one query spends ε in all
 * (parallel composition). A cell whose noised denominator is under `minCellCount` is suppressed:
 * deciding on the noised count keeps the suppression itself private. The total stays exact: it is
 * not a customer breakdown and every reader gets it from GET /v1/kpis/{id} anyway.
 */
export function noiseBreakdown(
  kpi: KpiDefinition,
  breakdown: readonly KpiPoint[],
  epsilon: number,
  minCellCount: number,
  draw: (scale: number) => number = laplace,
): {
  points: NoisedPoint[];
  sensitivity: { numerator: number; denominator: number };
  scale: { numerator: number; denominator: number };
} {
  const sensitivity = sensitivityOf(kpi);
  const scale = {
    numerator: sensitivity.numerator / (epsilon / 2),
    denominator: sensitivity.denominator / (epsilon / 2),
  };
  const upper = kpi.kind === 'index' ? 100 : 1;
  const points = breakdown.map((point): NoisedPoint => {
    const numerator = Math.max(0, Number(point.numerator ?? 0) + draw(scale.numerator));
    const denominator = Number(point.denominator ?? 0) + draw(scale.denominator);
    if (denominator < minCellCount)
      return {
        key: point.key ?? null,
        value: null,
        numerator: null,
        denominator: null,
        suppressed: `fewer than ${minCellCount} records`,
      };
    const value = Math.min(upper, numerator / denominator);
    return {
      key: point.key ?? null,
      value: round(value, 4),
      numerator: round(numerator, kpi.kind === 'index' ? 1 : 0),
      denominator: round(denominator, kpi.kind === 'index' ? 1 : 0),
    };
  });
  return { points, sensitivity, scale };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export type { KpiAnswer };
