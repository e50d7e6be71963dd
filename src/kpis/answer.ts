import type { Dimension, KpiDefinition } from './catalogue.js';
import type { TimeWindow } from './windows.js';

export interface KpiPoint {
  readonly key?: string | null;
  readonly value: string | number | null;
  readonly numerator: string | number | null;
  readonly denominator: string | number | null;
}

/** Why a KPI is held: the failing error-severity quality rules on its inputs. */
export interface QualityHold {
  readonly since: string;
  readonly rules: readonly { readonly rule: string; readonly table: string; readonly failed: number }[];
}

/** Tells the KPI side whether the publish gate holds a KPI (undefined: publish). */
export type HoldLookup = (kpiId: string) => QualityHold | undefined;

/**
 * The answer of a held KPI: the last good numbers (or none, when there never was one), marked
 * held with the rules holding it, instead of a number computed from data that failed a rule.
 */
export function heldAnswer(
  lastGood: KpiAnswer | undefined,
  current: KpiAnswer,
  hold: QualityHold,
): KpiAnswer {
  if (lastGood) return { ...lastGood, quality: 'held', quality_hold: hold };
  const { components: _components, revenue_share: _share, ...rest } = current;
  return {
    ...rest,
    value: null,
    numerator: null,
    denominator: null,
    ...(current.breakdown ? { breakdown: [] } : {}),
    ...(current.series ? { series: [] } : {}),
    as_of: null,
    quality: 'held',
    quality_hold: hold,
  };
}

/** The answer of DESIGN.md §9. */
export interface KpiAnswer {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly window: { readonly from: string; readonly to: string };
  readonly value: string | number | null;
  readonly numerator: string | number | null;
  readonly denominator: string | number | null;
  readonly components?: Readonly<Record<string, string>>;
  readonly revenue_share?: number | null;
  readonly by?: Dimension;
  readonly breakdown?: readonly KpiPoint[];
  readonly series?: readonly { ts: string; value: string | number | null }[];
  readonly as_of: string | null;
  readonly lag_ms: number | null;
  readonly definition_version: number;
  /** `held`: an error rule fails on the KPI's inputs; the numbers are the last good ones. */
  readonly quality: 'ok' | 'held';
  readonly quality_hold?: QualityHold;
  readonly definition: {
    readonly description: string;
    readonly owner: string;
    readonly direction: KpiDefinition['direction'];
    readonly bands: KpiDefinition['bands'];
    readonly cadence: string;
    readonly dimensions: readonly Dimension[];
  };
  readonly lineage: { readonly inputs: readonly string[] };
}

type Raw = string | number | boolean | null | undefined;

/** Everything of an answer but its numbers. */
export function baseAnswer(
  kpi: KpiDefinition,
  inputs: readonly string[],
  window: TimeWindow,
  asOfMs: Raw,
  newestIngestMs: Raw,
  now: Date,
): Omit<KpiAnswer, 'value' | 'numerator' | 'denominator'> {
  return {
    id: kpi.id,
    label: kpi.label,
    unit: kpi.unit,
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    as_of: asOfMs === null || asOfMs === undefined ? null : new Date(Number(asOfMs)).toISOString(),
    lag_ms: lagMs(newestIngestMs, now),
    definition_version: kpi.definition_version,
    quality: 'ok',
    definition: {
      description: kpi.description,
      owner: kpi.owner,
      direction: kpi.direction,
      bands: kpi.bands,
      cadence: kpi.cadence,
      dimensions: kpi.dimensions,
    },
    lineage: { inputs },
  };
}

export function lagMs(newestIngestMs: Raw, now: Date): number | null {
  return newestIngestMs === null || newestIngestMs === undefined
    ? null
    : Math.max(0, now.getTime() - Number(newestIngestMs));
}

/** Numerator or denominator as the answer carries it: money as exact text, counts as numbers. */
export function measureOf(kpi: KpiDefinition, raw: Raw): string | number | null {
  if (kpi.kind === 'money') return raw === null || raw === undefined ? '0.00' : formatMoney(String(raw));
  return raw === null || raw === undefined ? (kpi.kind === 'index' ? null : 0) : Number(raw);
}

export function pointOf(kpi: KpiDefinition, numerator: Raw, denominator: Raw): Omit<KpiPoint, 'key'> {
  return {
    value: valueOf(kpi, numerator, denominator),
    numerator: measureOf(kpi, numerator),
    denominator: kpi.denominator ? measureOf(kpi, denominator) : null,
  };
}

export function valueOf(kpi: KpiDefinition, numerator: Raw, denominator: Raw): string | number | null {
  if (kpi.kind === 'money') return measureOf(kpi, numerator);
  const top = numerator === null || numerator === undefined ? 0 : Number(numerator);
  const bottom = denominator === null || denominator === undefined ? 0 : Number(denominator);
  return bottom === 0 ? null : top / bottom;
}

/** Inventory Risk's point: counts, and the at-risk share of forecast revenue. */
export function snapshotPointOf(numerator: Raw, denominator: Raw): Omit<KpiPoint, 'key'> {
  const count = Number(numerator ?? 0);
  return { value: count, numerator: count, denominator: Number(denominator ?? 0) };
}

export function revenueShare(atRisk: Raw, total: Raw): number | null {
  const all = total === null || total === undefined ? 0 : Number(total);
  return all === 0 ? null : Number(atRisk ?? 0) / all;
}

/** Normalises a DECIMAL rendered by DuckDB to exactly two decimals ("12.5" → "12.50"). */
export function formatMoney(text: string): string {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const cents = `${fraction}00`.slice(0, 2);
  const formatted = `${whole}.${cents}`;
  return negative && formatted !== '0.00' ? `-${formatted}` : formatted;
}

/** A component in the sign the catalogue reports it in (refunds are stored negative, shown positive). */
export function componentsOf(
  kpi: KpiDefinition,
  raw: (name: string) => Raw,
): Record<string, string> | undefined {
  const entries = Object.entries(kpi.numerator?.components ?? {});
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map(([name, sign]) => {
      const text = formatMoney(String(raw(name) ?? '0'));
      return [name, sign === 1 || text === '0.00' ? text : text.startsWith('-') ? text.slice(1) : `-${text}`];
    }),
  );
}
