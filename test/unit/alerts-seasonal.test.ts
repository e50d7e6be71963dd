import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseAlertsConfig } from '../../src/alerts/config.js';
import { buildRules } from '../../src/alerts/evaluator.js';
import { assess, customRule, ruleAt, type AlertRule } from '../../src/alerts/rules.js';
import { localTime, seasonMatches, type SeasonalBand } from '../../src/alerts/seasonal.js';
import { loadCatalogue } from '../../src/kpis/index.js';

const catalogue = loadCatalogue();
const kpi = (id: string) => catalogue.kpis.find((k) => k.id === id)!;

function rulesOf(raw: unknown): { rules: AlertRule[]; problems: string[] } {
  const problems: string[] = [];
  const config = parseAlertsConfig(raw, problems);
  const rules = buildRules(config, catalogue, problems);
  return { rules, problems };
}

const band = (overrides: Partial<SeasonalBand>): SeasonalBand => ({
  kpi: 'conversion_rate',
  label: 'test',
  days: null,
  hours: null,
  dates: null,
  warn: 0.01,
  critical: 0.005,
  ...overrides,
});

describe('seasonal bands', () => {
  it('reads an instant in the business time zone', () => {
    // 2026-03-08 is a Sunday; Paris is UTC+1 until 29 March.
    assert.deepEqual(localTime(Date.parse('2026-03-08T23:30:00Z'), 'Europe/Paris'), {
      date: '2026-03-09',
      weekday: 'mon',
      hour: 0,
    });
    assert.deepEqual(localTime(Date.parse('2026-03-08T23:30:00Z'), 'UTC'), {
      date: '2026-03-08',
      weekday: 'sun',
      hour: 23,
    });
  });

  it('matches days, hours across midnight and date ranges', () => {
    const night = band({ hours: { from: 22, to: 6 } });
    const at = (hour: number) => ({ date: '2026-03-09', weekday: 'mon' as const, hour });
    assert.deepEqual(
      [21, 22, 23, 0, 5, 6].map((h) => seasonMatches(night, at(h))),
      [false, true, true, true, true, false],
    );
    const weekend = band({ days: ['sat', 'sun'], hours: { from: 9, to: 18 } });
    assert.equal(seasonMatches(weekend, { date: '2026-03-08', weekday: 'sun', hour: 9 }), true);
    assert.equal(seasonMatches(weekend, { date: '2026-03-08', weekday: 'sun', hour: 18 }), false);
    assert.equal(seasonMatches(weekend, { date: '2026-03-09', weekday: 'mon', hour: 10 }), false);
    const blackFriday = band({ dates: { from: '2026-11-27', to: '2026-11-30' } });
    assert.equal(seasonMatches(blackFriday, { date: '2026-11-27', weekday: 'fri', hour: 0 }), true);
    assert.equal(seasonMatches(blackFriday, { date: '2026-11-30', weekday: 'mon', hour: 23 }), true);
    assert.equal(seasonMatches(blackFriday, { date: '2026-12-01', weekday: 'tue', hour: 0 }), false);
  });

  it('replaces the band rule limits while the season lasts, first match winning', () => {
    const { rules, problems } = rulesOf({
      seasonal_bands: [
        { kpi: 'conversion_rate', label: 'weekend', days: ['sat', 'sun'], warn: 0.012, critical: 0.008 },
        { kpi: 'conversion_rate', days: ['sun'], warn: 0.001, critical: 0.0005 },
      ],
    });
    assert.deepEqual(problems, []);
    const conversion = rules.find((r) => r.id === 'band:conversion_rate')!;
    const sunday = ruleAt(conversion, kpi('conversion_rate'), {
      date: '2026-03-08',
      weekday: 'sun',
      hour: 10,
    });
    const monday = ruleAt(conversion, kpi('conversion_rate'), {
      date: '2026-03-09',
      weekday: 'mon',
      hour: 10,
    });
    // Governed bands (catalogue): warn 0.02, critical 0.015; the weekend ones: 0.012 and 0.008.
    assert.deepEqual(sunday.limits, [
      { level: 'critical', op: '<', bound: 0.008 },
      { level: 'warn', op: '<', bound: 0.012 },
    ]);
    assert.match(sunday.describe, /\[weekend\]$/);
    assert.equal(monday, conversion);
    // 1.8 %: a warning on a Monday, fine on a Sunday.
    assert.equal(assess(monday, { value: 0.018, volume: 100 }).status, 'breach');
    assert.deepEqual(assess(sunday, { value: 0.018, volume: 100 }), {
      status: 'ok',
      metric: 0.018,
      clear: true,
    });
    assert.equal((assess(sunday, { value: 0.007, volume: 100 }) as { level: string }).level, 'critical');
    // Other KPIs keep their governed bands at all times.
    const revenue = rules.find((r) => r.id === 'band:net_revenue')!;
    assert.equal(
      ruleAt(revenue, kpi('net_revenue'), { date: '2026-03-08', weekday: 'sun', hour: 10 }),
      revenue,
    );
  });

  it('names the field of every malformed seasonal band', () => {
    const { problems } = rulesOf({
      seasonal_bands: [
        { kpi: 'conversion_rate', hours: { from: 8, to: 8 }, warn: 0.01, critical: 0.005 },
        {
          kpi: 'conversion_rate',
          dates: { from: '2026-12-31', to: '2026-12-01' },
          warn: 0.01,
          critical: 0.005,
        },
        // Higher is better: a critical floor above the warning one contradicts the direction.
        { kpi: 'conversion_rate', warn: 0.01, critical: 0.02 },
        { kpi: 'no_such_kpi', warn: 1, critical: 2 },
      ],
    });
    assert.ok(
      problems.some((p) => p.startsWith('alerts.seasonal_bands.0.hours')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('alerts.seasonal_bands.1.dates.from')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('alerts.seasonal_bands.2: conversion_rate')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('alerts.seasonal_bands.3.kpi "no_such_kpi"')),
      problems.join('\n'),
    );
    const schema: string[] = [];
    parseAlertsConfig(
      { seasonal_bands: [{ kpi: 'conversion_rate', days: ['funday'], warn: 1, critical: 1 }] },
      schema,
    );
    assert.ok(
      schema.some((p) => p.startsWith('alerts.seasonal_bands.0.days.0')),
      schema.join('\n'),
    );
    const hours: string[] = [];
    parseAlertsConfig(
      { seasonal_bands: [{ kpi: 'net_revenue', hours: { from: 25, to: 3 }, warn: 1, critical: 1 }] },
      hours,
    );
    assert.ok(
      hours.some((p) => p.startsWith('alerts.seasonal_bands.0.hours.from')),
      hours.join('\n'),
    );
  });
});

describe('forecast rules', () => {
  const forecastRule = (hysteresis = 0.1) =>
    customRule(
      {
        id: 'revenue-odd',
        kpi: 'net_revenue',
        window: '1h',
        condition: { type: 'outside_forecast' },
        severity: 'critical',
        minVolume: 0,
        forMs: 0,
        cooldownMs: 0,
        hysteresis,
        channels: [],
      },
      kpi('net_revenue'),
    );

  it('compares the value with the forecast in σ of the forecast errors, against the 80 % band', () => {
    const rule = forecastRule();
    assert.equal(rule.metric, 'forecast');
    const expected = { value: 100, sigma: 20 };
    // (130 − 100) / 20 = 1.5 σ, past the 80 % band's 1.2816 σ.
    assert.deepEqual(assess(rule, { value: 130, volume: 1, expected }), {
      status: 'breach',
      metric: 1.5,
      level: 'critical',
      limit: { level: 'critical', op: '>', bound: 1.2816 },
    });
    assert.equal(
      (assess(rule, { value: 70, volume: 1, expected }) as { limit: { op: string } }).limit.op,
      '<',
    );
    // 1 σ: inside, and clear of the band by more than the hysteresis (1.2816 − 0.128 = 1.154 σ).
    assert.deepEqual(assess(rule, { value: 120, volume: 1, expected }), {
      status: 'ok',
      metric: 1,
      clear: true,
    });
    // 1.2 σ: inside, but too near the edge for a firing alert to resolve.
    assert.deepEqual(assess(rule, { value: 124, volume: 1, expected }), {
      status: 'ok',
      metric: 1.2,
      clear: false,
    });
    assert.equal(assess(rule, { value: 124, volume: 1, expected: null }).status, 'no_data');
  });

  it('reads a flat history (σ = 0) as a band of one value', () => {
    const rule = forecastRule(0);
    assert.equal(assess(rule, { value: 18, volume: 1, expected: { value: 18, sigma: 0 } }).status, 'ok');
    assert.equal(
      assess(rule, { value: 18.01, volume: 1, expected: { value: 18, sigma: 0 } }).status,
      'breach',
    );
  });

  it('needs a window a forecast exists for, and the whole KPI', () => {
    const { problems } = rulesOf({
      rules: [
        { id: 'a', kpi: 'net_revenue', condition: 'outside_forecast' },
        { id: 'b', kpi: 'net_revenue', window: 'today', condition: 'outside_forecast' },
        {
          id: 'c',
          kpi: 'net_revenue',
          window: '1h',
          filter: { channel: 'web' },
          condition: 'outside_forecast',
        },
        { id: 'd', kpi: 'net_revenue', window: '24h', condition: 'outside_forecast' },
      ],
    });
    assert.ok(
      problems.some((p) => p.startsWith('alerts.rules.0.window')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('alerts.rules.1.window')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('alerts.rules.2.filter')),
      problems.join('\n'),
    );
    assert.equal(problems.filter((p) => p.startsWith('alerts.rules.3')).length, 0);
  });
});
