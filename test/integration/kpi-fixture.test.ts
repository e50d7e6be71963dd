/**
 * Independent acceptance test: the KPIs of a small hand-computed fixture (test/fixtures/kpi-fixture.ts),
 * asserted against a running Pulse over HTTP. The expected values below were worked out by hand from
 * DESIGN.md §6 and §8, never taken from the implementation.
 *
 * Window W = [2026-03-10T00:00:00Z, 2026-03-11T00:00:00Z). 28-day demand range for Inventory Risk:
 * [2026-02-11T00:00:00Z, 2026-03-11T00:00:00Z).
 *
 * ============================================================================================
 * FX (rate_to_eur)
 *   GBP 2026-03-10T09:00 1.1725 · 13:00 1.1650 · 16:00 1.1600
 *   AED 2026-03-09T22:00 0.2481 · 2026-03-10T12:00 0.2490
 *   CHF none at all → CHF amounts are held out. EUR at 1.
 *
 * Rates used
 *   O-103 GBP 09:15 → hour 09:00 has a rate                          → 1.1725
 *   O-104 GBP 10:20 → no 10:00 rate, latest earlier hour 09:00        → 1.1725
 *   O-109 GBP 14:20 → no 14:00 rate, latest earlier hour 13:00        → 1.1650
 *   O-106 AED 10:40 → no rate 2026-03-10T00..10, latest earlier is 2026-03-09T22:00 → 0.2481
 *                      (the 12:00 rate is later, so not used)
 *   R-1 refund GBP 16:30 → hour 16:00                                  → 1.1600
 *   O-107 CHF 12:30 → no CHF rate at all                               → held out
 *
 * ============================================================================================
 * NET REVENUE, lines placed in W (line net = qty × unit_price − discount − tax)
 *   O-101 web  EUR  A  2 × 89.90 = 179.80 − 10.00 − 28.30 = 141.50 EUR            footwear
 *                   C  3 × 12.50 =  37.50 −  0.00 −  6.25 =  31.25 EUR            accessories
 *   O-102 mob  EUR  E  1 × 39.99 =  39.99 −  0.00 −  6.39 =  33.60 EUR            accessories (SKU-E v1, 09:05 < 12:00)
 *                   B  1 × 149.00 = 149.00 − 15.00 − 21.39 = 112.61 EUR          outerwear
 *   O-103 web  GBP  B  1 × 103.20 = 103.20 − 0 − 17.20 = 86.00 GBP × 1.1725 = 100.835 EUR          outerwear
 *   O-104 mkt  GBP  F  2 × 15.00 = 30.00 − 0 − 5.00 = 25.00 GBP × 1.1725 = 29.3125 EUR          accessories
 *        (M-ACME)   G  1 × 90.00 = 90.00 − 0 − 15.00 = 75.00 GBP × 1.1725 = 87.9375 EUR          outdoor
 *                   order total 100.00 GBP = 117.25 EUR
 *   O-105 web  EUR  latest status by changed_at: cancelled 11:40 (paid 11:05 arrives later) → EXCLUDED
 *   O-106 web  AED  C  4 × 45.00 = 180.00 − 5.00 − 8.33 = 166.67 AED × 0.2481 = 41.350827 EUR    accessories
 *                   A  1 × 350.00 = 350.00 − 0 − 16.67 = 333.33 AED × 0.2481 = 82.699173 EUR    footwear
 *                   order total 500.00 AED × 0.2481 = 124.05 EUR
 *   O-107 web  CHF  F  55.50 CHF → HELD OUT (no CHF rate)
 *   O-108 mob  EUR  E  2 × 39.99 = 79.98 − 4.00 − 12.66 = 63.32 EUR              electronics (SKU-E v2, 15:10 ≥ 12:00)
 *   O-109 mob  GBP  A  1 × 75.00 = 75.00 − 2.50 − 12.08 = 60.42 GBP × 1.1650 = 70.3893 EUR   footwear
 *   O-110 web  EUR  (late, posted in request 3)
 *                   C  7 × 12.50 = 87.50 − 2.50 − 14.17 = 70.83 EUR              accessories
 *                   A  1 × 89.90 = 89.90 − 0 − 14.98 = 74.92 EUR                 footwear
 *   Not in W: O-093 (2026-03-09T23:30), O-199 (2026-03-11T00:00, `to` is exclusive), O-090..O-092 (February),
 *   O-111 (quarantined), the altered O-102 resend (duplicate id, ignored).
 *
 *   lines_net = 141.50 + 31.25 + 33.60 + 112.61 + 100.835 + 29.3125 + 87.9375 + 41.350827 + 82.699173
 *             + 63.32 + 70.3893 + 70.83 + 74.92
 *             = 172.75 (O-101) + 146.21 (O-102) + 100.835 (O-103) + 117.25 (O-104) + 124.05 (O-106)
 *             + 63.32 (O-108) + 70.3893 (O-109) + 145.75 (O-110)
 *             = 940.5543                                                      → "940.55"
 *   refunds   = R-1 33.35 GBP × 1.1600 = 38.686 EUR (R-3 is refunded 2026-03-11T09:00, outside W) → "38.69"
 *   value     = 940.5543 − 38.686 = 901.8683                                   → "901.87"
 *   (Rounded once on the final value: 901.87, NOT 940.55 − 38.69 = 901.86.)
 *
 * By category (refund R-1 split over O-104's categories by line net: 25/100 and 75/100)
 *   R-1 share: accessories 38.686 × 25/100 = 9.6715 ; outdoor 38.686 × 75/100 = 29.0145
 *   accessories = 31.25 + 33.60 + 29.3125 + 41.350827 + 70.83 − 9.6715 = 196.671827 → "196.67"
 *   electronics = 63.32                                                          → "63.32"
 *   footwear    = 141.50 + 82.699173 + 70.3893 + 74.92 = 369.508473              → "369.51"
 *   outdoor     = 87.9375 − 29.0145 = 58.923                                     → "58.92"
 *   outerwear   = 112.61 + 100.835 = 213.445 (exactly half a cent: half-up)      → "213.45"
 *   check: 196.671827 + 63.32 + 369.508473 + 58.923 + 213.445 = 901.8683 ✓
 *
 * By seller (refund counts against M-ACME)
 *   M-ACME = 117.25 − 38.686 = 78.564                                           → "78.56"
 *   null   = 901.8683 − 78.564 = 823.3043                                       → "823.30"  (last)
 *
 * By channel
 *   marketplace = 117.25 − 38.686 = 78.564                                      → "78.56"
 *   mobile      = 146.21 + 63.32 + 70.3893 = 279.9193                            → "279.92"
 *   web         = 172.75 + 100.835 + 124.05 + 145.75 = 543.385 (half-up)         → "543.39"
 *
 * ============================================================================================
 * CONVERSION RATE
 *   Orders placed in W (cancelled and held-out included): O-101..O-110 = 10
 *     web: O-101, O-103, O-105, O-106, O-107, O-110 = 6 ; mobile: O-102, O-108, O-109 = 3 ; marketplace: O-104 = 1
 *   Sessions started in W: web S-W01..S-W08 = 8 (S-W00 23:50 the day before and S-W09 at `to` excluded);
 *     mobile S-M01..S-M05 = 5 ; marketplace S-K01..S-K02 = 2 → 15
 *   value = 10 / 15 ; by channel: marketplace 1/2, mobile 3/5, web 6/8
 *
 * ============================================================================================
 * FULFILMENT SLA (parcels delivered in W; on time when delivered_at ≤ the shipment's promised_delivery_at)
 *   SH-1 O-093 17:00 ≤ 18:00 on time ; SH-2 O-101 20:00 ≤ 20:00 on time ; SH-3 O-102 19:30 > 16:00 late ;
 *   SH-4 O-104 14:00 ≤ 15:00 on time ; SH-5 O-104 21:00 > 15:00 late ; SH-6 O-090 09:00 > 03-09T20:00 late ;
 *   SH-7, SH-9 not delivered ; SH-8 delivered 2026-03-11T09:00 (outside W)
 *   value = 3 / 6
 *
 * RETURN RATE
 *   Orders dispatched in W: SH-1 O-093, SH-2 O-101, SH-3 O-102, SH-4/SH-5 O-104, SH-7 O-106, SH-8 O-103,
 *     SH-9 O-108 → {O-093, O-101, O-102, O-103, O-104, O-106, O-108} = 7 (SH-6 dispatched 03-09: not in W)
 *   Orders with a return initiated in W: R-1 & R-2 O-104 (one order), R-3 O-101, R-4 O-090 → 3
 *     (R-5 initiated 2026-03-09: not in W)
 *   value = 3 / 7
 *
 * CSAT INDEX (cases resolved in W with a csat; weight × 100 × (csat − 1)/4)
 *   CS-1 phone  5 → 1.2 × 100 = 120 ; CS-2 chat 4 → 1.0 × 75 = 75 ; CS-3 email 2 → 1.0 × 25 = 25 ;
 *   CS-4 social 1 → 0.8 × 0 = 0 ; CS-7 social 5 → 0.8 × 100 = 80 ;
 *   CS-5 (no csat) left out ; CS-6 resolved 2026-03-09T22:00 (outside W)
 *   numerator = 300 ; denominator = 1.2 + 1.0 + 1.0 + 0.8 + 0.8 = 4.8 ; value = 300 / 4.8 = 62.5
 *
 * ============================================================================================
 * INVENTORY RISK as of to = 2026-03-11T00:00Z; sales range [2026-02-11, 2026-03-11), orders not cancelled
 *   Units:  SKU-A: O-092 20 + O-093 3 + O-101 2 + O-106 1 + O-109 1 + O-110 1 = 28 → demand 28/28 = 1/day
 *           SKU-B: O-091 54 + O-102 1 + O-103 1 = 56 → 2/day
 *                  (O-090 84 on 02-09 is too old, O-105 30 is cancelled, O-199 40 is at `to`: none count)
 *           SKU-C: O-101 3 + O-106 4 + O-110 7 = 14 → 0.5/day
 *           SKU-D: no sales → not evaluated (ATP 0 notwithstanding); SKU-E/F/G: no snapshot → not evaluated
 *   ATP:    SKU-A: PAR latest ≤ to is 03-10T18:00 → 4 ; LYO latest ≤ to is 03-10T06:00 → 2 (03-11T06:00 is after to) → 6
 *           SKU-B: PAR 25 + LYO 15 = 40 ; SKU-C: PAR 1 + LYO 2 = 3
 *   Cover vs lead time of the version valid at `to`:
 *           SKU-A 6/1 = 6 days < 10 (v2 from 03-05; v1 would say 5) → AT RISK
 *           SKU-B 40/2 = 20 days ≥ 14                                → not at risk
 *           SKU-C 3/0.5 = 6 days < 7                                → AT RISK
 *   value = numerator = 2 ; denominator = 3 (A, B, C)
 *   28-day net revenue (EUR):
 *           SKU-A 1333.33 + 200.00 + 141.50 + 82.699173 + 70.3893 + 74.92 = 1902.838473
 *           SKU-B 4500.00 + 112.61 + 100.835 = 4713.445
 *           SKU-C 31.25 + 41.350827 + 70.83 = 143.430827
 *   revenue_share = (1902.838473 + 143.430827) / (1902.838473 + 4713.445 + 143.430827)
 *                 = 2046.2693 / 6759.7143 ≈ 0.3027153529
 *   (No refund falls on SKUs A, B or C within the 28 days, so refunds cannot change this share.)
 *
 * ============================================================================================
 * POST answers
 *   request 1 (batch, 41 events): accepted 40, duplicates 1 (evt-order-O-102 twice), quarantined 0 → 200
 *   request 2 (NDJSON, 56 events): accepted 56, duplicates 0, quarantined 0 → 200
 *   request 3 (batch, 4 events): accepted 2 (O-110, O-105 paid), duplicates 1 (O-102 resent, altered),
 *     quarantined 1 (O-111 at index 2: data.lines[0].quantity, rule minimum/exclusiveMinimum) → 200
 *   request 4 (single CloudEvent): accepted 1
 *   request 1 posted again: accepted 0, duplicates 41, quarantined 0; every KPI unchanged.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startPulse } from '../../src/app.js';
import { generateKey } from '../../src/security/index.js';

// Every route but the docs and health needs a key: this test holds one with every role.
const { key: API_KEY, stored: API_KEY_STORED } = generateKey('fixture test', ['admin']);
const AUTH = { authorization: `Bearer ${API_KEY}` };
import {
  INVALID_EVENT_ID,
  INVALID_INDEX_IN_REQUEST_3,
  REQUEST_1_BATCH,
  REQUEST_2_NDJSON,
  REQUEST_3_BATCH,
  REQUEST_4_SINGLE,
  WINDOW,
} from '../fixtures/kpi-fixture.js';
import type { FixtureEvent } from '../fixtures/kpi-fixture.js';

interface PostAnswer {
  accepted: number;
  duplicates: number;
  quarantined: number;
  quarantined_events: { index: number; id: string; rule: string; field: string; message: string }[];
}

interface BreakdownEntry {
  key: string | null;
  value: unknown;
  numerator: unknown;
  denominator: unknown;
}

interface KpiAnswer {
  id: string;
  value: unknown;
  numerator: unknown;
  denominator: unknown;
  components?: { lines_net: unknown; refunds: unknown };
  revenue_share?: unknown;
  breakdown?: BreakdownEntry[];
}

const KPI_IDS = [
  'net_revenue',
  'conversion_rate',
  'fulfilment_sla',
  'return_rate',
  'csat_index',
  'inventory_risk',
] as const;

function assertClose(actual: unknown, expected: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what}: expected a number, got ${JSON.stringify(actual)}`);
  assert.ok(
    Math.abs((actual as number) - expected) < 1e-9,
    `${what}: expected ${expected}, got ${String(actual)}`,
  );
}

describe('KPIs of the hand-computed fixture', () => {
  let dir = '';
  let pulse: Awaited<ReturnType<typeof startPulse>> | undefined;
  let url = '';
  const answers: { status: number; body: PostAnswer }[] = [];

  async function post(contentType: string, body: string): Promise<{ status: number; body: PostAnswer }> {
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...AUTH },
      body,
    });
    const text = await res.text();
    let parsed: PostAnswer;
    try {
      parsed = JSON.parse(text) as PostAnswer;
    } catch {
      throw new Error(`POST /v1/events answered ${res.status} with a non-JSON body: ${text}`);
    }
    return { status: res.status, body: parsed };
  }

  const postBatch = (events: readonly FixtureEvent[]) =>
    post('application/cloudevents-batch+json', JSON.stringify(events));
  const postNdjson = (events: readonly FixtureEvent[]) =>
    post('application/x-ndjson', events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const postSingle = (event: FixtureEvent) => post('application/cloudevents+json', JSON.stringify(event));

  async function getRaw(
    id: string,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown }> {
    const qs = new URLSearchParams({ from: WINDOW.from, to: WINDOW.to, ...extra });
    const res = await fetch(`${url}/v1/kpis/${id}?${qs.toString()}`, { headers: AUTH });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body };
  }

  async function kpi(id: string, extra: Record<string, string> = {}): Promise<KpiAnswer> {
    const { status, body } = await getRaw(id, extra);
    assert.equal(
      status,
      200,
      `GET ${id} ${JSON.stringify(extra)} answered ${status}: ${JSON.stringify(body)}`,
    );
    const answer = body as KpiAnswer;
    assert.equal(answer.id, id);
    return answer;
  }

  /** The figures of every KPI (and of the breakdowns asserted below), for the idempotency check. */
  async function figures(): Promise<unknown> {
    const out: Record<string, unknown> = {};
    const queries: [string, Record<string, string>][] = [
      ...KPI_IDS.map((id): [string, Record<string, string>] => [id, {}]),
      ['net_revenue', { by: 'category' }],
      ['net_revenue', { by: 'seller' }],
      ['net_revenue', { by: 'channel' }],
      ['conversion_rate', { by: 'channel' }],
    ];
    for (const [id, extra] of queries) {
      const a = await kpi(id, extra);
      out[`${id}?${new URLSearchParams(extra).toString()}`] = {
        value: a.value,
        numerator: a.numerator,
        denominator: a.denominator,
        components: a.components,
        revenue_share: a.revenue_share,
        breakdown: a.breakdown?.map((b) => ({
          key: b.key,
          value: b.value,
          numerator: b.numerator,
          denominator: b.denominator,
        })),
      };
    }
    return out;
  }

  before(async () => {
    // Guard against accidental edits of the fixture: the hand computation depends on these sizes.
    assert.equal(REQUEST_1_BATCH.length, 41);
    assert.equal(REQUEST_2_NDJSON.length, 56);
    assert.equal(REQUEST_3_BATCH.length, 4);
    assert.equal(REQUEST_3_BATCH[INVALID_INDEX_IN_REQUEST_3]?.id, INVALID_EVENT_ID);

    dir = await mkdtemp(join(tmpdir(), 'pulse-kpi-fixture-'));
    pulse = await startPulse({
      apiKeys: [API_KEY_STORED],
      dbPath: join(dir, 'fixture.duckdb'),
      port: 0,
      tokenKey: 'test-key-0123456789abcdef',
      timeZone: 'Europe/Paris',
    });
    url = pulse.url;

    answers.push(await postBatch(REQUEST_1_BATCH));
    await pulse.refresh();
    answers.push(await postNdjson(REQUEST_2_NDJSON));
    await pulse.refresh();
    answers.push(await postBatch(REQUEST_3_BATCH));
    await pulse.refresh();
    answers.push(await postSingle(REQUEST_4_SINGLE));
    await pulse.refresh();
  });

  after(async () => {
    await pulse?.close();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('answers each POST with the right counts', () => {
    const [r1, r2, r3, r4] = answers;
    assert.ok(r1 && r2 && r3 && r4);

    // Request 1: 41 events, evt-order-O-102 twice in the batch.
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.equal(r1.body.accepted, 40);
    assert.equal(r1.body.duplicates, 1);
    assert.equal(r1.body.quarantined, 0);
    assert.deepEqual(r1.body.quarantined_events, []);

    // Request 2: 56 events (NDJSON), all new and valid.
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
    assert.equal(r2.body.accepted, 56);
    assert.equal(r2.body.duplicates, 0);
    assert.equal(r2.body.quarantined, 0);

    // Request 3: late O-110 and O-105 `paid` accepted; O-102 again (altered) is a duplicate;
    // O-111 (quantity 0 on lines[0]) is quarantined with its rule and field.
    assert.equal(r3.status, 200, JSON.stringify(r3.body));
    assert.equal(r3.body.accepted, 2);
    assert.equal(r3.body.duplicates, 1);
    assert.equal(r3.body.quarantined, 1);
    assert.equal(r3.body.quarantined_events.length, 1);
    const q = r3.body.quarantined_events[0];
    assert.ok(q);
    assert.equal(q.index, INVALID_INDEX_IN_REQUEST_3);
    assert.equal(q.id, INVALID_EVENT_ID);
    assert.ok(['minimum', 'exclusiveMinimum'].includes(q.rule), `rule was ${q.rule}`);
    assert.equal(q.field, 'data.lines[0].quantity');
    assert.equal(typeof q.message, 'string');

    // Request 4: one structured CloudEvent.
    assert.equal(r4.status, 200, JSON.stringify(r4.body));
    assert.equal(r4.body.accepted, 1);
    assert.equal(r4.body.duplicates, 0);
    assert.equal(r4.body.quarantined, 0);
  });

  it('net_revenue: value, numerator, denominator and components', async () => {
    const a = await kpi('net_revenue');
    // 940.5543 − 38.686 = 901.8683 → rounded once: "901.87"
    assert.equal(a.value, '901.87');
    assert.equal(String(a.numerator), '901.87');
    assert.equal(a.denominator, null);
    assert.ok(a.components, 'components missing');
    assert.equal(a.components.lines_net, '940.55'); // 940.5543
    assert.equal(a.components.refunds, '38.69'); //   33.35 GBP × 1.16 = 38.686
  });

  it('net_revenue by category: SCD2 category per order time, refund split by line net', async () => {
    const a = await kpi('net_revenue', { by: 'category' });
    assert.deepEqual(
      a.breakdown?.map((b) => ({ key: b.key, value: b.value })),
      [
        { key: 'accessories', value: '196.67' }, // 31.25 + 33.60 + 29.3125 + 41.350827 + 70.83 − 9.6715 = 196.671827
        { key: 'electronics', value: '63.32' }, //  O-108 SKU-E after its 12:00 category change
        { key: 'footwear', value: '369.51' }, //    141.50 + 82.699173 + 70.3893 + 74.92 = 369.508473
        { key: 'outdoor', value: '58.92' }, //      87.9375 − 38.686 × 75/100 = 58.923
        { key: 'outerwear', value: '213.45' }, //   112.61 + 100.835 = 213.445 (half-up)
      ],
    );
  });

  it('net_revenue by seller: the refund counts against M-ACME, null seller last', async () => {
    const a = await kpi('net_revenue', { by: 'seller' });
    assert.deepEqual(
      a.breakdown?.map((b) => ({ key: b.key, value: b.value })),
      [
        { key: 'M-ACME', value: '78.56' }, // 117.25 − 38.686 = 78.564
        { key: null, value: '823.30' }, //    901.8683 − 78.564 = 823.3043
      ],
    );
  });

  it('net_revenue by channel', async () => {
    const a = await kpi('net_revenue', { by: 'channel' });
    assert.deepEqual(
      a.breakdown?.map((b) => ({ key: b.key, value: b.value })),
      [
        { key: 'marketplace', value: '78.56' }, // 117.25 − 38.686 = 78.564
        { key: 'mobile', value: '279.92' }, //     146.21 + 63.32 + 70.3893 = 279.9193
        { key: 'web', value: '543.39' }, //        172.75 + 100.835 + 124.05 + 145.75 = 543.385 (half-up)
      ],
    );
  });

  it('conversion_rate: total and by channel', async () => {
    const a = await kpi('conversion_rate');
    assertClose(a.value, 10 / 15, 'conversion_rate.value');
    assert.equal(a.numerator, 10);
    assert.equal(a.denominator, 15);

    const b = await kpi('conversion_rate', { by: 'channel' });
    const rows = b.breakdown ?? [];
    assert.deepEqual(
      rows.map((r) => [r.key, r.numerator, r.denominator]),
      [
        ['marketplace', 1, 2],
        ['mobile', 3, 5],
        ['web', 6, 8],
      ],
    );
    assertClose(rows[0]?.value, 1 / 2, 'conversion_rate[marketplace]');
    assertClose(rows[1]?.value, 3 / 5, 'conversion_rate[mobile]');
    assertClose(rows[2]?.value, 6 / 8, 'conversion_rate[web]');
  });

  it('fulfilment_sla', async () => {
    const a = await kpi('fulfilment_sla');
    assertClose(a.value, 3 / 6, 'fulfilment_sla.value'); // SH-1, SH-2 (equal), SH-4 on time of 6 delivered
    assert.equal(a.numerator, 3);
    assert.equal(a.denominator, 6);
  });

  it('return_rate', async () => {
    const a = await kpi('return_rate');
    assertClose(a.value, 3 / 7, 'return_rate.value'); // {O-104, O-101, O-090} ÷ 7 dispatched orders
    assert.equal(a.numerator, 3);
    assert.equal(a.denominator, 7);
  });

  it('csat_index', async () => {
    const a = await kpi('csat_index');
    assertClose(a.value, 300 / 4.8, 'csat_index.value'); // 62.5
    assertClose(a.numerator, 120 + 75 + 25 + 0 + 80, 'csat_index.numerator');
    assertClose(a.denominator, 1.2 + 1.0 + 1.0 + 0.8 + 0.8, 'csat_index.denominator');
  });

  it('inventory_risk: count and revenue share', async () => {
    const a = await kpi('inventory_risk');
    assert.equal(a.value, 2); // SKU-A (6 < 10 days) and SKU-C (6 < 7 days)
    assert.equal(a.numerator, 2);
    assert.equal(a.denominator, 3); // SKU-A, SKU-B, SKU-C
    assertClose(a.revenue_share, 2046.2693 / 6759.7143, 'inventory_risk.revenue_share');
  });

  it('rejects an unsupported breakdown with 400 naming `by`', async () => {
    for (const [id, by] of [
      ['conversion_rate', 'brand'],
      ['inventory_risk', 'seller'],
    ] as const) {
      const { status, body } = await getRaw(id, { by });
      assert.equal(status, 400, `${id}?by=${by} answered ${status}`);
      const error = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } }).error;
      assert.ok(error, `${id}?by=${by}: no error object in ${JSON.stringify(body)}`);
      assert.equal(error.field, 'by');
      assert.equal(typeof error.code, 'string');
      assert.equal(typeof error.message, 'string');
    }
  });

  it('posting the same batch again changes nothing', async () => {
    assert.ok(pulse);
    const before = await figures();
    const again = await postBatch(REQUEST_1_BATCH);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.accepted, 0);
    assert.equal(again.body.duplicates, 41);
    assert.equal(again.body.quarantined, 0);
    await pulse.refresh();
    const afterRepost = await figures();
    assert.deepEqual(afterRepost, before);
    // And the figures are still the hand-computed ones.
    const nr = await kpi('net_revenue');
    assert.equal(nr.value, '901.87');
  });
});
