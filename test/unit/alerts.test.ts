import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { nextRun, localDate, winAnsi } from '../../src/alerts/index.js';
import { parseAlertsConfig, parseScorecardsConfig, parseDuration } from '../../src/alerts/config.js';
import { assess, bandRules, customRule, type AlertRule } from '../../src/alerts/rules.js';
import { INITIAL, step, type AlertStatus, type Transition } from '../../src/alerts/state.js';
import { buildRules } from '../../src/alerts/evaluator.js';
import { loadCatalogue } from '../../src/kpis/index.js';

const catalogue = loadCatalogue();
const kpi = (id: string) => catalogue.kpis.find((k) => k.id === id)!;

function rule(overrides: Partial<Parameters<typeof customRule>[0]> = {}): AlertRule {
  return customRule(
    {
      id: 'conv-low',
      kpi: 'conversion_rate',
      window: 'today',
      condition: { type: 'below', threshold: 0.02 },
      severity: 'warn',
      minVolume: 0,
      forMs: 60_000,
      cooldownMs: 600_000,
      hysteresis: 0.1,
      channels: [],
      ...overrides,
    },
    kpi('conversion_rate'),
  );
}

/** Feeds values at times (ms) through the state machine; returns the transitions that happened. */
function run(r: AlertRule, timeline: [number, number | null][]): { at: number; transition: Transition }[] {
  let status: AlertStatus = INITIAL;
  const seen: { at: number; transition: Transition }[] = [];
  for (const [at, value] of timeline) {
    const result = step(status, assess(r, { value, volume: 1_000 }), at, r);
    status = result.status;
    if (result.transition) seen.push({ at, transition: result.transition });
  }
  return seen;
}

describe('alert rules', () => {
  it('derives one band rule per KPI from the catalogue, the direction deciding the side', () => {
    const rules = bandRules(catalogue.kpis, parseAlertsConfig({}, []).bandRules);
    assert.equal(rules.length, 6);
    const conversion = rules.find((r) => r.kpi === 'conversion_rate')!;
    // higher is better: below 0.015 is critical, below 0.02 warn
    assert.deepEqual(conversion.limits, [
      { level: 'critical', op: '<', bound: 0.015 },
      { level: 'warn', op: '<', bound: 0.02 },
    ]);
    assert.deepEqual(assess(conversion, { value: 0.018, volume: 10 }), {
      status: 'breach',
      metric: 0.018,
      level: 'warn',
      limit: { level: 'warn', op: '<', bound: 0.02 },
    });
    assert.equal((assess(conversion, { value: 0.01, volume: 10 }) as { level: string }).level, 'critical');
    const returns = rules.find((r) => r.kpi === 'return_rate')!;
    // lower is better: above 0.25 critical
    assert.equal((assess(returns, { value: 0.3, volume: 10 }) as { level: string }).level, 'critical');
    assert.equal(assess(returns, { value: 0.1, volume: 10 }).status, 'ok');
    const revenue = rules.find((r) => r.kpi === 'net_revenue')!;
    assert.equal(revenue.metric, 'change');
    // 850 against 1,000 last week: -15 %, past the -10 % warn bound, not the -25 % critical one.
    const drop = assess(revenue, { value: 850, volume: 850, lastWeek: 1000 });
    assert.equal(drop.status, 'breach');
    assert.ok(Math.abs((drop.metric ?? 0) - -0.15) < 1e-12);
    assert.equal((drop as { level: string }).level, 'warn');
    assert.equal(assess(revenue, { value: 850, volume: 850, lastWeek: 0 }).status, 'no_data');
  });

  it('fires only after the for-duration, resolves past the hysteresis, and stays quiet within the cooldown', () => {
    const r = rule(); // below 0.02 for 60 s, cooldown 10 min, hysteresis 10 % (clear at >= 0.022)
    const transitions = run(r, [
      [0, 0.03],
      [10_000, 0.01], // breach begins
      [40_000, 0.015], // still pending: 30 s < 60 s
      [69_999, 0.01], // 59.999 s: not yet
      [70_000, 0.01], // 60 s: fires
      [80_000, 0.021], // inside the band but within the hysteresis margin: still firing
      [90_000, 0.025], // clear: resolves
      [100_000, 0.01], // breaches again …
      [160_000, 0.01], // … for 60 s, but 90 s after the last firing: suppressed by the cooldown
      [170_000, 0.03], // resolves quietly (it was never delivered)
      [700_000, 0.01], // 630 s after the first firing: the cooldown is over
      [760_000, 0.01], // fires (delivered)
    ]);
    assert.deepEqual(transitions, [
      { at: 10_000, transition: 'pending' },
      { at: 70_000, transition: 'firing' },
      { at: 90_000, transition: 'resolved' },
      { at: 100_000, transition: 'pending' },
      { at: 160_000, transition: 'suppressed' },
      { at: 700_000, transition: 'pending' },
      { at: 760_000, transition: 'firing' },
    ]);
  });

  it('cancels a breach shorter than the for-duration and ignores missing data and low volume', () => {
    const r = rule({ minVolume: 5_000 });
    // volume 1,000 < 5,000: never even pending
    assert.deepEqual(
      run(r, [
        [0, 0.001],
        [120_000, 0.001],
      ]),
      [],
    );
    const r2 = rule();
    assert.deepEqual(
      run(r2, [
        [0, 0.01],
        [30_000, 0.03],
        [40_000, null],
        [200_000, null],
      ]),
      [
        { at: 0, transition: 'pending' },
        { at: 30_000, transition: 'cancelled' },
      ],
    );
  });

  it('escalates a firing warn alert to critical once, without a new firing', () => {
    const band = buildRules(parseAlertsConfig({ band_rules: { for: 0 } }, []), catalogue, []).find(
      (r) => r.kpi === 'conversion_rate',
    )!;
    const transitions = run(band, [
      [0, 0.018],
      [1_000, 0.01],
      [2_000, 0.012],
      [3_000, 0.05],
    ]);
    assert.deepEqual(
      transitions.map((t) => t.transition),
      ['firing', 'escalated', 'resolved'],
    );
  });

  it('supports outside-band and change rules with their own thresholds', () => {
    const outside = rule({ condition: { type: 'outside', low: 0.01, high: 0.05 }, forMs: 0 });
    assert.equal(assess(outside, { value: 0.06, volume: 1 }).status, 'breach');
    assert.equal(assess(outside, { value: 0.005, volume: 1 }).status, 'breach');
    assert.equal(assess(outside, { value: 0.03, volume: 1 }).status, 'ok');
    const change = customRule(
      {
        id: 'rev-up',
        kpi: 'net_revenue',
        window: '1h',
        condition: { type: 'change_vs_last_week', above: 0.5 },
        severity: 'critical',
        minVolume: 0,
        forMs: 0,
        cooldownMs: 0,
        hysteresis: 0,
        channels: [],
      },
      kpi('net_revenue'),
    );
    // 1,600 against 1,000: +60 % > +50 %
    assert.equal(assess(change, { value: 1600, volume: 1600, lastWeek: 1000 }).status, 'breach');
    assert.equal(assess(change, { value: 1400, volume: 1400, lastWeek: 1000 }).status, 'ok');
  });
});

describe('alerts configuration', () => {
  it('reads channels, rules and durations', () => {
    const problems: string[] = [];
    const config = parseAlertsConfig(
      {
        channels: [
          { name: 'ops', type: 'slack', url: 'http://127.0.0.1:1/slack' },
          { name: 'hook', type: 'webhook', url: 'https://example.com/h', secret: '0123456789abcdef' },
          {
            name: 'mail',
            type: 'email',
            smtp: { host: 'localhost', port: 25 },
            from: 'p@x.io',
            to: ['a@x.io'],
          },
        ],
        rules: [
          {
            id: 'r1',
            kpi: 'conversion_rate',
            condition: 'below',
            threshold: 0.02,
            for: '2m',
            cooldown: '1h',
            filter: { channel: 'web' },
          },
        ],
        delivery: { attempts: 3, backoff: '250ms' },
      },
      problems,
    );
    assert.deepEqual(problems, []);
    assert.equal(config.rules[0]?.forMs, 120_000);
    assert.equal(config.rules[0]?.cooldownMs, 3_600_000);
    assert.deepEqual(config.rules[0]?.filter, { dimension: 'channel', value: 'web' });
    // Rules without channels go to every non-email channel.
    assert.deepEqual(config.rules[0]?.channels, ['ops', 'hook']);
    assert.equal(config.delivery.backoffMs, 250);
    assert.equal(parseDuration('90s', 0), 90_000);
  });

  it('names the field of every problem', () => {
    const problems: string[] = [];
    parseAlertsConfig(
      {
        channels: [{ name: 'hook', type: 'webhook', url: 'ftp://x' }],
        rules: [{ id: 'r1', kpi: 'conversion_rate', condition: 'sideways' }],
      },
      problems,
    );
    assert.ok(
      problems.some((p) => p.startsWith('alerts.channels.0')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('alerts.rules.0.condition')),
      problems.join('\n'),
    );

    const more: string[] = [];
    const config = parseAlertsConfig(
      {
        channels: [{ name: 'ops', type: 'slack', url: 'http://x/' }],
        rules: [
          { id: 'r1', kpi: 'conversion_rate', condition: 'below', channels: ['nobody'] },
          { id: 'r1', kpi: 'no_such_kpi', condition: 'outside', low: 2, high: 1 },
          { id: 'r3', kpi: 'conversion_rate', condition: 'band', filter: { brand: 'aurora' } },
        ],
      },
      more,
    );
    assert.ok(more.includes('alerts.rules.0.threshold is required for condition "below"'), more.join('\n'));
    assert.ok(
      more.some((p) => p.includes('alerts.rules.0.channels names channel "nobody"')),
      more.join('\n'),
    );
    assert.ok(more.includes('alerts.rules.1.id "r1" is used twice'), more.join('\n'));
    assert.ok(more.includes('alerts.rules.1.low must be below alerts.rules.1.high'), more.join('\n'));
    const fromCatalogue: string[] = [];
    buildRules(config, catalogue, fromCatalogue);
    assert.ok(
      fromCatalogue.some((p) => p.startsWith('alerts.rules.1.kpi "no_such_kpi"')),
      fromCatalogue.join('\n'),
    );
    assert.ok(
      fromCatalogue.some((p) =>
        p.startsWith('alerts.rules.2.filter: conversion_rate cannot be broken down by brand'),
      ),
    );

    const scorecardProblems: string[] = [];
    parseScorecardsConfig(
      { regions: ['fr'], email: { channel: 'ops' }, daily_at: '25:00' },
      scorecardProblems,
      config,
    );
    assert.ok(
      scorecardProblems.some((p) => p.startsWith('scorecards.regions.0')),
      scorecardProblems.join('\n'),
    );
    assert.ok(
      scorecardProblems.some((p) => p.startsWith('scorecards.daily_at')),
      scorecardProblems.join('\n'),
    );
  });
});

describe('scorecard scheduling and text', () => {
  it('finds the next local run time across a DST change', () => {
    // Paris moves to summer time on 2026-03-29 at 02:00 (UTC+1 → UTC+2).
    assert.equal(
      nextRun(new Date('2026-03-28T05:00:00Z'), '07:00', 'Europe/Paris').toISOString(),
      '2026-03-28T06:00:00.000Z',
    );
    assert.equal(
      nextRun(new Date('2026-03-28T06:00:00Z'), '07:00', 'Europe/Paris').toISOString(),
      '2026-03-29T05:00:00.000Z',
    );
    assert.equal(localDate(new Date('2026-03-28T23:30:00Z'), 'Europe/Paris'), '2026-03-29');
  });

  it('spells out characters the PDF fonts cannot show', () => {
    assert.equal(winAnsi('Σ(gross − tax) ÷ n ≥ 1 €'), 'sum (gross - tax) ÷ n >= 1 €');
  });
});
