import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DpConfig } from '../../src/privacy/dp-config.js';
import { startTestPulse, type TestPulse } from '../support/pulse.js';

const WINDOW = 'from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z';
const EPOCH = '2026-01-01T00:00:00Z';
const DP: DpConfig = { epsilonPerQuery: 1, dailyBudgetPerKey: 2.5, minCellCount: 20, exactRoles: ['admin'] };

let n = 0;
const ev = (type: string, data: Record<string, unknown>) => ({
  specversion: '1.0',
  id: `dp-${type}-${(n += 1)}`,
  source: '/test/dp',
  type,
  time: '2026-03-10T12:00:00Z',
  data,
});
const customer = (id: string, tier: string, segment: string) =>
  ev('customer.upserted', {
    customer_id: id,
    loyalty_tier: tier,
    segment,
    country: 'FR',
    consent: { marketing: true, analytics: true },
    effective_at: EPOCH,
  });
const session = (id: string, customerId?: string) =>
  ev('session.started', {
    session_id: id,
    started_at: '2026-03-10T09:00:00Z',
    channel: 'web',
    device: 'desktop',
    ...(customerId ? { customer_id: customerId } : {}),
  });
const order = (id: string, customerId: string) =>
  ev('order.placed', {
    order_id: id,
    placed_at: '2026-03-10T10:00:00Z',
    customer_id: customerId,
    channel: 'web',
    brand: 'aurora',
    country: 'FR',
    currency: 'EUR',
    promised_delivery_at: '2026-03-13T10:00:00Z',
    lines: [{ line_no: 1, sku: 'SKU-1', quantity: 1, unit_price: 10, discount: 0, tax: 2 }],
  });
const supportCase = (id: string, orderId: string, channel: string, csat: number) =>
  ev('support_case.resolved', {
    case_id: id,
    order_id: orderId,
    channel,
    opened_at: '2026-03-10T11:00:00Z',
    resolved_at: '2026-03-10T11:30:00Z',
    csat,
  });

/**
 * By hand: 60 gold (segment vip) customers with a session each, 24 of whom order → gold 24/60 = 0.4;
 * 1 silver (consumer) customer with a session and an order → 1/1; 2 anonymous sessions → null key 0/2.
 * CSAT: gold cases on a phone (weight 1.2, score 5 → 100) and a chat (weight 1, score 3 → 50):
 * (1.2 × 100 + 1 × 50) / (1.2 + 1) = 170 / 2.2.
 */
function fixture() {
  const events: unknown[] = [
    customer('S-1', 'silver', 'consumer'),
    session('SS-1', 'S-1'),
    order('SO-1', 'S-1'),
  ];
  for (let i = 1; i <= 60; i += 1) {
    events.push(customer(`G-${i}`, 'gold', 'vip'), session(`GS-${i}`, `G-${i}`));
    if (i <= 24) events.push(order(`GO-${i}`, `G-${i}`));
  }
  events.push(session('AS-1'), session('AS-2'));
  events.push(supportCase('CS-1', 'GO-1', 'phone', 5), supportCase('CS-2', 'GO-2', 'chat', 3));
  return events;
}

interface Cell {
  key: string | null;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  suppressed?: string;
}
interface Answer {
  breakdown: Cell[];
  privacy: {
    mechanism: string;
    epsilon?: number;
    remaining_budget?: number;
    reason?: string;
    scale?: { numerator: number };
  };
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

describe('differential privacy of customer-behaviour breakdowns', () => {
  let pulse: TestPulse;
  let dir: string;
  let reader: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-dp-'));
    pulse = await startTestPulse({ dir, dp: DP });
    const stored = await pulse.post(JSON.stringify(fixture()), 'application/cloudevents-batch+json');
    assert.equal(stored.body.quarantined, 0, JSON.stringify(stored.body));
    await pulse.refresh();
    reader = await pulse.keyFor('read');
  });
  after(async () => {
    await pulse?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string, key: string) => {
    const response = await fetch(`${pulse.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Answer };
  };
  const cell = (answer: Answer, key: string | null) => answer.breakdown.find((c) => c.key === key);

  it('answers an admin with exact values, saying so, and charging nothing', async () => {
    const { status, body } = await get(`/v1/kpis/conversion_rate?${WINDOW}&by=loyalty_tier`, pulse.key);
    assert.equal(status, 200);
    assert.deepEqual(body.privacy, { mechanism: 'none', reason: 'exact values for the admin role' });
    assert.deepEqual(
      [cell(body, 'gold')?.value, cell(body, 'gold')?.numerator, cell(body, 'gold')?.denominator],
      [0.4, 24, 60],
    );
    assert.deepEqual([cell(body, 'silver')?.numerator, cell(body, 'silver')?.denominator], [1, 1]);
    assert.deepEqual([cell(body, null)?.numerator, cell(body, null)?.denominator], [0, 2]);
    const bySegment = (await get(`/v1/kpis/conversion_rate?${WINDOW}&by=segment`, pulse.key)).body;
    assert.equal(cell(bySegment, 'vip')?.value, 0.4);
    const csat = (await get(`/v1/kpis/csat_index?${WINDOW}&by=loyalty_tier`, pulse.key)).body;
    assert.ok(Math.abs(Number(cell(csat, 'gold')?.value) - 170 / 2.2) < 1e-9, JSON.stringify(csat.breakdown));
    const rows = await pulse.sql(`SELECT count(*)::INTEGER AS n FROM pulse_dp_budget`);
    assert.equal(rows[0]?.n, 0);
  });

  it('noises a reader answer, suppresses small cells and spends the budget, refusing past it', async () => {
    const first = await get(`/v1/kpis/conversion_rate?${WINDOW}&by=loyalty_tier`, reader);
    assert.equal(first.status, 200);
    assert.equal(first.body.privacy.mechanism, 'laplace');
    assert.equal(first.body.privacy.epsilon, 1);
    assert.equal(first.body.privacy.remaining_budget, 1.5);
    assert.equal(first.body.privacy.scale?.numerator, 2, 'b = Δ / (ε/2) = 1 / 0.5');
    const gold = cell(first.body, 'gold') as Cell;
    // 24 ± Laplace(2) over 60 ± Laplace(2): outside [0.1, 0.8] needs a draw beyond 18 (p < 1e-3·e^-6).
    assert.ok(Number(gold.value) > 0.1 && Number(gold.value) < 0.8, JSON.stringify(gold));
    assert.ok(Number.isInteger(gold.numerator) && Number.isInteger(gold.denominator));
    // 1 session ± Laplace(2) reaches 20 with p = ½e^-9.5 ≈ 4e-5.
    const silver = cell(first.body, 'silver') as Cell;
    assert.deepEqual(silver, {
      key: 'silver',
      value: null,
      numerator: null,
      denominator: null,
      suppressed: 'fewer than 20 records',
    });

    const second = await get(`/v1/kpis/csat_index?${WINDOW}&by=segment`, reader);
    assert.equal(second.status, 200);
    assert.equal(second.body.privacy.remaining_budget, 0.5);
    assert.equal(cell(second.body, 'vip')?.suppressed, 'fewer than 20 records');

    const third = await get(`/v1/kpis/conversion_rate?${WINDOW}&by=segment`, reader);
    assert.equal(third.status, 429);
    assert.equal(third.body.error?.code, 'PULSE_ERR_PRIVACY_BUDGET_EXHAUSTED');
    assert.equal(third.body.error?.details?.epsilon_spent, 2);
    const retryAfter = Number(third.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 86_400, `retry-after ${retryAfter}`);
    // Non-customer breakdowns and totals do not touch the budget.
    assert.equal((await get(`/v1/kpis/conversion_rate?${WINDOW}&by=channel`, reader)).status, 200);
    // An invalid request is refused before charging: a new key still has its whole budget after one.
    const other = await pulse.keyFor('read');
    assert.equal((await get(`/v1/kpis/net_revenue?${WINDOW}&by=loyalty_tier`, other)).status, 400);
    const fresh = await get(`/v1/kpis/conversion_rate?${WINDOW}&by=loyalty_tier`, other);
    assert.equal(fresh.body.privacy.remaining_budget, 1.5);
    const ledger = await pulse.sql(
      `SELECT principal, spent_micro::BIGINT::VARCHAR AS spent FROM pulse_dp_budget ORDER BY principal`,
    );
    assert.deepEqual(ledger.map((row) => row.spent).sort(), ['1000000', '2000000']);
  });

  it('never streams a customer breakdown', async () => {
    const sse = await fetch(`${pulse.url}/v1/stream?kpi=conversion_rate&by=loyalty_tier`, {
      headers: pulse.auth,
    });
    assert.equal(sse.status, 400);
    const body = (await sse.json()) as { error: { field: string; message: string } };
    assert.equal(body.error.field, 'by');
    assert.match(body.error.message, /differential privacy/);
  });

  it('keeps the spent budget across a restart', async () => {
    await pulse.close();
    pulse = await startTestPulse({ dir, dp: DP });
    const again = await get(`/v1/kpis/conversion_rate?${WINDOW}&by=loyalty_tier`, reader);
    assert.equal(again.status, 429);
    assert.equal(again.body.error?.code, 'PULSE_ERR_PRIVACY_BUDGET_EXHAUSTED');
  });
});
