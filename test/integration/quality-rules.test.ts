import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { loadCatalogue } from '../../src/kpis/index.js';
import { loadModels } from '../../src/models/index.js';
import {
  kpiDependencies,
  loadRules,
  PublishGate,
  QualityAlerts,
  QualityRunner,
  type RuleState,
} from '../../src/quality/index.js';
import { delivered, fxRate, order, product } from '../support/quality.js';
import { startTestPulse, type TestPulse } from '../support/pulse.js';

interface Current {
  rule: string;
  status: string;
  checked: number;
  failed: number;
  failing_sample: Record<string, unknown>[];
}

describe('quality rules on crafted bad data', () => {
  let pulse: TestPulse;
  let current: Map<string, Current>;
  const models = loadModels();
  const rules = loadRules(new Set(models.map((m) => m.name)));

  /** A runner of its own on its own connection, with its own clock. */
  async function runnerAt(now: Date): Promise<QualityRunner> {
    const connection = await pulse.warehouse.connect();
    const gate = new PublishGate(kpiDependencies(loadCatalogue(), models));
    return new QualityRunner(connection, rules, gate, new QualityAlerts(connection), {
      timeZone: 'Europe/Paris',
      now: () => now,
    });
  }

  const verdict = (states: Iterable<RuleState>, id: string): RuleState => {
    const state = [...states].find((s) => s.rule.id === id);
    assert.ok(state, `rule ${id} was evaluated`);
    return state;
  };

  before(async () => {
    pulse = await startTestPulse();
    const events = [
      product('SKU-1'),
      fxRate('GBP', '2026-03-10T09:00:00Z', 1.2),
      order('QA'),
      order('QB', { currency: 'GBP', placedAt: '2026-03-10T10:15:00Z' }), // falls back to the 09:00 rate
      order('QC', { sku: 'SKU-404' }), // no such product
      order('Q-DUP', { id: 'evt-dup-1' }),
      order('Q-DUP', { id: 'evt-dup-2' }), // the same order sent twice under two event ids
      order('QE', { currency: 'USD' }), // no USD rate at all
      order('QF', { placedAt: '2026-03-10T10:00:00Z', promisedDeliveryAt: '2026-03-09T10:00:00Z' }),
      delivered('S-1', 'QA', '2026-03-11T10:00:00Z'), // delivered, never dispatched
    ];
    const posted = await pulse.post(JSON.stringify(events), 'application/cloudevents-batch+json');
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    assert.equal(posted.body.accepted, events.length);
    await pulse.refresh();
    const full = await pulse.fetch(`${pulse.url}/v1/quality/run`, { method: 'POST' });
    assert.equal(full.status, 200, await full.clone().text());
    const body = (await (await pulse.fetch(`${pulse.url}/v1/quality`)).json()) as { current: Current[] };
    current = new Map(body.current.map((c) => [c.rule, c]));
  });
  after(async () => pulse?.dispose());

  const failing = (id: string) => {
    const state = current.get(id);
    assert.ok(state, `rule ${id} is reported`);
    assert.equal(state.status, 'fail', `${id} fails`);
    return state;
  };

  it('loads more than 60 rules covering every kind', () => {
    assert.ok(rules.rules.length >= 60, `${rules.rules.length} rules`);
    const kinds = new Set(rules.rules.map((r) => r.kind));
    for (const kind of [
      'not_null',
      'not_empty',
      'unique',
      'range',
      'accepted_values',
      'pattern',
      'fx_present',
      'relationship',
      'freshness',
      'volume',
    ])
      assert.ok(kinds.has(kind as never), kind);
  });

  it('uniqueness: the order sent under two event ids', () => {
    const orders = failing('silver_orders.order_id.unique');
    // 6 distinct order ids (QA, QB, QC, Q-DUP, QE, QF), one of them stored twice.
    assert.equal(orders.checked, 6);
    assert.equal(orders.failed, 1);
    assert.deepEqual(orders.failing_sample, [{ order_id: 'Q-DUP' }]);
    // fact_order joins lines to headers by event: each of the two events brings its line 1.
    assert.deepEqual(failing('fact_order.order_id.line_no.unique').failing_sample, [
      { order_id: 'Q-DUP', line_no: 1 },
    ]);
  });

  it('FX presence: a line without a rate for its hour, and one without any rate', () => {
    const hour = failing('silver_order_lines.fx_present');
    assert.equal(hour.checked, 7);
    assert.deepEqual(hour.failing_sample, [
      { order_id: 'QB', line_no: 1 },
      { order_id: 'QE', line_no: 1 },
    ]);
    assert.deepEqual(failing('fact_order.net_eur.fx_rate_known').failing_sample, [
      { order_id: 'QE', line_no: 1 },
    ]);
  });

  it('referential integrity and completeness: the unknown product', () => {
    assert.deepEqual(failing('fact_order.sku.relationship').failing_sample, [{ order_id: 'QC', line_no: 1 }]);
    assert.deepEqual(failing('fact_order.category.not_null').failing_sample, [
      { order_id: 'QC', line_no: 1 },
    ]);
    assert.deepEqual(failing('fact_shipment.promised_delivery_at.not_null').failing_sample, [
      { shipment_id: 'S-1' },
    ]);
  });

  it('validity: a delivery promised before the order was placed', () => {
    assert.deepEqual(failing('silver_orders.promised_delivery_at.range').failing_sample, [
      { order_id: 'QF' },
    ]);
  });

  it('passes what is right', () => {
    for (const id of [
      'fact_order.quantity.range',
      'fact_order.currency.pattern',
      'fact_order.status.accepted_values',
      'silver_fx_rates.rate_to_eur.range',
    ])
      assert.equal(current.get(id)?.status, 'pass', id);
  });

  it('stores the scorecard per rule and day, with the pass rate', async () => {
    const response = await pulse.fetch(`${pulse.url}/v1/quality?rule=silver_orders.order_id.unique`);
    const body = (await response.json()) as {
      scorecard: {
        rule: string;
        checked: number;
        failed: number;
        pass_rate: number;
        failing_sample: unknown[];
      }[];
    };
    assert.equal(body.scorecard.length, 1);
    const row = body.scorecard[0]!;
    // Every evaluation of this rule saw the 6 order ids, one duplicated: 5 of 6 pass.
    assert.ok(row.checked >= 6 && row.checked % 6 === 0, `checked ${row.checked}`);
    assert.equal(row.failed * 6, row.checked);
    assert.equal(row.pass_rate, 5 / 6);
    assert.deepEqual(row.failing_sample, [{ order_id: 'Q-DUP' }]);
    const stored = await pulse.sql(
      `SELECT count(*)::INTEGER AS n FROM quality_scorecard WHERE rule_id = 'silver_orders.order_id.unique'`,
    );
    assert.equal(stored[0]?.n, 1);
  });

  it('refuses bad scorecard filters naming the field', async () => {
    const cases: [string, string][] = [
      ['?colour=red', 'colour'],
      ['?severity=fatal', 'severity'],
      ['?day=monday', 'day'],
      ['?table=no_such_table', 'table'],
      ['?rule=no.such.rule', 'rule'],
      ['?table=x&table=y', 'table'],
    ];
    for (const [query, field] of cases) {
      const response = await pulse.fetch(`${pulse.url}/v1/quality${query}`);
      assert.equal(response.status, 400, query);
      const body = (await response.json()) as { error: { code: string; field: string } };
      assert.equal(body.error.field, field, query);
    }
    const filtered = (await (
      await pulse.fetch(`${pulse.url}/v1/quality?table=fact_order&severity=error`)
    ).json()) as {
      current: { table: string; severity: string }[];
    };
    assert.ok(filtered.current.length > 0);
    assert.ok(filtered.current.every((c) => c.table === 'fact_order' && c.severity === 'error'));
  });

  it('freshness: warns after 15 minutes without an order, errors after 2 hours', async () => {
    const later = await runnerAt(new Date(Date.now() + 20 * 60_000));
    await later.runFull();
    assert.equal(verdict(later.states(), 'silver_orders.order.placed.late').status, 'fail');
    assert.equal(verdict(later.states(), 'silver_orders.order.placed.stale').status, 'pass');
    assert.equal(
      verdict(later.states(), 'silver_shipments_delivered.shipment.delivered.late').status,
      'pass',
    );
    // No session was ever received: nothing to judge.
    assert.equal(verdict(later.states(), 'silver_sessions.session.started.late').status, 'not_evaluated');
    const much = await runnerAt(new Date(Date.now() + 3 * 3_600_000));
    await much.runFull();
    assert.equal(verdict(much.states(), 'silver_orders.order.placed.stale').status, 'fail');
    assert.ok(much.gate.hold('net_revenue'), 'an error rule on the orders holds net revenue');
  });
});

describe('volume anomaly: robust z-score against the same hour of the previous weeks', () => {
  let pulse: TestPulse;
  before(async () => {
    pulse = await startTestPulse();
    const events: unknown[] = [];
    // Orders in the 15:00 UTC hour of five Tuesdays: 13, 11, 12, 10 in the weeks before, 2 on 2026-02-10.
    const counts: [string, number][] = [
      ['2026-01-13', 13],
      ['2026-01-20', 11],
      ['2026-01-27', 12],
      ['2026-02-03', 10],
      ['2026-02-10', 2],
    ];
    for (const [day, n] of counts)
      for (let i = 0; i < n; i++)
        events.push(order(`V-${day}-${i}`, { placedAt: `${day}T15:${String(i * 4).padStart(2, '0')}:00Z` }));
    const posted = await pulse.post(JSON.stringify(events), 'application/cloudevents-batch+json');
    assert.equal(posted.body.accepted, 48);
    await pulse.refresh();
  });
  after(async () => pulse?.dispose());

  async function volumeAt(now: string): Promise<RuleState> {
    const models = loadModels();
    const connection = await pulse.warehouse.connect();
    const runner = new QualityRunner(
      connection,
      loadRules(new Set(models.map((m) => m.name))),
      new PublishGate(kpiDependencies(loadCatalogue(), models)),
      new QualityAlerts(connection),
      { timeZone: 'Europe/Paris', now: () => new Date(now) },
    );
    await runner.runFull();
    return [...runner.states()].find((s) => s.rule.id === 'fact_order.volume') as RuleState;
  }

  it('flags a collapse: 2 orders against 10, 11, 12, 13', async () => {
    const state = await volumeAt('2026-02-10T16:05:00Z');
    // median 11.5; deviations 1.5, 0.5, 0.5, 1.5 → MAD 1; z = 0.6745 × (2 − 11.5) / 1 = −6.41
    assert.equal(state.status, 'fail');
    assert.equal(state.measure?.median, 11.5);
    assert.equal(state.measure?.mad, 1);
    assert.ok(Math.abs((state.measure?.z as number) - -6.40775) < 1e-9, String(state.measure?.z));
    assert.deepEqual(state.sample, [
      { hour: '2026-02-10T15:00:00.000Z', count: 2, median: 11.5, history: [10, 12, 11, 13] },
    ]);
  });

  it('accepts a normal hour, counting only weeks after the first row as history', async () => {
    // 2026-02-03 15:00: 10 against 12, 11, 13 (2026-01-06 is before the first order): z = −1.35
    const state = await volumeAt('2026-02-03T16:05:00Z');
    assert.equal(state.status, 'pass');
    assert.equal(state.measure?.median, 12);
  });

  it('does not judge an hour without enough history', async () => {
    const state = await volumeAt('2026-01-20T16:05:00Z');
    assert.equal(state.status, 'not_evaluated');
  });
});

describe('uniqueness on the new rows of a model that replaces whole keys', () => {
  let pulse: TestPulse;
  before(async () => {
    pulse = await startTestPulse();
  });
  after(async () => pulse?.dispose());

  const post = async (events: unknown[]) => {
    const posted = await pulse.post(JSON.stringify(events), 'application/cloudevents-batch+json');
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    await pulse.refresh();
  };
  const current = async (id: string): Promise<Current> => {
    const body = (await (await pulse.fetch(`${pulse.url}/v1/quality?rule=${id}`)).json()) as {
      current: Current[];
    };
    const state = body.current.find((c) => c.rule === id);
    assert.ok(state, `rule ${id} is reported`);
    return state;
  };

  it('finds a key a later batch stores twice, counting only the keys of that batch', async () => {
    // The first pass after start is full: two clean orders.
    await post([product('SKU-1'), order('U-1'), order('U-2')]);
    assert.equal((await current('fact_order.order_id.line_no.unique')).status, 'pass');
    // Incremental: fact_order replaces every line of an order it touches, so both copies of U-3's
    // line 1 (two events, one order) are among the new rows; U-1 and U-2 are not looked at.
    await post([order('U-3', { id: 'evt-u3-a' }), order('U-3', { id: 'evt-u3-b' })]);
    const state = await current('fact_order.order_id.line_no.unique');
    assert.equal(state.status, 'fail');
    assert.equal(state.checked, 1, 'one distinct key in scope: (U-3, 1)');
    assert.equal(state.failed, 1);
    assert.deepEqual(state.failing_sample, [{ order_id: 'U-3', line_no: 1 }]);
  });
});
