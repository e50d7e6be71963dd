import { randomUUID } from 'node:crypto';
import {
  forecastKpi,
  startOfBusinessDay,
  type Catalogue,
  type Dimension,
  type KpiAnswer,
  type KpiEngine,
  type LiveKpis,
} from '../kpis/index.js';
import type { AlertsConfig } from './config.js';
import { topContributors } from './contributors.js';
import type { Dispatcher } from './dispatcher.js';
import type { AlertLog } from './log.js';
import type { AlertNotice } from './notice.js';
import {
  assess,
  bandRules,
  customRule,
  FORECAST_Z,
  ruleAt,
  seasonalProblems,
  type AlertRule,
  type Observation,
} from './rules.js';
import { localTime } from './seasonal.js';
import { INITIAL, step, type AlertStatus, type Transition } from './state.js';

const DAY_MS = 24 * 3_600_000;
const WEEK_MS = 7 * DAY_MS;
/**
 * Last week's value and the forecast move slowly (only late data changes them): they are looked
 * up at most this often.
 */
const LAST_WEEK_TTL_MS = 30_000;

/** The rules to evaluate: the catalogue's bands plus the configured ones, checked against the catalogue. */
export function buildRules(config: AlertsConfig, catalogue: Catalogue, problems: string[]): AlertRule[] {
  problems.push(...seasonalProblems(config.seasonalBands, catalogue.kpis));
  const rules = bandRules(catalogue.kpis, config.bandRules, config.seasonalBands);
  config.rules.forEach((rule, i) => {
    const kpi = catalogue.kpis.find((k) => k.id === rule.kpi);
    if (!kpi) {
      problems.push(
        `alerts.rules.${i}.kpi "${rule.kpi}" is not in the catalogue (${catalogue.kpis.map((k) => k.id).join(', ')})`,
      );
      return;
    }
    if (rule.filter && !kpi.dimensions.includes(rule.filter.dimension as Dimension)) {
      problems.push(
        `alerts.rules.${i}.filter: ${kpi.id} cannot be broken down by ${rule.filter.dimension} (it can by ${kpi.dimensions.join(', ')})`,
      );
      return;
    }
    rules.push(customRule(rule, kpi, config.seasonalBands));
  });
  return rules;
}

export interface RuleState extends AlertStatus {
  readonly rule_id: string;
  readonly kpi: string;
  readonly window: string;
  readonly describe: string;
  readonly last_metric: number | null;
  readonly last_assessment: string;
}

export interface AlertEvaluatorOptions {
  readonly rules: readonly AlertRule[];
  readonly catalogue: Catalogue;
  readonly live: LiveKpis;
  /** For last week's values and contributors: reads DuckDB, only for change rules and on firing. */
  readonly engine: KpiEngine;
  readonly dispatcher: Dispatcher;
  readonly log: AlertLog;
  readonly evaluateEveryMs: number;
  /** The business time zone, in which seasonal bands are read. */
  readonly timeZone: string;
  readonly now?: () => number;
  readonly onTransition?: (transition: Transition, rule: AlertRule) => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Evaluates every rule against the live KPI values after each refresh (and on a timer, so a
 * for-duration ends on time without new data), moves each alert through its states and hands the
 * transitions worth telling to the dispatcher. It never waits for a delivery.
 */
export class AlertEvaluator {
  readonly #options: AlertEvaluatorOptions;
  readonly #now: () => number;
  readonly #statuses = new Map<string, AlertStatus>();
  readonly #last = new Map<string, { metric: number | null; assessment: string; describe: string }>();
  /** Last week's values and forecasts, by what they answer, with when they were looked up. */
  readonly #slow = new Map<string, { at: number; value: unknown }>();
  /** Each rule's reference (forecast, last week's value) and when it was first seen, as performance.now(). */
  readonly #references = new Map<string, { reference: string; since: number }>();
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: AlertEvaluatorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.#unsubscribe = this.#options.live.subscribe(() => void this.evaluate());
    this.#timer = setInterval(() => void this.evaluate(), this.#options.evaluateEveryMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Evaluates all rules once; calls during a pass coalesce into one more pass. */
  evaluate(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        for (const rule of this.#options.rules) {
          try {
            await this.#evaluateRule(rule);
          } catch (error) {
            this.#options.onError(error);
          }
        }
      } while (this.#again);
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }

  states(): RuleState[] {
    return this.#options.rules.map((rule) => {
      const status = this.#statuses.get(rule.id) ?? INITIAL;
      const last = this.#last.get(rule.id);
      return {
        rule_id: rule.id,
        kpi: rule.kpi,
        window: rule.window,
        describe: last?.describe ?? rule.describe,
        ...status,
        last_metric: last?.metric ?? null,
        last_assessment: last?.assessment ?? 'not_evaluated',
      };
    });
  }

  async #evaluateRule(everyTime: AlertRule): Promise<void> {
    const kpi = this.#options.catalogue.kpis.find((k) => k.id === everyTime.kpi);
    if (!kpi) return;
    const answer = this.#options.live.get(
      everyTime.kpi,
      everyTime.window,
      (everyTime.filter?.dimension as Dimension) ?? null,
    );
    if (!answer) return;
    // The season of the time the value describes (the end of its window), in the business time zone.
    const rule = ruleAt(everyTime, kpi, localTime(Date.parse(answer.window.to), this.#options.timeZone));
    const observation = await this.#observe(rule, answer);
    if (!this.#liveCaughtUp(rule, observation)) return;
    const assessment = assess(rule, observation);
    this.#last.set(rule.id, {
      metric: assessment.metric,
      assessment: assessment.status,
      describe: rule.describe,
    });
    const now = this.#now();
    const before = this.#statuses.get(rule.id) ?? INITIAL;
    const { status, transition } = step(before, assessment, now, rule);
    this.#statuses.set(rule.id, status);
    if (!transition) return;
    this.#options.onTransition?.(transition, rule);
    const told = transition === 'firing' || transition === 'escalated' || transition === 'resolved';
    const contributors =
      transition === 'firing' || transition === 'escalated'
        ? await topContributors(rule, kpi, answer, this.#options.live, this.#options.engine)
        : [];
    const value = rule.filter ? pointValue(answer, rule.filter.value) : answer.value;
    const notice: AlertNotice = {
      id: randomUUID(),
      rule_id: rule.id,
      transition: told ? transition : 'firing',
      level: transition === 'resolved' ? before.level : status.level,
      kpi: kpi.id,
      kpi_label: kpi.label,
      unit: kpi.unit,
      window: rule.window,
      filter: rule.filter ?? null,
      value: value ?? null,
      metric: assessment.metric,
      metric_kind: rule.metric,
      band: { describe: rule.describe, limits: rule.limits },
      expected: forecastBand(observation.expected),
      as_of: answer.as_of,
      lag_ms: answer.lag_ms,
      at: new Date(now).toISOString(),
      contributors,
      definition: kpi.description,
    };
    this.#options.log.event({
      id: notice.id,
      at: new Date(now),
      rule_id: rule.id,
      alert_key: rule.filter ? `${rule.id}|${rule.filter.dimension}=${rule.filter.value}` : rule.id,
      kpi: kpi.id,
      transition,
      level: notice.level,
      value: notice.value === null ? null : String(notice.value),
      as_of: notice.as_of,
      notice,
    });
    if (told) this.#options.dispatcher.send(rule.channels, { kind: 'alert', id: notice.id, notice });
  }

  /**
   * A forecast or last week's value is read from the warehouse, which runs ahead of the live values
   * (a run commits before its values are swapped in). Once the reference changes, the rule waits
   * for live values read after it: history loaded in bulk must not be judged against a live hour
   * that does not hold it yet.
   */
  #liveCaughtUp(rule: AlertRule, observation: Observation): boolean {
    const reference = observation.expected ?? observation.lastWeek;
    if (reference === undefined || reference === null) return true;
    const text = JSON.stringify(reference);
    let seen = this.#references.get(rule.id);
    if (seen?.reference !== text) {
      seen = { reference: text, since: performance.now() };
      this.#references.set(rule.id, seen);
    }
    return (this.#options.live.readStartedAt ?? -Infinity) >= seen.since;
  }

  async #observe(rule: AlertRule, answer: KpiAnswer): Promise<Observation> {
    const point = rule.filter ? answer.breakdown?.find((p) => String(p.key) === rule.filter?.value) : answer;
    const value = point?.value === null || point?.value === undefined ? null : Number(point.value);
    const volume =
      point?.denominator !== null && point?.denominator !== undefined
        ? Number(point.denominator)
        : value === null
          ? null
          : Math.abs(value);
    if (rule.metric === 'forecast') return { value, volume, expected: await this.#forecast(rule, answer) };
    if (rule.metric !== 'change') return { value, volume };
    return { value, volume, lastWeek: await this.#lastWeekValue(rule, answer) };
  }

  /**
   * The seasonal-naive forecast of the rule's window: the same window one season earlier (a day
   * for 1h, a week for 24h), with σ of the KPI's seasonal differences over its hourly (7 days) or
   * daily (4 weeks) series, as `GET /v1/kpis/:id/forecast` computes it.
   */
  async #forecast(rule: AlertRule, answer: KpiAnswer): Promise<Observation['expected']> {
    const grain = rule.window === '1h' ? 'hour' : 'day';
    const engine = this.#options.engine;
    return this.#slowly(
      `forecast|${rule.kpi}|${rule.window}`,
      async () => {
        const [before, forecast] = await Promise.all([
          engine.compute(rule.kpi, shifted(answer, grain === 'hour' ? DAY_MS : WEEK_MS)),
          forecastKpi(
            engine,
            rule.kpi,
            { grain, horizon: 1, now: new Date(answer.window.to) },
            startOfBusinessDay,
          ),
        ]);
        // No event in the window a season ago (a new shop, an empty warehouse): no forecast,
        // rather than a forecast of zero.
        if (
          before.as_of === null ||
          before.value === null ||
          before.value === undefined ||
          forecast.sigma === null
        )
          return null;
        return { value: Number(before.value), sigma: forecast.sigma };
      },
      // Not kept: the first data counts at once.
      (expected) => expected !== null,
    );
  }

  async #lastWeekValue(rule: AlertRule, answer: KpiAnswer): Promise<number | null> {
    return this.#slowly(
      `week|${rule.kpi}|${rule.window}|${rule.filter?.dimension ?? ''}|${rule.filter?.value ?? ''}`,
      async () => {
        const lastWeek = await this.#options.engine.compute(rule.kpi, {
          ...shifted(answer, WEEK_MS),
          ...(rule.filter ? { by: rule.filter.dimension } : {}),
        });
        const raw = rule.filter ? pointValue(lastWeek, rule.filter.value) : lastWeek.value;
        return raw === null || raw === undefined ? null : Number(raw);
      },
    );
  }

  /** `compute()`'s answer, looked up again only once it is LAST_WEEK_TTL_MS old (and kept if `keep`). */
  async #slowly<T>(
    key: string,
    compute: () => Promise<T>,
    keep: (value: T) => boolean = () => true,
  ): Promise<T> {
    const now = this.#now();
    const cached = this.#slow.get(key);
    if (cached && now - cached.at < LAST_WEEK_TTL_MS) return cached.value as T;
    const value = await compute();
    if (keep(value)) this.#slow.set(key, { at: now, value });
    return value;
  }
}

/** The answer's window moved `ms` earlier. */
function shifted(answer: KpiAnswer, ms: number): { from: string; to: string } {
  return {
    from: new Date(Date.parse(answer.window.from) - ms).toISOString(),
    to: new Date(Date.parse(answer.window.to) - ms).toISOString(),
  };
}

function forecastBand(expected: Observation['expected']): AlertNotice['expected'] {
  if (expected === null || expected === undefined) return null;
  const spread = FORECAST_Z * expected.sigma;
  return { value: expected.value, lower: expected.value - spread, upper: expected.value + spread };
}

function pointValue(answer: KpiAnswer, key: string): string | number | null | undefined {
  return answer.breakdown?.find((p) => String(p.key) === key)?.value;
}
