import { Z_80, type KpiDefinition } from '../kpis/index.js';
import type { AlertCondition, AlertRuleConfig, AlertsConfig } from './config.js';
import { seasonAt, type LocalTime, type SeasonalBand } from './seasonal.js';

/** Forecast rules use the 80 % band the forecast API serves. */
export const FORECAST_Z = Z_80;
export type MetricKind = 'value' | 'change' | 'forecast';

export type Level = 'warn' | 'critical';

/** One bound of a rule: the metric breaches it when it is on the wrong side. */
export interface Limit {
  readonly level: Level;
  readonly op: '<' | '>';
  readonly bound: number;
}

/** A rule ready to evaluate: what it watches and the limits the watched metric must stay within. */
export interface AlertRule extends AlertRuleConfig {
  /**
   * `value` compares the KPI itself; `change` its relative change against the same window a week
   * earlier; `forecast` its distance from the forecast in σ of the forecast's errors.
   */
  readonly metric: MetricKind;
  readonly limits: readonly Limit[];
  /** The rule as people read it, e.g. "below 0.02 (warn), below 0.015 (critical)". */
  readonly describe: string;
  readonly source: 'band' | 'custom';
  /** Bands that replace the KPI's own at some times (rules that follow the KPI's bands). */
  readonly seasonal?: readonly SeasonalBand[];
}

/** What a rule sees at one evaluation. */
export interface Observation {
  readonly value: number | null;
  /** Sessions, parcels, rated cases…: what `min_volume` is compared with. */
  readonly volume: number | null;
  /** The same window one week earlier (only for change rules). */
  readonly lastWeek?: number | null;
  /** The forecast of the window and the σ of its errors (only for forecast rules). */
  readonly expected?: { readonly value: number; readonly sigma: number } | null;
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
export function bandRules(
  kpis: readonly KpiDefinition[],
  settings: AlertsConfig['bandRules'],
  seasonal: readonly SeasonalBand[] = [],
): AlertRule[] {
  if (!settings.enabled) return [];
  return kpis.map((kpi) => {
    const { basis } = kpi.bands;
    const limits = bandLimits(kpi, kpi.bands);
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
      ...seasonsOf(kpi, seasonal),
    };
  });
}

/** The seasonal bands of one KPI, as the `seasonal` field of its rule (absent when it has none). */
function seasonsOf(
  kpi: KpiDefinition,
  seasonal: readonly SeasonalBand[],
): { seasonal?: readonly SeasonalBand[] } {
  const own = seasonal.filter((band) => band.kpi === kpi.id);
  return own.length > 0 ? { seasonal: own } : {};
}

/** A KPI's bands as limits: the critical bound first, each on the side its direction says is bad. */
function bandLimits(
  kpi: KpiDefinition,
  bands: { readonly warn: number; readonly critical: number },
): Limit[] {
  const op = kpi.direction === 'higher_is_better' ? '<' : '>';
  return [
    { level: 'critical', op, bound: bands.critical },
    { level: 'warn', op, bound: bands.warn },
  ];
}

/**
 * The rule as it stands at a local time: a rule that follows the KPI's bands takes the seasonal
 * band in force then, if any, and says so in its description.
 */
export function ruleAt(rule: AlertRule, kpi: KpiDefinition, at: LocalTime): AlertRule {
  if (!rule.seasonal || rule.seasonal.length === 0) return rule;
  const season = seasonAt(rule.seasonal, at);
  if (!season) return rule;
  const limits = bandLimits(kpi, season);
  return { ...rule, limits, describe: `${describeLimits(rule.metric, limits)} [${season.label}]` };
}

/** Seasonal bands that contradict their KPI's direction or name no KPI, as problems. */
export function seasonalProblems(
  seasonal: readonly SeasonalBand[],
  kpis: readonly KpiDefinition[],
): string[] {
  const problems: string[] = [];
  seasonal.forEach((band, i) => {
    const field = `alerts.seasonal_bands.${i}`;
    const kpi = kpis.find((k) => k.id === band.kpi);
    if (!kpi) {
      problems.push(
        `${field}.kpi "${band.kpi}" is not in the catalogue (${kpis.map((k) => k.id).join(', ')})`,
      );
      return;
    }
    const higherIsBetter = kpi.direction === 'higher_is_better';
    if (higherIsBetter ? band.critical > band.warn : band.critical < band.warn)
      problems.push(
        `${field}: ${kpi.id} is ${higherIsBetter ? 'higher' : 'lower'} is better, so critical (${band.critical}) must be ${higherIsBetter ? 'at or below' : 'at or above'} warn (${band.warn})`,
      );
  });
  return problems;
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
export function customRule(
  config: AlertRuleConfig,
  kpi: KpiDefinition,
  seasonal: readonly SeasonalBand[] = [],
): AlertRule {
  const { metric, limits } = limitsOf(config.condition, config.severity, kpi);
  return {
    ...config,
    metric,
    limits,
    describe: describeLimits(metric, limits),
    source: 'custom',
    // Only a rule that follows the KPI's bands follows their seasons.
    ...(config.condition.type === 'band' ? seasonsOf(kpi, seasonal) : {}),
  };
}

function limitsOf(
  condition: AlertCondition,
  severity: Level,
  kpi: KpiDefinition,
): { metric: MetricKind; limits: Limit[] } {
  switch (condition.type) {
    case 'band':
      return {
        metric: kpi.bands.basis === 'change_vs_last_week' ? 'change' : 'value',
        limits: bandLimits(kpi, kpi.bands),
      };
    case 'outside_forecast':
      return {
        metric: 'forecast',
        limits: [
          { level: severity, op: '<', bound: -FORECAST_Z },
          { level: severity, op: '>', bound: FORECAST_Z },
        ],
      };
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

function describeLimits(metric: MetricKind, limits: readonly Limit[]): string {
  if (metric === 'forecast')
    return `outside the 80 % forecast band (seasonal naive ± ${FORECAST_Z} σ) (${limits[0]?.level ?? 'warn'})`;
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
  if (rule.metric === 'forecast') {
    const expected = observation.expected;
    if (expected === null || expected === undefined) return null;
    // A flat history has σ = 0: any move off the forecast is then outside its (empty) band.
    const scale =
      expected.sigma > 0 ? expected.sigma : Number.EPSILON * Math.max(1, Math.abs(expected.value));
    return (observation.value - expected.value) / scale;
  }
  const before = observation.lastWeek;
  if (before === null || before === undefined || before === 0) return null;
  return observation.value / before - 1;
}

export function rank(level: Level): number {
  return level === 'critical' ? 2 : 1;
}
