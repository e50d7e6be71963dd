/**
 * The synthetic traffic generator: every property below is computed from the generated events
 * themselves (the generator's internals are not consulted), except `noiseOf`, which says which events
 * were made late, duplicated or invalid on purpose.
 *
 * Ordering rule: the envelope `time` of successive events never decreases, except for a duplicate
 * re-emission, which carries the `time` of its original, comes after it and at most
 * MAX_DUPLICATE_DELAY_MS later.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createContractValidator } from '../../src/contracts/index.js';
import { EVENT_TYPES } from '../../src/contracts/types.js';
import type { CloudEvent } from '../../src/contracts/types.js';
import {
  CATEGORIES,
  COUNTRIES,
  INVALID_MUTATIONS,
  MAX_DUPLICATE_DELAY_MS,
  MAX_LATE_DELAY_MS,
  MinHeap,
  PostError,
  Random,
  WeightedPicker,
  generateEvents,
  invalidMutationOf,
  noiseOf,
  postEvents,
  retryAfterMs,
  startLiveTraffic,
  toNdjson,
  writeNdjsonFile,
} from '../../src/generator/index.js';
import type { Scheduled } from '../../src/generator/index.js';
import { runGenerate } from '../../src/cli/commands/generate.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
/** A Monday, midnight UTC. */
const MONDAY = new Date('2024-03-04T00:00:00Z');

type Data = Record<string, unknown>;
type Line = {
  line_no: number;
  sku: string;
  quantity: number;
  unit_price: number;
  discount: number;
  tax: number;
};

const cents = (x: unknown): number => Math.round(Number(x) * 100);
const hasAtMostTwoDecimals = (x: unknown): boolean =>
  typeof x === 'number' && Number.isFinite(x) && Math.abs(x * 100 - Math.round(x * 100)) < 1e-6;
const VAT = new Map(COUNTRIES.map((c) => [c.code, c.vatRate]));

/** Paris wall-clock hour of an instant (March 2024: UTC+1). */
const parisHour = (ms: number): number => new Date(ms + 3_600_000).getUTCHours();

// -------------------------------------------------------------------------------------------------
// Building blocks

test('Random is deterministic, in range and roughly uniform; derived streams differ', () => {
  const a = new Random(42);
  const b = new Random(42);
  const c = new Random(43);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(
    xs,
    Array.from({ length: 1000 }, () => b.next()),
  );
  assert.notDeepEqual(
    xs.slice(0, 10),
    Array.from({ length: 10 }, () => c.next()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  const r = new Random(7);
  for (let i = 0; i < 1000; i++) {
    const k = r.int(3, 5);
    assert.ok(k >= 3 && k <= 5 && Number.isInteger(k));
  }
  const normals = Array.from({ length: 20_000 }, () => r.normal(10, 2));
  const nMean = normals.reduce((s, x) => s + x, 0) / normals.length;
  const nSd = Math.sqrt(normals.reduce((s, x) => s + (x - nMean) ** 2, 0) / normals.length);
  assert.ok(Math.abs(nMean - 10) < 0.1 && Math.abs(nSd - 2) < 0.1, `normal ${nMean} ${nSd}`);
  const exps = Array.from({ length: 20_000 }, () => r.exponential(3));
  assert.ok(Math.abs(exps.reduce((s, x) => s + x, 0) / exps.length - 3) < 0.15);
  const poissons = Array.from({ length: 5000 }, () => r.poisson(4));
  assert.ok(Math.abs(poissons.reduce((s, x) => s + x, 0) / poissons.length - 4) < 0.15);
  assert.notEqual(Random.derive(1, 'a').next(), Random.derive(1, 'b').next());
});

test('WeightedPicker draws in proportion to the weights and never draws a zero weight', () => {
  const picker = new WeightedPicker(['a', 'b', 'c', 'd'], [1, 2, 7, 0]);
  const rng = new Random(3);
  const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
  for (let i = 0; i < 100_000; i++) {
    const key = picker.pick(rng);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  const total = Object.values(counts).reduce((s, x) => s + x, 0);
  assert.equal(counts.d, 0);
  assert.ok(Math.abs((counts.a ?? 0) / total - 0.1) < 0.01);
  assert.ok(Math.abs((counts.c ?? 0) / total - 0.7) < 0.01);
  assert.throws(() => new WeightedPicker(['a'], [0]), RangeError);
});

test('MinHeap pops by time, then in insertion order for equal times', () => {
  const heap = new MinHeap<Scheduled & { name: string }>();
  const rng = new Random(5);
  const items = Array.from({ length: 2000 }, (_, i) => ({ t: rng.int(0, 300), seq: 0, name: `n${i}` }));
  for (const item of items) heap.push(item);
  const out: (Scheduled & { name: string })[] = [];
  for (let x = heap.pop(); x !== undefined; x = heap.pop()) out.push(x);
  assert.equal(out.length, items.length);
  const expected = [...items].sort((a, b) => a.t - b.t || Number(a.name.slice(1)) - Number(b.name.slice(1)));
  assert.deepEqual(
    out.map((x) => x.name),
    expected.map((x) => x.name),
  );
  assert.equal(heap.size, 0);
});

test('retryAfterMs reads delta-seconds and HTTP dates', () => {
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs(null), undefined);
  assert.equal(retryAfterMs('soon'), undefined);
  const now = Date.parse('2024-03-04T10:00:00Z');
  assert.equal(retryAfterMs('Mon, 04 Mar 2024 10:00:05 GMT', now), 5000);
  assert.equal(retryAfterMs('Mon, 04 Mar 2024 09:00:00 GMT', now), 0);
});

// -------------------------------------------------------------------------------------------------
// Full scale: 2 days at 60,000 orders/day

test('two days at full scale look like the company', async (t) => {
  const from = MONDAY;
  const to = new Date(from.getTime() + 2 * DAY);
  const started = performance.now();
  let total = 0;
  const noise = { late: 0, duplicate: 0, invalid: 0 };
  let orders = 0;
  let sessions = 0;
  let orderValue = 0;
  let marketplaceValue = 0;
  const perMinute = new Map<number, number>();
  const perParisHour = new Array<number>(24).fill(0);
  const fx = new Map<string, number>();
  const problems: string[] = [];
  const problem = (message: string): void => {
    if (problems.length < 20) problems.push(message);
  };
  for (const event of generateEvents(from, to, { seed: 11 })) {
    total++;
    const kind = noiseOf(event);
    if (kind !== undefined) noise[kind]++;
    if (kind === 'duplicate' || kind === 'invalid') continue;
    const data = event.data as Data;
    if (event.type === 'session.started') {
      sessions++;
    } else if (event.type === 'fx.rate') {
      fx.set(String(data.currency), Number(data.rate_to_eur));
    } else if (event.type === 'order.placed') {
      orders++;
      const placed = Date.parse(String(data.placed_at));
      const minute = Math.floor(placed / MINUTE);
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
      perParisHour[parisHour(placed)] = (perParisHour[parisHour(placed)] ?? 0) + 1;
      const currency = String(data.currency);
      const country = String(data.country);
      const channel = String(data.channel);
      const rate = currency === 'EUR' ? 1 : fx.get(currency);
      if (rate === undefined) problem(`no ${currency} rate before ${String(data.order_id)}`);
      const expectedCurrency = country === 'AE' ? 'AED' : country === 'SA' ? 'SAR' : 'EUR';
      if (
        currency !== expectedCurrency &&
        !(currency === 'GBP' && expectedCurrency === 'EUR' && channel === 'marketplace')
      ) {
        problem(`${country} order in ${currency} on ${channel}`);
      }
      if ((data.seller_id !== undefined) !== (channel === 'marketplace'))
        problem(`seller_id on a ${channel} order`);
      if (data.session_id !== undefined && (channel === 'store' || channel === 'partner'))
        problem(`session on ${channel}`);
      const promise = (Date.parse(String(data.promised_delivery_at)) - placed) / DAY;
      if (!(promise >= 2 && promise <= 5.05)) problem(`promise ${promise} days`);
      const lines = data.lines as Line[];
      if (lines.length < 1 || lines.length > 5) problem(`${lines.length} lines`);
      let net = 0;
      for (const line of lines) {
        if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > 3)
          problem(`quantity ${line.quantity}`);
        for (const money of [line.unit_price, line.discount, line.tax]) {
          if (!hasAtMostTwoDecimals(money)) problem(`money ${money}`);
        }
        const gross = line.quantity * cents(line.unit_price);
        const vat = VAT.get(country) ?? 0;
        const tax = Math.round(((gross - cents(line.discount)) * vat) / (1 + vat));
        if (tax !== cents(line.tax)) problem(`tax ${line.tax} for ${JSON.stringify(line)} in ${country}`);
        net += (gross - cents(line.discount) - cents(line.tax)) / 100;
      }
      const eur = net * (rate ?? 0);
      orderValue += eur;
      if (channel === 'marketplace') marketplaceValue += eur;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(
    `${total} events in ${seconds.toFixed(2)} s (${Math.round(total / seconds)} events/s, with the checks)`,
  );

  await t.test('every order is well formed (currencies, sellers, sessions, money, tax, promise)', () => {
    assert.deepEqual(problems, []);
  });
  await t.test('about 60,000 orders a day (±10 %)', () => {
    t.diagnostic(`orders ${orders}`);
    assert.ok(orders >= 108_000 && orders <= 132_000, `orders ${orders}`);
  });
  await t.test('sessions convert at 2–4 %', () => {
    const conversion = orders / sessions;
    t.diagnostic(`sessions ${sessions}, conversion ${(conversion * 100).toFixed(2)} %`);
    assert.ok(conversion >= 0.02 && conversion <= 0.04, `conversion ${conversion}`);
  });
  await t.test('the marketplace brings 30–40 % of the order value (EUR)', () => {
    const share = marketplaceValue / orderValue;
    t.diagnostic(`marketplace share ${(share * 100).toFixed(1)} %`);
    assert.ok(share >= 0.3 && share <= 0.4, `share ${share}`);
  });
  await t.test('flash sales pass 500 orders a minute; nights are quiet, evenings busy', () => {
    const peak = Math.max(...perMinute.values());
    t.diagnostic(`busiest minute ${peak} orders`);
    assert.ok(peak > 500, `peak ${peak}`);
    const night = (perParisHour[3] ?? 0) + (perParisHour[4] ?? 0);
    const evening = (perParisHour[20] ?? 0) + (perParisHour[21] ?? 0);
    assert.ok(night * 4 < evening, `night ${night} evening ${evening}`);
  });
  await t.test('noise shares are near the defaults', () => {
    const share = (k: keyof typeof noise): number => noise[k] / total;
    t.diagnostic(`late ${share('late')}, duplicate ${share('duplicate')}, invalid ${share('invalid')}`);
    assert.ok(Math.abs(share('late') - 0.01) < 0.001);
    assert.ok(Math.abs(share('duplicate') - 0.005) < 0.0007);
    assert.ok(Math.abs(share('invalid') - 0.002) < 0.0004);
  });
});

// -------------------------------------------------------------------------------------------------
// A month at 1,000 orders a day: fulfilment, returns, support, inventory, dimensions

test('a month of history: deliveries, returns, support, inventory and dimension changes', async (t) => {
  const from = MONDAY;
  const to = new Date(from.getTime() + 30 * DAY);
  const returnHorizon = to.getTime() - 20 * DAY; // returns start at most 20 days after delivery
  const categoryOf = new Map<string, string>();
  const productVersions = new Map<string, number>();
  const customerVersions = new Map<string, number>();
  const orders = new Map<string, { currency: string; lines: Line[]; categories: string[] }>();
  const promised = new Map<string, number>();
  const deliveries: { shipment: string; order: string; at: number }[] = [];
  const returns = new Map<
    string,
    { order: string; lines: { line_no: number; quantity: number }[]; at: number }
  >();
  const refunds: { id: string; order: string; amount: number; currency: string; at: number }[] = [];
  const cases: Data[] = [];
  const latestStock = new Map<string, number>();
  const leadTime = new Map<string, number>();
  const unitsSold = new Map<string, number>();
  const fxHours: string[] = [];
  const fxRates = new Map<string, number[]>();
  let orderCount = 0;
  const types = new Set<string>();
  for (const event of generateEvents(from, to, { seed: 5, ordersPerDay: 1000 })) {
    types.add(event.type);
    const kind = noiseOf(event);
    if (kind === 'duplicate' || kind === 'invalid') continue;
    const d = event.data as Data;
    switch (event.type) {
      case 'product.upserted':
        if (!categoryOf.has(String(d.sku))) categoryOf.set(String(d.sku), String(d.category));
        productVersions.set(String(d.sku), (productVersions.get(String(d.sku)) ?? 0) + 1);
        leadTime.set(String(d.sku), Number(d.lead_time_days));
        break;
      case 'customer.upserted':
        customerVersions.set(String(d.customer_id), (customerVersions.get(String(d.customer_id)) ?? 0) + 1);
        break;
      case 'fx.rate':
        if (d.currency === 'GBP') fxHours.push(String(d.hour));
        fxRates.set(String(d.currency), [...(fxRates.get(String(d.currency)) ?? []), Number(d.rate_to_eur)]);
        break;
      case 'order.placed': {
        orderCount++;
        const lines = d.lines as Line[];
        orders.set(String(d.order_id), {
          currency: String(d.currency),
          lines,
          categories: lines.map((l) => categoryOf.get(l.sku) ?? '?'),
        });
        for (const l of lines) unitsSold.set(l.sku, (unitsSold.get(l.sku) ?? 0) + l.quantity);
        break;
      }
      case 'shipment.dispatched':
        promised.set(String(d.shipment_id), Date.parse(String(d.promised_delivery_at)));
        break;
      case 'shipment.delivered':
        deliveries.push({
          shipment: String(d.shipment_id),
          order: String(d.order_id),
          at: Date.parse(String(d.delivered_at)),
        });
        break;
      case 'return.initiated':
        returns.set(String(d.return_id), {
          order: String(d.order_id),
          lines: d.lines as { line_no: number; quantity: number }[],
          at: Date.parse(String(d.initiated_at)),
        });
        break;
      case 'return.refunded':
        refunds.push({
          id: String(d.return_id),
          order: String(d.order_id),
          amount: Number(d.amount),
          currency: String(d.currency),
          at: Date.parse(String(d.refunded_at)),
        });
        break;
      case 'support_case.resolved':
        cases.push(d);
        break;
      case 'inventory.snapshot':
        latestStock.set(`${String(d.sku)}|${String(d.warehouse)}`, Number(d.available_to_promise));
        break;
      default:
        break;
    }
  }

  await t.test('every event type appears', () => {
    assert.deepEqual([...types].sort(), [...EVENT_TYPES].sort());
  });

  await t.test('85–95 % of parcels arrive on or before their promise', () => {
    let onTime = 0;
    let counted = 0;
    for (const delivery of deliveries) {
      const promise = promised.get(delivery.shipment);
      if (promise === undefined) continue;
      counted++;
      if (delivery.at <= promise) onTime++;
    }
    t.diagnostic(`on time ${onTime} / ${counted} = ${((onTime / counted) * 100).toFixed(1)} %`);
    assert.ok(counted > 20_000);
    assert.ok(onTime / counted >= 0.85 && onTime / counted <= 0.95);
  });

  await t.test('each category returns its share of delivered lines (10–25 %)', () => {
    const delivered = new Map<string, number>();
    const returned = new Map<string, number>();
    const deliveredAt = new Map<string, number>();
    for (const delivery of deliveries) {
      deliveredAt.set(delivery.order, delivery.at);
      if (delivery.at >= returnHorizon) continue;
      for (const category of orders.get(delivery.order)?.categories ?? []) {
        delivered.set(category, (delivered.get(category) ?? 0) + 1);
      }
    }
    for (const r of returns.values()) {
      const at = deliveredAt.get(r.order);
      const order = orders.get(r.order);
      if (at === undefined || order === undefined) continue;
      const days = (r.at - at) / DAY;
      assert.ok(days >= 2 && days <= 20, `return ${days} days after delivery`);
      if (at >= returnHorizon) continue;
      for (const line of r.lines) {
        const category = order.categories[line.line_no - 1] ?? '?';
        returned.set(category, (returned.get(category) ?? 0) + 1);
      }
    }
    for (const category of CATEGORIES) {
      const share = (returned.get(category.name) ?? 0) / (delivered.get(category.name) ?? 1);
      t.diagnostic(
        `${category.name}: ${(share * 100).toFixed(1)} % of ${delivered.get(category.name)} lines (rate ${category.returnRate})`,
      );
      assert.ok(category.returnRate >= 0.1 && category.returnRate <= 0.25);
      assert.ok(Math.abs(share - category.returnRate) < 0.035, `${category.name} ${share}`);
    }
  });

  await t.test(
    'a refund is the returned lines’ net, in the order currency, 1–5 days after the return',
    () => {
      let checked = 0;
      for (const refund of refunds) {
        const r = returns.get(refund.id);
        const order = orders.get(refund.order);
        if (r === undefined || order === undefined) continue;
        let expected = 0;
        for (const line of r.lines) {
          const l = order.lines[line.line_no - 1];
          if (l === undefined) assert.fail(`${r.order} has no line ${line.line_no}`);
          assert.ok(line.quantity >= 1 && line.quantity <= l.quantity);
          const net = l.quantity * cents(l.unit_price) - cents(l.discount) - cents(l.tax);
          expected += line.quantity === l.quantity ? net : Math.round((net * line.quantity) / l.quantity);
        }
        assert.equal(cents(refund.amount), expected);
        assert.ok(hasAtMostTwoDecimals(refund.amount));
        assert.equal(refund.currency, order.currency);
        const days = (refund.at - r.at) / DAY;
        assert.ok(days >= 1 && days <= 5, `refund ${days} days after the return`);
        checked++;
      }
      assert.ok(checked > 1000, `${checked} refunds checked`);
    },
  );

  await t.test(
    'about 3 % of orders lead to a support case; csat 1–5 or missing, sentiment in [-1, 1]',
    () => {
      const share = cases.length / orderCount;
      const withOrder = cases.filter((c) => c.order_id !== undefined).length;
      const withCsat = cases.filter((c) => c.csat !== undefined);
      t.diagnostic(
        `${cases.length} cases for ${orderCount} orders (${(share * 100).toFixed(2)} %), ${withOrder} with an order`,
      );
      assert.ok(share >= 0.02 && share <= 0.045);
      assert.ok(withOrder < cases.length && withOrder > cases.length / 2);
      assert.ok(withCsat.length < cases.length && withCsat.length > cases.length / 2);
      for (const c of cases) {
        if (c.csat !== undefined)
          assert.ok(Number.isInteger(c.csat) && Number(c.csat) >= 1 && Number(c.csat) <= 5);
        if (c.sentiment !== undefined) assert.ok(Number(c.sentiment) >= -1 && Number(c.sentiment) <= 1);
        assert.ok(['chat', 'email', 'phone', 'social'].includes(String(c.channel)));
        assert.ok(Date.parse(String(c.opened_at)) <= Date.parse(String(c.resolved_at)));
      }
    },
  );

  await t.test('some SKUs are at inventory risk (cover below lead time), most are not', () => {
    const atp = new Map<string, number>();
    for (const [key, value] of latestStock) {
      const sku = key.split('|')[0] ?? '';
      atp.set(sku, (atp.get(sku) ?? 0) + value);
    }
    let atRisk = 0;
    for (const [sku, units] of unitsSold) {
      const cover = (atp.get(sku) ?? 0) / (units / 30);
      if (cover < (leadTime.get(sku) ?? 0)) atRisk++;
    }
    const share = atRisk / unitsSold.size;
    t.diagnostic(`${atRisk} of ${unitsSold.size} selling SKUs at risk (${(share * 100).toFixed(1)} %)`);
    assert.ok(share > 0.01 && share < 0.4);
  });

  await t.test('products and customers get new versions over time; FX rates come every hour', () => {
    const changedProducts = [...productVersions.values()].filter((n) => n > 1).length;
    const changedCustomers = [...customerVersions.values()].filter((n) => n > 1).length;
    t.diagnostic(
      `${productVersions.size} SKUs, ${changedProducts} changed; ${customerVersions.size} customers, ${changedCustomers} changed`,
    );
    assert.ok(productVersions.size >= 1900 && productVersions.size <= 2000);
    assert.ok(changedProducts >= 30, `changed products ${changedProducts}`);
    assert.ok(changedCustomers >= 100, `changed customers ${changedCustomers}`);
    assert.ok(fxHours.length >= 30 * 24 * 0.98, `${fxHours.length} GBP rates`);
    assert.ok(fxHours.every((h) => /^\d{4}-\d{2}-\d{2}T\d{2}:00:00(\.000)?Z$/.test(h)));
    const within = (currency: string, lo: number, hi: number): void => {
      const rates = fxRates.get(currency) ?? [];
      assert.ok(
        rates.length > 0 && rates.every((r) => r > lo && r < hi && Math.round(r * 1e6) / 1e6 === r),
        currency,
      );
    };
    within('GBP', 1.08, 1.26);
    within('AED', 0.23, 0.27);
    within('SAR', 0.225, 0.265);
  });
});

// -------------------------------------------------------------------------------------------------
// Determinism

function digest(events: Iterable<CloudEvent>): { hash: string; count: number } {
  const hash = createHash('sha256');
  let count = 0;
  for (const event of events) {
    hash.update(JSON.stringify(event));
    hash.update('\n');
    count++;
  }
  return { hash: hash.digest('hex'), count };
}

test('the same seed and options give exactly the same events; another seed does not', () => {
  const from = new Date('2024-03-09T06:30:00Z');
  const to = new Date(from.getTime() + DAY);
  const options = { seed: 99, ordersPerDay: 2000 };
  const events = generateEvents(from, to, options);
  const first = digest(events);
  const again = digest(events); // iterating the same iterable replays it
  const fresh = digest(generateEvents(from, to, { ...options }));
  const other = digest(generateEvents(from, to, { ...options, seed: 100 }));
  assert.ok(first.count > 50_000);
  assert.deepEqual(again, first);
  assert.deepEqual(fresh, first);
  assert.notEqual(other.hash, first.hash);
  // A shorter window is a prefix of a longer one.
  const half = digest(generateEvents(from, new Date(from.getTime() + DAY / 2), options));
  let n = 0;
  const hash = createHash('sha256');
  for (const event of events) {
    if (n++ >= half.count) break;
    hash.update(JSON.stringify(event));
    hash.update('\n');
  }
  assert.equal(hash.digest('hex'), half.hash);
});

// -------------------------------------------------------------------------------------------------
// Ids, ordering, noise and contracts

test('ids, emission order, noise and contracts', async (t) => {
  const from = new Date('2024-03-05T13:17:05.250Z');
  const to = new Date(from.getTime() + DAY);
  const options = { seed: 21, ordersPerDay: 3000, lateShare: 0.02, duplicateShare: 0.01, invalidShare: 0.01 };
  const validator = createContractValidator();
  const firstSeen = new Map<string, { json: string; time: number }>();
  const mutations = new Set<string>();
  const stats = { total: 0, duplicates: 0, late: 0, invalid: 0 };
  const failures: string[] = [];
  const fail = (message: string): void => {
    if (failures.length < 20) failures.push(message);
  };
  let maxTime = Number.NEGATIVE_INFINITY;
  const types = new Set<string>();
  for (const event of generateEvents(from, to, options)) {
    stats.total++;
    types.add(event.type);
    const kind = noiseOf(event);
    const time = Date.parse(event.time ?? '');
    const json = JSON.stringify(event);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(event.id))
      fail(`id ${event.id}`);
    if (!(time >= from.getTime() && time < to.getTime())) fail(`time ${event.time} outside the window`);
    const earlier = firstSeen.get(event.id);
    if (kind === 'duplicate') {
      stats.duplicates++;
      if (earlier === undefined) fail(`duplicate ${event.id} was never emitted before`);
      else if (earlier.json !== json) fail(`duplicate ${event.id} differs from its original`);
      if (!(time <= maxTime && maxTime - time <= MAX_DUPLICATE_DELAY_MS))
        fail(`duplicate ${event.id} out of place`);
    } else {
      if (earlier !== undefined) fail(`id ${event.id} reused by a ${event.type}`);
      if (time < maxTime) fail(`${event.type} ${event.time} after ${new Date(maxTime).toISOString()}`);
      maxTime = Math.max(maxTime, time);
      firstSeen.set(event.id, { json, time });
    }
    const result = validator.validate(JSON.parse(json));
    if (kind === 'invalid') {
      stats.invalid++;
      mutations.add(invalidMutationOf(event) ?? '?');
      if (result.ok) fail(`injected invalid ${invalidMutationOf(event)} passed: ${json}`);
    } else if (!result.ok) {
      fail(`${event.type} failed its contract: ${JSON.stringify(result.violation)} ${json.slice(0, 300)}`);
    }
    if (kind === 'late') {
      stats.late++;
      const data = event.data as Data;
      const business = Object.entries(data)
        .filter(
          ([key]) =>
            (key.endsWith('_at') || key === 'as_of') && key !== 'promised_delivery_at' && key !== 'opened_at',
        )
        .map(([, value]) => Date.parse(String(value)))
        .concat(event.type === 'fx.rate' ? [Date.parse(String(data.hour))] : []);
      const lateness = time - Math.max(...business);
      if (!(lateness > 0 && lateness <= MAX_LATE_DELAY_MS + 1000))
        fail(`late ${event.type} by ${lateness} ms`);
    }
  }
  t.diagnostic(JSON.stringify(stats));

  await t.test(
    'ids are unique UUIDs except the injected duplicates, the ordering rule holds, late is late',
    () => {
      assert.deepEqual(failures, []);
    },
  );
  await t.test('every event type but returns appears within a day', () => {
    assert.deepEqual([...types].sort(), EVENT_TYPES.filter((type) => !type.startsWith('return.')).sort());
  });
  await t.test('noise shares are near the options', () => {
    assert.ok(
      Math.abs(stats.duplicates / stats.total - 0.01) < 0.002,
      `duplicates ${stats.duplicates / stats.total}`,
    );
    assert.ok(Math.abs(stats.late / stats.total - 0.02) < 0.003, `late ${stats.late / stats.total}`);
    assert.ok(Math.abs(stats.invalid / stats.total - 0.01) < 0.002, `invalid ${stats.invalid / stats.total}`);
    assert.ok(
      mutations.size >= 5 &&
        [...mutations].every((m) => (INVALID_MUTATIONS as readonly string[]).includes(m)),
    );
  });
  await t.test('every kind of mutation occurs and breaks the contract', () => {
    const seen = new Map<string, number>();
    for (const event of generateEvents(from, new Date(from.getTime() + DAY / 2), {
      ...options,
      invalidShare: 0.3,
    })) {
      if (noiseOf(event) !== 'invalid') continue;
      const mutation = invalidMutationOf(event) ?? '?';
      seen.set(mutation, (seen.get(mutation) ?? 0) + 1);
      const result = validator.validate(JSON.parse(JSON.stringify(event)));
      assert.equal(result.ok, false, `${mutation} passed: ${JSON.stringify(event)}`);
    }
    t.diagnostic(JSON.stringify(Object.fromEntries(seen)));
    assert.deepEqual([...seen.keys()].sort(), [...INVALID_MUTATIONS].sort());
  });
  await t.test('without noise, nothing is late, duplicated or invalid', () => {
    let count = 0;
    for (const event of generateEvents(from, new Date(from.getTime() + 3 * 3_600_000), {
      ...options,
      lateShare: 0,
      duplicateShare: 0,
      invalidShare: 0,
    })) {
      count++;
      assert.equal(noiseOf(event), undefined);
    }
    assert.ok(count > 1000);
  });
});

test('bad options are refused with the option named', () => {
  const from = MONDAY;
  const to = new Date(from.getTime() + DAY);
  assert.throws(() => generateEvents(from, to, { ordersPerDay: 0 }), /ordersPerDay/);
  assert.throws(() => generateEvents(from, to, { lateShare: 2 }), /lateShare/);
  assert.throws(() => generateEvents(from, to, { lateShare: 0.5, duplicateShare: 0.5 }), /below 1/);
  assert.throws(() => generateEvents(from, to, { timeZone: 'Mars/Olympus' }), /timeZone/);
  assert.throws(() => generateEvents(new Date('x'), to), /from/);
  assert.deepEqual([...generateEvents(to, from)], []);
});

// -------------------------------------------------------------------------------------------------
// Live traffic

test('live traffic hands over due events in order, one batch at a time', async () => {
  const batches: CloudEvent[][] = [];
  let active = 0;
  let maxActive = 0;
  // A fixed simulated start: the stream then does not depend on the wall clock, only its pace does.
  const from = new Date('2026-03-02T09:17:23.456Z');
  const wallStart = Date.now();
  const speed = 600; // 10 simulated minutes per second
  const live = startLiveTraffic({
    from,
    seed: 3,
    ordersPerDay: 20_000,
    speed,
    intervalMs: 20,
    async onBatch(events) {
      active++;
      maxActive = Math.max(maxActive, active);
      const simNow = from.getTime() + (Date.now() - wallStart) * speed;
      for (const event of events) assert.ok(Date.parse(event.time ?? '') <= simNow + 1000);
      batches.push(events);
      await new Promise((resolve) => setTimeout(resolve, 35)); // slower than the interval
      active--;
    },
  });
  // At least three batches, however loaded the machine: the timing itself is not under test.
  for (let waited = 0; batches.length < 3 && waited < 30_000; waited += 50)
    await new Promise((resolve) => setTimeout(resolve, 50));
  await live.stop();
  const after = batches.length;
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(batches.length, after, 'no batch after stop()');
  assert.equal(maxActive, 1);
  assert.ok(batches.length >= 3, `${batches.length} batches`);
  const all = batches.flat();
  assert.equal(live.emitted, all.length);
  assert.ok(all.some((e) => e.type === 'channel.upserted'));
  assert.ok(all.some((e) => e.type === 'session.started'));
  // Same stream as the batch generator from the same start, in the same order.
  const expected = [...generateEvents(from, new Date(from.getTime() + 1), { seed: 3, ordersPerDay: 20_000 })];
  assert.ok(expected.length > 0);
  assert.deepEqual(all.slice(0, expected.length), expected);
});

test('live traffic stops on a failing onBatch and stop() reports the error', async () => {
  const live = startLiveTraffic({
    seed: 1,
    ordersPerDay: 1000,
    intervalMs: 10,
    onBatch: () => Promise.reject(new Error('sink down')),
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await assert.rejects(live.stop(), /sink down/);
});

// -------------------------------------------------------------------------------------------------
// Sinks and the CLI

const small = (): Iterable<CloudEvent> =>
  generateEvents(new Date('2024-03-06T10:00:00Z'), new Date('2024-03-06T16:00:00Z'), {
    seed: 8,
    ordersPerDay: 1500,
  });

test('NDJSON files hold one event per line, identical to the generated ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-gen-'));
  try {
    const path = join(dir, 'events.ndjson');
    const events = [...small()];
    const result = await writeNdjsonFile(events, path, { chunkSize: 4096 });
    const text = readFileSync(path, 'utf8');
    assert.equal(result.events, events.length);
    assert.equal(result.bytes, Buffer.byteLength(text));
    assert.equal(text, toNdjson(events));
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, events.length);
    assert.deepEqual(JSON.parse(lines[10] ?? ''), JSON.parse(JSON.stringify(events[10])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface FakePulse {
  url: string;
  received: CloudEvent[];
  requests: number;
  maxInFlight: number;
  contentTypes: Set<string>;
  close(): Promise<void>;
}

/** A stand-in for POST /v1/events: answers with `respond(requestNo)` (a status and headers). */
async function fakePulse(
  respond: (n: number) => { status: number; headers?: Record<string, string> },
): Promise<FakePulse> {
  const state = {
    received: [] as CloudEvent[],
    requests: 0,
    inFlight: 0,
    maxInFlight: 0,
    contentTypes: new Set<string>(),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = state.requests++;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    state.contentTypes.add(String(req.headers['content-type']));
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      setTimeout(() => {
        const answer = req.url === '/v1/events' && req.method === 'POST' ? respond(n) : { status: 404 };
        if (answer.status >= 200 && answer.status < 300) {
          for (const line of body.split('\n'))
            if (line.length > 0) state.received.push(JSON.parse(line) as CloudEvent);
        }
        state.inFlight--;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end('{}');
      }, 5);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get received() {
      return state.received;
    },
    get requests() {
      return state.requests;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    contentTypes: state.contentTypes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('posting: NDJSON batches, bounded concurrency, retries on 429/503 honouring Retry-After', async () => {
  const pulse = await fakePulse((n) =>
    n === 1 ? { status: 429, headers: { 'retry-after': '0' } } : n === 4 ? { status: 503 } : { status: 202 },
  );
  try {
    const events = [...small()].slice(0, 2345);
    const result = await postEvents(events, { url: `${pulse.url}/`, batchSize: 500, concurrency: 2 });
    assert.equal(result.events, events.length);
    assert.equal(result.batches, 5);
    assert.equal(result.retries, 2);
    assert.equal(pulse.requests, 7);
    assert.ok(pulse.maxInFlight <= 2);
    assert.deepEqual([...pulse.contentTypes], ['application/x-ndjson']);
    assert.deepEqual(pulse.received.map((e) => e.id).sort(), events.map((e) => e.id).sort());
  } finally {
    await pulse.close();
  }
});

test('posting stops with a PostError on a refusal that is not worth retrying', async () => {
  const pulse = await fakePulse(() => ({ status: 400 }));
  try {
    await assert.rejects(postEvents(small(), { url: pulse.url, batchSize: 100 }), (error: unknown) => {
      assert.ok(error instanceof PostError);
      assert.equal((error as PostError).status, 400);
      return true;
    });
  } finally {
    await pulse.close();
  }
});

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

test('pulse generate: a clear one-line error naming the bad flag, exit code 2', async () => {
  const cases: [string[], RegExp][] = [
    [['--days', 'x'], /--days must be a positive integer.*got "x"/],
    [['--days', '0'], /--days must be a positive integer/],
    [[], /--days is required/],
    [['--days', '1', '--from', '2024-02-30'], /--from must be a date YYYY-MM-DD, got "2024-02-30"/],
    [['--days', '1', '--rate', 'lots'], /--rate must be a positive number/],
    [['--days', '1', '--rate', '-5'], /--rate got "-5"/],
    [['--days', '1', '--seed', '1.5'], /--seed must be a non-negative integer/],
    [['--days', '1', '--late', '2'], /--late must be a share between 0 and 1, got "2"/],
    [['--days', '1', '--duplicates', 'x'], /--duplicates must be a share/],
    [['--days', '1', '--invalid', '0.6', '--late', '0.5'], /must add up to less than 1/],
    [
      ['--days', '1', '--out', 'a.ndjson', '--post', 'http://localhost:1'],
      /--out and --post cannot be used together/,
    ],
    [['--days', '1', '--post', 'ftp://x'], /--post must be the http\(s\) URL/],
    [['--days', '1', '--batch', '0'], /--batch must be a positive integer/],
    [['--days', '1', '--concurrency', 'many'], /--concurrency must be a positive integer/],
    [['--days', '1', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [argv, message] of cases) {
    const stderr = new Capture();
    const stdout = new Capture();
    const code = await runGenerate(argv, { stderr, stdout });
    assert.equal(code, 2, argv.join(' '));
    assert.match(stderr.text, message);
    assert.equal(stderr.text.trimEnd().split('\n').length, 1, stderr.text);
    assert.match(stderr.text, /^pulse generate: /);
    assert.equal(stdout.text, '');
  }
});

test('pulse generate writes the same NDJSON for the same flags, and can post it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-gen-cli-'));
  const pulse = await fakePulse(() => ({ status: 200 }));
  try {
    const argv = ['--days', '1', '--from', '2024-03-04', '--rate', '300', '--seed', '4'];
    const a = join(dir, 'a.ndjson');
    const b = join(dir, 'b.ndjson');
    const stderr = new Capture();
    assert.equal(await runGenerate([...argv, '--out', a], { stderr }), 0);
    assert.match(stderr.text, /events from 2024-03-04 to 2024-03-05 \(seed 4, 300 orders\/day\) written to/);
    assert.equal(await runGenerate([...argv, '--out', b], { stderr: new Capture() }), 0);
    const text = readFileSync(a, 'utf8');
    assert.equal(text, readFileSync(b, 'utf8'));
    const lines = text.trimEnd().split('\n');
    assert.ok(lines.length > 5000);
    assert.equal((JSON.parse(lines[0] ?? '{}') as CloudEvent).time, '2024-03-04T00:00:00.000Z');

    const stdout = new Capture();
    assert.equal(
      await runGenerate([...argv, '--late', '0', '--duplicates', '0', '--invalid', '0'], {
        stdout,
        stderr: new Capture(),
      }),
      0,
    );
    assert.ok(stdout.text.length > 0 && stdout.text !== text);

    const postErr = new Capture();
    const code = await runGenerate([...argv, '--post', pulse.url, '--batch', '700', '--concurrency', '3'], {
      stderr: postErr,
    });
    assert.equal(code, 0, postErr.text);
    assert.equal(pulse.received.length, lines.length);
    assert.match(postErr.text, /posted to http:\/\/127\.0\.0\.1/);

    // Default --from: N days before today (UTC midnight).
    const today = Date.parse('2024-05-10T00:00:00Z');
    const out = new Capture();
    assert.equal(
      await runGenerate(['--days', '1', '--rate', '100'], {
        stdout: out,
        stderr: new Capture(),
        now: () => today + 5 * 3_600_000,
      }),
      0,
    );
    assert.equal(
      (JSON.parse(out.text.slice(0, out.text.indexOf('\n'))) as CloudEvent).time,
      '2024-05-09T00:00:00.000Z',
    );
  } finally {
    await pulse.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
