import type { KpiDefinition } from '../kpis/index.js';
import type { AlertCondition, AlertRuleConfig, AlertsConfig } from './config.js';

export type Level = 'warn' | 'critical';

/** One bound of a rule: the metric breaches it when it is on the wrong side. */
export interface Limit {
  readonly level: Level;
  readonly op: '<' | '>';
  readonly bound: number;
}

/** A rule ready to evaluate: what it watches and the limits the watched metric must stay within. */
export interface AlertRule extends AlertRuleConfig {
  /** `value` compares the KPI itself; `change` its relative change against the same window a week earlier. */
  readonly metric: 'value' | 'change';
  readonly limits: readonly Limit[];
  /** The rule as people read it, e.g. "below 0.02 (warn), below 0.015 (critical)". */
  readonly describe: string;
  readonly source: 'band' | 'custom';
}

/** What a rule sees at one evaluation. */
export interface Observation {
  readonly value: number | null;
  /** Sessions, parcels, rated cases…: what `min_volume` is compared with. */
  readonly volume: number | null;
  /** The same window one week earlier (only for change rules). */
  readonly lastWeek?: number | null;
}

export type Assessment =
  | { readonly status: 'no_data' | 'low_volume'; readonly metric: number | null }
  | {
      readonly status: 'breach';
      readonly metric: number;
      readonly level: Level;
      readonly limit: Limit;
    }
  | {
      readonly status: 'ok';
      readonly metric: number;
      /** Inside the band by at least the hysteresis margin: a firing alert may resolve. */
      readonly clear: boolean;
    };

/** The rules the catalogue's tolerance bands give: one per KPI. */
export function bandRules(kpis: readonly KpiDefinition[], settings: AlertsConfig['bandRules']): AlertRule[] {
  if (!settings.enabled) return [];
  return kpis.map((kpi) => {
    const { basis, warn, critical } = kpi.bands;
    const op = kpi.direction === 'higher_is_better' ? '<' : '>';
    const limits: Limit[] = [
      { level: 'critical', op, bound: critical },
      { level: 'warn', op, bound: warn },
    ];
    return {
      id: `band:${kpi.id}`,
      kpi: kpi.id,
      window: settings.window,
      condition: { type: 'band' },
      severity: 'critical',
      minVolume: settings.minVolume,
      forMs: settings.forMs,
      cooldownMs: settings.cooldownMs,
      hysteresis: settings.hysteresis,
      channels: settings.channels,
      metric: basis === 'change_vs_last_week' ? 'change' : 'value',
      limits,
      describe: describeLimits(basis === 'change_vs_last_week' ? 'change' : 'value', limits),
      source: 'band',
    };
  });
}

/** A KPI's own tolerance bands as a rule, for reading a value against them (scorecards, status). */
export function kpiBandRule(kpi: KpiDefinition): AlertRule {
  const [rule] = bandRules([kpi], {
    enabled: true,
    window: 'today',
    minVolume: 0,
    forMs: 0,
    cooldownMs: 0,
    hysteresis: 0,
    channels: [],
  });
  return rule as AlertRule;
}

/** A configured rule with its limits; `band` takes the KPI's own bands. */
export function customRule(config: AlertRuleConfig, kpi: KpiDefinition): AlertRule {
  const { metric, limits } = limitsOf(config.condition, config.severity, kpi);
  return { ...config, metric, limits, describe: describeLimits(metric, limits), source: 'custom' };
}

function limitsOf(
  condition: AlertCondition,
  severity: Level,
  kpi: KpiDefinition,
): { metric: 'value' | 'change'; limits: Limit[] } {
  switch (condition.type) {
    case 'band': {
      const op = kpi.direction === 'higher_is_better' ? '<' : '>';
      return {
        metric: kpi.bands.basis === 'change_vs_last_week' ? 'change' : 'value',
        limits: [
          { level: 'critical', op, bound: kpi.bands.critical },
          { level: 'warn', op, bound: kpi.bands.warn },
        ],
      };
    }
    case 'above':
      return { metric: 'value', limits: [{ level: severity, op: '>', bound: condition.threshold }] };
    case 'below':
      return { metric: 'value', limits: [{ level: severity, op: '<', bound: condition.threshold }] };
    case 'outside':
      return {
        metric: 'value',
        limits: [
          { level: severity, op: '<', bound: condition.low },
          { level: severity, op: '>', bound: condition.high },
        ],
      };
    case 'change_vs_last_week':
      return {
        metric: 'change',
        limits: [
          ...(condition.below !== undefined
            ? [{ level: severity, op: '<' as const, bound: condition.below }]
            : []),
          ...(condition.above !== undefined
            ? [{ level: severity, op: '>' as const, bound: condition.above }]
            : []),
        ],
      };
  }
}

function describeLimits(metric: 'value' | 'change', limits: readonly Limit[]): string {
  const what = metric === 'change' ? 'change vs last week ' : '';
  return limits
    .map((l) => {
      const bound = metric === 'change' ? `${(l.bound * 100).toFixed(1)} %` : String(l.bound);
      return `${what}${l.op === '<' ? 'below' : 'above'} ${bound} (${l.level})`;
    })
    .join(', ');
}

/**
 * Whether an observation breaches the rule. The most severe limit broken wins. "clear" needs the
 * metric back inside every limit by `hysteresis` × |bound|, so a value hovering on a bound does not
 * flap between firing and resolved.
 */
export function assess(rule: AlertRule, observation: Observation): Assessment {
  const metric = metricOf(rule, observation);
  if (metric === null) return { status: 'no_data', metric: null };
  if (rule.minVolume > 0 && (observation.volume ?? 0) < rule.minVolume)
    return { status: 'low_volume', metric };
  const broken = [...rule.limits]
    .sort((a, b) => rank(b.level) - rank(a.level))
    .find((limit) => (limit.op === '<' ? metric < limit.bound : metric > limit.bound));
  if (broken) return { status: 'breach', metric, level: broken.level, limit: broken };
  const clear = rule.limits.every((limit) => {
    const margin = rule.hysteresis * Math.abs(limit.bound);
    return limit.op === '<' ? metric >= limit.bound + margin : metric <= limit.bound - margin;
  });
  return { status: 'ok', metric, clear };
}

function metricOf(rule: AlertRule, observation: Observation): number | null {
  if (observation.value === null || !Number.isFinite(observation.value)) return null;
  if (rule.metric === 'value') return observation.value;
  const before = observation.lastWeek;
  if (before === null || before === undefined || before === 0) return null;
  return observation.value / before - 1;
}

export function rank(level: Level): number {
  return level === 'critical' ? 2 : 1;
}
