import type { KpiAnswer, KpiDefinition, KpiEngine, KpiPoint, LiveKpis } from '../kpis/index.js';
import type { Contributor } from './notice.js';
import type { AlertRule } from './rules.js';

const TOP = 3;
const WEEK_MS = 7 * 24 * 3_600_000;

/**
 * The dimension values that pushed the KPI over its bound, most first. A slice's impact is in the
 * KPI's own terms: for a rate, how many units it is short of the bound (bound − value) × its
 * denominator (e.g. the conversions a channel missed); for a change rule, how much its value fell
 * (or rose) against the same window last week; for a count, its count. Slices that pull the other
 * way are left out.
 */
export async function topContributors(
  rule: AlertRule,
  kpi: KpiDefinition,
  current: KpiAnswer,
  live: LiveKpis,
  engine: KpiEngine,
): Promise<Contributor[]> {
  const limit = rule.limits[0];
  if (!limit) return [];
  const direction = limit.op === '<' ? 1 : -1;
  const found: Contributor[] = [];
  for (const dimension of kpi.dimensions) {
    if (dimension === rule.filter?.dimension) continue;
    const answer = live.get(kpi.id, rule.window, dimension);
    const points = answer?.breakdown ?? [];
    let before = new Map<string, number>();
    if (rule.metric === 'change') {
      const from = new Date(Date.parse(current.window.from) - WEEK_MS).toISOString();
      const to = new Date(Date.parse(current.window.to) - WEEK_MS).toISOString();
      const lastWeek = await engine.compute(kpi.id, { from, to, by: dimension });
      before = new Map((lastWeek.breakdown ?? []).map((p) => [String(p.key), Number(p.value ?? 0)]));
    }
    for (const point of points) {
      const impact = impactOf(rule, kpi, point, before.get(String(point.key)) ?? 0, direction);
      if (impact > 0 && point.key !== null && point.key !== undefined)
        found.push({ dimension, value: String(point.key), kpi_value: point.value, impact: round(impact) });
    }
    if (rule.metric === 'change') {
      // A slice that sold last week and nothing now is the largest drop of all.
      for (const [key, value] of before)
        if (!points.some((p) => String(p.key) === key) && direction * value > 0)
          found.push({ dimension, value: key, kpi_value: null, impact: round(direction * value) });
    }
  }
  return found.sort((a, b) => b.impact - a.impact).slice(0, TOP);
}

function impactOf(
  rule: AlertRule,
  kpi: KpiDefinition,
  point: KpiPoint,
  lastWeek: number,
  direction: number,
): number {
  const value = point.value === null ? null : Number(point.value);
  if (value === null || !Number.isFinite(value)) return 0;
  if (rule.metric === 'change') return direction * (lastWeek - value);
  if (kpi.kind === 'count') return direction === -1 ? value : 0;
  const bound = rule.limits[0]?.bound ?? 0;
  const weight = point.denominator === null ? 1 : Number(point.denominator);
  return direction * (bound - value) * weight;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
