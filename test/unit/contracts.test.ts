import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import {
  CONTRACT_RULES,
  COUNTRY_CODES,
  CURRENCY_CODES,
  EVENT_TYPES,
  createContractValidator,
  isCountryCode,
  isCurrencyCode,
} from '../../src/contracts/index.js';
import type { EventType, ValidationResult, Violation } from '../../src/contracts/index.js';

type Json = Record<string, unknown>;

const contracts = createContractValidator();

/** A realistic, valid `data` for every event type. */
const VALID: Record<EventType, Json> = {
  'order.placed': {
    order_id: 'ord_20240301_000123',
    placed_at: '2024-03-01T10:15:42.123Z',
    customer_id: 'cus_8f3a21',
    email: 'jane.doe@example.com',
    name: 'Jane Doe',
    phone: '+33 6 12 34 56 78',
    channel: 'web',
    brand: 'Northwind',
    country: 'FR',
    currency: 'EUR',
    seller_id: 'sel_042',
    session_id: 'ses_77c1',
    promised_delivery_at: '2024-03-04T18:00:00+01:00',
    lines: [
      {
        line_no: 1,
        sku: 'NW-TSHIRT-M-BLUE',
        quantity: 2,
        unit_price: '19.90',
        discount: '2.00',
        tax: '7.16',
      },
      { line_no: 2, sku: 'NW-SOCKS-42', quantity: 3, unit_price: 4.5, discount: 0, tax: 2.7 },
    ],
  },
  'order.status_changed': {
    order_id: 'ord_20240301_000123',
    status: 'dispatched',
    changed_at: '2024-03-02T08:00:00+01:00',
  },
  'shipment.dispatched': {
    shipment_id: 'shp_991',
    order_id: 'ord_20240301_000123',
    carrier: 'Colissimo',
    dispatched_at: '2024-03-02T07:59:00Z',
    promised_delivery_at: '2024-03-04T18:00:00+01:00',
  },
  'shipment.delivered': {
    shipment_id: 'shp_991',
    order_id: 'ord_20240301_000123',
    delivered_at: '2024-03-04T11:42:10+01:00',
  },
  'return.initiated': {
    return_id: 'ret_310',
    order_id: 'ord_20240301_000123',
    lines: [{ line_no: 1, quantity: 1 }],
    reason: 'size too small',
    initiated_at: '2024-03-06T09:00:00Z',
  },
  'return.refunded': {
    return_id: 'ret_310',
    order_id: 'ord_20240301_000123',
    refunded_at: '2024-03-09T15:30:00Z',
    amount: '17.90',
    currency: 'EUR',
  },
  'session.started': {
    session_id: 'ses_77c1',
    started_at: '2024-03-01T10:01:00Z',
    channel: 'mobile',
    customer_id: 'cus_8f3a21',
    device: 'ios',
    landing_page: '/en/men/t-shirts?utm_source=newsletter',
  },
  'support_case.resolved': {
    case_id: 'case_5521',
    order_id: 'ord_20240301_000123',
    channel: 'chat',
    opened_at: '2024-03-05T09:00:00Z',
    resolved_at: '2024-03-05T09:25:00Z',
    csat: 4,
    sentiment: 0.35,
  },
  'inventory.snapshot': {
    sku: 'NW-TSHIRT-M-BLUE',
    warehouse: 'PAR-1',
    as_of: '2024-03-01T23:59:59Z',
    on_hand: 140,
    available_to_promise: 0,
  },
  'product.upserted': {
    sku: 'NW-TSHIRT-M-BLUE',
    name: 'Organic cotton T-shirt, blue, M',
    brand: 'Northwind',
    category: 'Apparel > T-shirts',
    supplier_id: 'sup_12',
    lead_time_days: 14,
    list_price: '24.90',
    currency: 'EUR',
    sustainability_score: 72.5,
    effective_at: '2024-01-01T00:00:00Z',
  },
  'customer.upserted': {
    customer_id: 'cus_8f3a21',
    email: 'jane.doe@example.com',
    loyalty_tier: 'gold',
    segment: 'returning',
    country: 'FR',
    consent: { marketing: true, analytics: false },
    effective_at: '2024-02-11T12:00:00Z',
  },
  'channel.upserted': {
    channel: 'marketplace',
    name: 'Amazon FR',
    type: 'third-party',
    effective_at: '2023-06-01T00:00:00Z',
  },
  'fx.rate': {
    currency: 'USD',
    hour: '2024-03-01T10:00:00Z',
    rate_to_eur: 0.9217,
  },
};

function event(type: string, data: unknown, extra: Json = {}): Json {
  return {
    specversion: '1.0',
    id: `evt-${type}-1`,
    source: '/shop/checkout',
    type,
    time: '2024-03-01T10:15:43Z',
    data,
    ...extra,
  };
}

/** A valid data object of `type`, with `patch` applied (an `undefined` value removes the field). */
function dataOf(type: EventType, patch: Json = {}): Json {
  const data: Json = { ...structuredClone(VALID[type]), ...patch };
  for (const [key, value] of Object.entries(patch)) if (value === undefined) delete data[key];
  return data;
}

/** A valid data object of `type` whose first line gets `patch`. */
function withLine(type: 'order.placed' | 'return.initiated', patch: Json): Json {
  const data = dataOf(type);
  const lines = data.lines as Json[];
  lines[0] = { ...lines[0], ...patch };
  for (const [key, value] of Object.entries(patch)) if (value === undefined) delete lines[0]![key];
  return data;
}

function failureOf(result: ValidationResult): Violation {
  if (result.ok) assert.fail('expected a violation, the event passed');
  return result.violation;
}

function assertViolation(value: unknown, rule: string, field: string): Violation {
  const violation = failureOf(contracts.validate(value));
  assert.deepEqual({ rule: violation.rule, field: violation.field }, { rule, field });
  assert.ok(violation.message.startsWith(field), `message names the field: ${violation.message}`);
  return violation;
}

function assertValid(value: unknown): void {
  const result = contracts.validate(value);
  assert.equal(result.ok, true, result.ok ? '' : JSON.stringify(result.violation));
  if (result.ok) assert.equal(result.event, value);
}

interface Case {
  readonly name: string;
  readonly data: Json;
  readonly rule: string;
  readonly field: string;
}

const long = (n: number): string => 'x'.repeat(n);
const TEN_MB = long(10 * 1024 * 1024);

const INVALID: Record<EventType, readonly Case[]> = {
  'order.placed': [
    {
      name: 'missing order_id',
      data: dataOf('order.placed', { order_id: undefined }),
      rule: 'required',
      field: 'data.order_id',
    },
    {
      name: 'missing lines',
      data: dataOf('order.placed', { lines: undefined }),
      rule: 'required',
      field: 'data.lines',
    },
    {
      name: 'channel fax',
      data: dataOf('order.placed', { channel: 'fax' }),
      rule: 'enum',
      field: 'data.channel',
    },
    {
      name: 'placed_at Feb 30',
      data: dataOf('order.placed', { placed_at: '2024-02-30T10:00:00Z' }),
      rule: 'format',
      field: 'data.placed_at',
    },
    {
      name: 'placed_at without offset',
      data: dataOf('order.placed', { placed_at: '2024-03-01T10:15:00' }),
      rule: 'format',
      field: 'data.placed_at',
    },
    {
      name: 'promised_delivery_at a date only',
      data: dataOf('order.placed', { promised_delivery_at: '2024-03-04' }),
      rule: 'format',
      field: 'data.promised_delivery_at',
    },
    {
      name: 'unit_price with 3 decimals',
      data: withLine('order.placed', { unit_price: 19.999 }),
      rule: 'money',
      field: 'data.lines[0].unit_price',
    },
    {
      name: 'unit_price string with 3 decimals',
      data: withLine('order.placed', { unit_price: '12.345' }),
      rule: 'money',
      field: 'data.lines[0].unit_price',
    },
    {
      name: 'negative discount',
      data: withLine('order.placed', { discount: -1 }),
      rule: 'minimum',
      field: 'data.lines[0].discount',
    },
    {
      name: 'negative tax string',
      data: withLine('order.placed', { tax: '-0.50' }),
      rule: 'minimum',
      field: 'data.lines[0].tax',
    },
    {
      name: 'quantity 0',
      data: withLine('order.placed', { quantity: 0 }),
      rule: 'minimum',
      field: 'data.lines[0].quantity',
    },
    {
      name: 'quantity 1.5',
      data: withLine('order.placed', { quantity: 1.5 }),
      rule: 'type',
      field: 'data.lines[0].quantity',
    },
    {
      name: 'quantity as a string',
      data: withLine('order.placed', { quantity: '2' }),
      rule: 'type',
      field: 'data.lines[0].quantity',
    },
    {
      name: 'line_no 0',
      data: withLine('order.placed', { line_no: 0 }),
      rule: 'minimum',
      field: 'data.lines[0].line_no',
    },
    {
      name: 'line without sku',
      data: withLine('order.placed', { sku: undefined }),
      rule: 'required',
      field: 'data.lines[0].sku',
    },
    {
      name: 'unknown line field',
      data: withLine('order.placed', { colour: 'blue' }),
      rule: 'additionalProperties',
      field: 'data.lines[0].colour',
    },
    {
      name: 'currency EURO',
      data: dataOf('order.placed', { currency: 'EURO' }),
      rule: 'enum',
      field: 'data.currency',
    },
    {
      name: 'currency lower case',
      data: dataOf('order.placed', { currency: 'eur' }),
      rule: 'enum',
      field: 'data.currency',
    },
    {
      name: 'country XX',
      data: dataOf('order.placed', { country: 'XX' }),
      rule: 'enum',
      field: 'data.country',
    },
    {
      name: 'country UK (not ISO)',
      data: dataOf('order.placed', { country: 'UK' }),
      rule: 'enum',
      field: 'data.country',
    },
    { name: 'no lines', data: dataOf('order.placed', { lines: [] }), rule: 'minItems', field: 'data.lines' },
    {
      name: '1001 lines',
      data: dataOf('order.placed', {
        lines: Array.from({ length: 1001 }, (_, i) => ({
          line_no: i + 1,
          sku: 'S',
          quantity: 1,
          unit_price: 1,
          discount: 0,
          tax: 0,
        })),
      }),
      rule: 'maxItems',
      field: 'data.lines',
    },
    {
      name: 'lines not an array',
      data: dataOf('order.placed', { lines: { line_no: 1 } }),
      rule: 'type',
      field: 'data.lines',
    },
    {
      name: 'unknown data field (typo)',
      data: dataOf('order.placed', { coupon_code: 'SPRING' }),
      rule: 'additionalProperties',
      field: 'data.coupon_code',
    },
    {
      name: 'empty email',
      data: dataOf('order.placed', { email: '' }),
      rule: 'minLength',
      field: 'data.email',
    },
    {
      name: 'customer_id too long',
      data: dataOf('order.placed', { customer_id: long(129) }),
      rule: 'maxLength',
      field: 'data.customer_id',
    },
    {
      name: '10 MB brand',
      data: dataOf('order.placed', { brand: TEN_MB }),
      rule: 'maxLength',
      field: 'data.brand',
    },
    {
      name: 'customer_id a number',
      data: dataOf('order.placed', { customer_id: 8123 }),
      rule: 'type',
      field: 'data.customer_id',
    },
  ],
  'order.status_changed': [
    {
      name: 'status shipped',
      data: dataOf('order.status_changed', { status: 'shipped' }),
      rule: 'enum',
      field: 'data.status',
    },
    {
      name: 'missing changed_at',
      data: dataOf('order.status_changed', { changed_at: undefined }),
      rule: 'required',
      field: 'data.changed_at',
    },
    {
      name: 'order_id a number',
      data: dataOf('order.status_changed', { order_id: 42 }),
      rule: 'type',
      field: 'data.order_id',
    },
    {
      name: 'unknown field',
      data: dataOf('order.status_changed', { reason: 'x' }),
      rule: 'additionalProperties',
      field: 'data.reason',
    },
    {
      name: 'changed_at with a space and no offset',
      data: dataOf('order.status_changed', { changed_at: '2024-03-02 08:00:00' }),
      rule: 'format',
      field: 'data.changed_at',
    },
  ],
  'shipment.dispatched': [
    {
      name: 'missing carrier',
      data: dataOf('shipment.dispatched', { carrier: undefined }),
      rule: 'required',
      field: 'data.carrier',
    },
    {
      name: 'month 13',
      data: dataOf('shipment.dispatched', { dispatched_at: '2024-13-01T00:00:00Z' }),
      rule: 'format',
      field: 'data.dispatched_at',
    },
    {
      name: 'empty carrier',
      data: dataOf('shipment.dispatched', { carrier: '' }),
      rule: 'minLength',
      field: 'data.carrier',
    },
    {
      name: 'unknown field',
      data: dataOf('shipment.dispatched', { tracking_no: 'X1' }),
      rule: 'additionalProperties',
      field: 'data.tracking_no',
    },
    {
      name: 'missing promised_delivery_at',
      data: dataOf('shipment.dispatched', { promised_delivery_at: undefined }),
      rule: 'required',
      field: 'data.promised_delivery_at',
    },
  ],
  'shipment.delivered': [
    {
      name: 'missing shipment_id',
      data: dataOf('shipment.delivered', { shipment_id: undefined }),
      rule: 'required',
      field: 'data.shipment_id',
    },
    {
      name: 'delivered_at date only',
      data: dataOf('shipment.delivered', { delivered_at: '2024-03-04' }),
      rule: 'format',
      field: 'data.delivered_at',
    },
    {
      name: 'delivered_at epoch number',
      data: dataOf('shipment.delivered', { delivered_at: 1709546530 }),
      rule: 'type',
      field: 'data.delivered_at',
    },
    {
      name: 'hour 24',
      data: dataOf('shipment.delivered', { delivered_at: '2024-03-04T24:00:00Z' }),
      rule: 'format',
      field: 'data.delivered_at',
    },
  ],
  'return.initiated': [
    {
      name: 'quantity 0',
      data: withLine('return.initiated', { quantity: 0 }),
      rule: 'minimum',
      field: 'data.lines[0].quantity',
    },
    {
      name: 'quantity 1.5',
      data: withLine('return.initiated', { quantity: 1.5 }),
      rule: 'type',
      field: 'data.lines[0].quantity',
    },
    {
      name: 'no lines',
      data: dataOf('return.initiated', { lines: [] }),
      rule: 'minItems',
      field: 'data.lines',
    },
    {
      name: 'missing reason',
      data: dataOf('return.initiated', { reason: undefined }),
      rule: 'required',
      field: 'data.reason',
    },
    {
      name: 'line with unit_price',
      data: withLine('return.initiated', { unit_price: 3 }),
      rule: 'additionalProperties',
      field: 'data.lines[0].unit_price',
    },
    {
      name: 'line without line_no',
      data: withLine('return.initiated', { line_no: undefined }),
      rule: 'required',
      field: 'data.lines[0].line_no',
    },
    {
      name: 'reason too long',
      data: dataOf('return.initiated', { reason: long(1025) }),
      rule: 'maxLength',
      field: 'data.reason',
    },
  ],
  'return.refunded': [
    {
      name: 'amount 0',
      data: dataOf('return.refunded', { amount: 0 }),
      rule: 'minimum',
      field: 'data.amount',
    },
    {
      name: 'amount -5',
      data: dataOf('return.refunded', { amount: -5 }),
      rule: 'minimum',
      field: 'data.amount',
    },
    {
      name: 'amount "0.00"',
      data: dataOf('return.refunded', { amount: '0.00' }),
      rule: 'minimum',
      field: 'data.amount',
    },
    {
      name: 'amount 3 decimals',
      data: dataOf('return.refunded', { amount: '10.005' }),
      rule: 'money',
      field: 'data.amount',
    },
    {
      name: 'amount 1e-7',
      data: dataOf('return.refunded', { amount: 1e-7 }),
      rule: 'money',
      field: 'data.amount',
    },
    {
      name: 'currency eur',
      data: dataOf('return.refunded', { currency: 'eur' }),
      rule: 'enum',
      field: 'data.currency',
    },
    {
      name: 'missing currency',
      data: dataOf('return.refunded', { currency: undefined }),
      rule: 'required',
      field: 'data.currency',
    },
  ],
  'session.started': [
    {
      name: 'channel tv',
      data: dataOf('session.started', { channel: 'tv' }),
      rule: 'enum',
      field: 'data.channel',
    },
    {
      name: 'empty device',
      data: dataOf('session.started', { device: '' }),
      rule: 'minLength',
      field: 'data.device',
    },
    {
      name: 'device too long',
      data: dataOf('session.started', { device: long(65) }),
      rule: 'maxLength',
      field: 'data.device',
    },
    {
      name: 'page_views is not in the contract',
      data: dataOf('session.started', { page_views: 3 }),
      rule: 'additionalProperties',
      field: 'data.page_views',
    },
    {
      name: 'empty customer_id',
      data: dataOf('session.started', { customer_id: '' }),
      rule: 'minLength',
      field: 'data.customer_id',
    },
    {
      name: 'missing started_at',
      data: dataOf('session.started', { started_at: undefined }),
      rule: 'required',
      field: 'data.started_at',
    },
  ],
  'support_case.resolved': [
    {
      name: 'csat 6',
      data: dataOf('support_case.resolved', { csat: 6 }),
      rule: 'maximum',
      field: 'data.csat',
    },
    {
      name: 'csat 0',
      data: dataOf('support_case.resolved', { csat: 0 }),
      rule: 'minimum',
      field: 'data.csat',
    },
    {
      name: 'csat 4.5',
      data: dataOf('support_case.resolved', { csat: 4.5 }),
      rule: 'type',
      field: 'data.csat',
    },
    {
      name: 'sentiment 1.5',
      data: dataOf('support_case.resolved', { sentiment: 1.5 }),
      rule: 'maximum',
      field: 'data.sentiment',
    },
    {
      name: 'sentiment -1.01',
      data: dataOf('support_case.resolved', { sentiment: -1.01 }),
      rule: 'minimum',
      field: 'data.sentiment',
    },
    {
      name: 'channel web',
      data: dataOf('support_case.resolved', { channel: 'web' }),
      rule: 'enum',
      field: 'data.channel',
    },
    {
      name: 'resolved_at bad',
      data: dataOf('support_case.resolved', { resolved_at: 'yesterday' }),
      rule: 'format',
      field: 'data.resolved_at',
    },
    {
      name: 'missing opened_at',
      data: dataOf('support_case.resolved', { opened_at: undefined }),
      rule: 'required',
      field: 'data.opened_at',
    },
  ],
  'inventory.snapshot': [
    {
      name: 'on_hand -1',
      data: dataOf('inventory.snapshot', { on_hand: -1 }),
      rule: 'minimum',
      field: 'data.on_hand',
    },
    {
      name: 'available_to_promise -3',
      data: dataOf('inventory.snapshot', { available_to_promise: -3 }),
      rule: 'minimum',
      field: 'data.available_to_promise',
    },
    {
      name: 'on_hand 2.5',
      data: dataOf('inventory.snapshot', { on_hand: 2.5 }),
      rule: 'type',
      field: 'data.on_hand',
    },
    {
      name: 'missing warehouse',
      data: dataOf('inventory.snapshot', { warehouse: undefined }),
      rule: 'required',
      field: 'data.warehouse',
    },
    {
      name: 'as_of Feb 29 of a common year',
      data: dataOf('inventory.snapshot', { as_of: '2023-02-29T00:00:00Z' }),
      rule: 'format',
      field: 'data.as_of',
    },
    {
      name: 'on_hand above int32',
      data: dataOf('inventory.snapshot', { on_hand: 2147483648 }),
      rule: 'maximum',
      field: 'data.on_hand',
    },
  ],
  'product.upserted': [
    {
      name: 'list_price 3 decimals',
      data: dataOf('product.upserted', { list_price: '12.345' }),
      rule: 'money',
      field: 'data.list_price',
    },
    {
      name: 'list_price -1',
      data: dataOf('product.upserted', { list_price: -1 }),
      rule: 'minimum',
      field: 'data.list_price',
    },
    {
      name: 'lead_time_days -1',
      data: dataOf('product.upserted', { lead_time_days: -1 }),
      rule: 'minimum',
      field: 'data.lead_time_days',
    },
    {
      name: 'lead_time_days 2.5',
      data: dataOf('product.upserted', { lead_time_days: 2.5 }),
      rule: 'type',
      field: 'data.lead_time_days',
    },
    {
      name: 'sustainability_score 101',
      data: dataOf('product.upserted', { sustainability_score: 101 }),
      rule: 'maximum',
      field: 'data.sustainability_score',
    },
    {
      name: 'sustainability_score -1',
      data: dataOf('product.upserted', { sustainability_score: -1 }),
      rule: 'minimum',
      field: 'data.sustainability_score',
    },
    {
      name: 'currency EURO',
      data: dataOf('product.upserted', { currency: 'EURO' }),
      rule: 'enum',
      field: 'data.currency',
    },
    {
      name: 'missing supplier_id',
      data: dataOf('product.upserted', { supplier_id: undefined }),
      rule: 'required',
      field: 'data.supplier_id',
    },
  ],
  'customer.upserted': [
    {
      name: 'consent without analytics',
      data: dataOf('customer.upserted', { consent: { marketing: true } }),
      rule: 'required',
      field: 'data.consent.analytics',
    },
    {
      name: 'consent.marketing "yes"',
      data: dataOf('customer.upserted', { consent: { marketing: 'yes', analytics: true } }),
      rule: 'type',
      field: 'data.consent.marketing',
    },
    {
      name: 'unknown consent field',
      data: dataOf('customer.upserted', { consent: { marketing: true, analytics: true, sms: false } }),
      rule: 'additionalProperties',
      field: 'data.consent.sms',
    },
    {
      name: 'country XX',
      data: dataOf('customer.upserted', { country: 'XX' }),
      rule: 'enum',
      field: 'data.country',
    },
    {
      name: 'empty loyalty_tier',
      data: dataOf('customer.upserted', { loyalty_tier: '' }),
      rule: 'minLength',
      field: 'data.loyalty_tier',
    },
    {
      name: 'missing segment',
      data: dataOf('customer.upserted', { segment: undefined }),
      rule: 'required',
      field: 'data.segment',
    },
    {
      name: 'consent not an object',
      data: dataOf('customer.upserted', { consent: true }),
      rule: 'type',
      field: 'data.consent',
    },
  ],
  'channel.upserted': [
    {
      name: 'channel tv',
      data: dataOf('channel.upserted', { channel: 'tv' }),
      rule: 'enum',
      field: 'data.channel',
    },
    {
      name: 'empty type',
      data: dataOf('channel.upserted', { type: '' }),
      rule: 'minLength',
      field: 'data.type',
    },
    {
      name: 'missing name',
      data: dataOf('channel.upserted', { name: undefined }),
      rule: 'required',
      field: 'data.name',
    },
    {
      name: 'effective_at bad',
      data: dataOf('channel.upserted', { effective_at: '01/06/2023' }),
      rule: 'format',
      field: 'data.effective_at',
    },
  ],
  'fx.rate': [
    {
      name: 'hour at half past',
      data: dataOf('fx.rate', { hour: '2024-03-01T10:30:00Z' }),
      rule: 'pattern',
      field: 'data.hour',
    },
    {
      name: 'hour with seconds',
      data: dataOf('fx.rate', { hour: '2024-03-01T10:00:01Z' }),
      rule: 'pattern',
      field: 'data.hour',
    },
    {
      name: 'hour with a fraction',
      data: dataOf('fx.rate', { hour: '2024-03-01T10:00:00.500Z' }),
      rule: 'pattern',
      field: 'data.hour',
    },
    {
      name: 'hour in a half-hour offset',
      data: dataOf('fx.rate', { hour: '2024-03-01T10:00:00+05:30' }),
      rule: 'pattern',
      field: 'data.hour',
    },
    {
      name: 'hour Feb 30',
      data: dataOf('fx.rate', { hour: '2024-02-30T10:00:00Z' }),
      rule: 'format',
      field: 'data.hour',
    },
    {
      name: 'rate_to_eur 0',
      data: dataOf('fx.rate', { rate_to_eur: 0 }),
      rule: 'exclusiveMinimum',
      field: 'data.rate_to_eur',
    },
    {
      name: 'rate_to_eur -1',
      data: dataOf('fx.rate', { rate_to_eur: -1 }),
      rule: 'exclusiveMinimum',
      field: 'data.rate_to_eur',
    },
    {
      name: 'rate_to_eur as a string',
      data: dataOf('fx.rate', { rate_to_eur: '0.92' }),
      rule: 'type',
      field: 'data.rate_to_eur',
    },
    {
      name: 'currency EURO',
      data: dataOf('fx.rate', { currency: 'EURO' }),
      rule: 'enum',
      field: 'data.currency',
    },
  ],
};

describe('contracts: valid events', () => {
  for (const type of EVENT_TYPES) {
    it(`accepts a full ${type}`, () => {
      assertValid(event(type, dataOf(type)));
    });
  }

  it('accepts events without their optional data fields', () => {
    assertValid(
      event(
        'order.placed',
        dataOf('order.placed', {
          email: undefined,
          name: undefined,
          phone: undefined,
          seller_id: undefined,
          session_id: undefined,
        }),
      ),
    );
    assertValid(
      event(
        'session.started',
        dataOf('session.started', { customer_id: undefined, landing_page: undefined }),
      ),
    );
    assertValid(
      event(
        'support_case.resolved',
        dataOf('support_case.resolved', { order_id: undefined, csat: undefined, sentiment: undefined }),
      ),
    );
    assertValid(event('product.upserted', dataOf('product.upserted', { sustainability_score: undefined })));
    assertValid(event('customer.upserted', dataOf('customer.upserted', { email: undefined })));
  });

  it('accepts every enumerated value', () => {
    for (const channel of ['web', 'mobile', 'store', 'marketplace', 'partner']) {
      assertValid(event('order.placed', dataOf('order.placed', { channel })));
      assertValid(event('session.started', dataOf('session.started', { channel })));
      assertValid(event('channel.upserted', dataOf('channel.upserted', { channel })));
    }
    for (const status of ['paid', 'cancelled', 'dispatched', 'delivered']) {
      assertValid(event('order.status_changed', dataOf('order.status_changed', { status })));
    }
    for (const channel of ['chat', 'email', 'phone', 'social']) {
      assertValid(event('support_case.resolved', dataOf('support_case.resolved', { channel })));
    }
  });

  it('accepts the bounds of numeric fields', () => {
    for (const csat of [1, 5])
      assertValid(event('support_case.resolved', dataOf('support_case.resolved', { csat })));
    for (const sentiment of [-1, 0, 1]) {
      assertValid(event('support_case.resolved', dataOf('support_case.resolved', { sentiment })));
    }
    for (const sustainability_score of [0, 100]) {
      assertValid(event('product.upserted', dataOf('product.upserted', { sustainability_score })));
    }
    assertValid(event('product.upserted', dataOf('product.upserted', { lead_time_days: 0, list_price: 0 })));
    assertValid(
      event('inventory.snapshot', dataOf('inventory.snapshot', { on_hand: 0, available_to_promise: 0 })),
    );
    assertValid(event('return.refunded', dataOf('return.refunded', { amount: 0.01 })));
    assertValid(event('fx.rate', dataOf('fx.rate', { currency: 'EUR', rate_to_eur: 1 })));
  });

  it('accepts RFC 3339 timestamps with any offset, fractions and a leap day', () => {
    for (const placed_at of [
      '2024-02-29T23:59:59Z',
      '2024-03-01T10:15:00.123456+05:30',
      '2024-03-01T10:15:00-08:00',
      '2024-03-01t10:15:00z',
    ]) {
      assertValid(event('order.placed', dataOf('order.placed', { placed_at })));
    }
  });

  it('accepts an fx hour on the hour, with zero fractions or a whole-hour offset', () => {
    for (const hour of [
      '2024-03-01T00:00:00Z',
      '2024-03-01T10:00:00.000Z',
      '2024-03-01T10:00:00+01:00',
      '2024-03-01T10:00:00-05:00',
    ]) {
      assertValid(event('fx.rate', dataOf('fx.rate', { hour })));
    }
  });

  it('accepts the optional envelope attributes and CloudEvents extensions', () => {
    assertValid(
      event('order.status_changed', dataOf('order.status_changed'), {
        dataschema: 'pulse://contracts/order.status_changed/1',
        datacontenttype: 'application/json',
        subject: 'ord_20240301_000123',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        partitionkey: 'ord_20240301_000123',
        sampled: true,
        sequence: 42,
      }),
    );
    const withoutTime = event('order.status_changed', dataOf('order.status_changed'));
    delete withoutTime.time;
    assertValid(withoutTime);
  });

  it('returns the same object it was given, unmodified', () => {
    const value = event('order.placed', dataOf('order.placed'));
    const before = structuredClone(value);
    const result = contracts.validate(value);
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.event, value);
    assert.deepEqual(value, before);
  });
});

describe('contracts: invalid data', () => {
  for (const type of EVENT_TYPES) {
    const cases = INVALID[type];
    it(`${type} has at least 3 invalid cases`, () => {
      assert.ok(cases.length >= 3, `${type}: ${cases.length} cases`);
    });
    for (const c of cases) {
      it(`${type}: ${c.name} → ${c.rule} at ${c.field}`, () => {
        const id = `evt-${type}-1`;
        const result = contracts.validate(event(type, c.data));
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.deepEqual(
          { rule: result.violation.rule, field: result.violation.field },
          { rule: c.rule, field: c.field },
        );
        assert.ok(result.violation.message.startsWith(`${c.field} `), result.violation.message);
        assert.equal(result.eventId, id);
        assert.equal(result.eventType, type);
      });
    }
  }

  it('words messages for people', () => {
    const message = (data: Json, type: EventType = 'order.placed'): string =>
      failureOf(contracts.validate(event(type, data))).message;
    assert.equal(
      message(withLine('order.placed', { quantity: 0 })),
      'data.lines[0].quantity must be an integer > 0',
    );
    assert.equal(
      message(withLine('order.placed', { quantity: 1.5 })),
      'data.lines[0].quantity must be an integer > 0',
    );
    assert.equal(message(dataOf('order.placed', { order_id: undefined })), 'data.order_id is required');
    assert.equal(
      message(dataOf('order.placed', { coupon_code: 'X' })),
      'data.coupon_code is not an allowed field',
    );
    assert.equal(
      message(dataOf('order.placed', { currency: 'EURO' })),
      'data.currency must be an ISO 4217 alphabetic currency code, e.g. EUR (got "EURO")',
    );
    assert.equal(
      message(dataOf('order.placed', { country: 'XX' })),
      'data.country must be an ISO 3166-1 alpha-2 country code, e.g. FR (got "XX")',
    );
    assert.equal(
      message(dataOf('order.placed', { channel: 'fax' })),
      'data.channel must be one of web, mobile, store, marketplace, partner (got "fax")',
    );
    assert.equal(
      message(dataOf('support_case.resolved', { csat: 6 }), 'support_case.resolved'),
      'data.csat must be an integer from 1 to 5',
    );
    assert.equal(
      message(dataOf('support_case.resolved', { sentiment: 2 }), 'support_case.resolved'),
      'data.sentiment must be a number from -1 to 1',
    );
    assert.equal(
      message(dataOf('fx.rate', { rate_to_eur: 0 }), 'fx.rate'),
      'data.rate_to_eur must be a number > 0',
    );
    assert.equal(
      message(dataOf('inventory.snapshot', { on_hand: -1 }), 'inventory.snapshot'),
      'data.on_hand must be an integer >= 0',
    );
    assert.equal(
      message(dataOf('return.refunded', { amount: -5 }), 'return.refunded'),
      'data.amount must be a money amount > 0',
    );
    assert.equal(
      message(withLine('order.placed', { discount: '-1.00' })),
      'data.lines[0].discount must be a money amount >= 0',
    );
    assert.match(
      message(withLine('order.placed', { unit_price: 19.999 })),
      /^data\.lines\[0\]\.unit_price must be a money amount with at most 2 decimals/,
    );
    assert.equal(
      message(dataOf('fx.rate', { hour: '2024-03-01T10:30:00Z' }), 'fx.rate'),
      'data.hour must be on the hour with a whole-hour offset, e.g. 2024-03-01T10:00:00Z (got "2024-03-01T10:30:00Z")',
    );
    assert.equal(
      message(dataOf('order.placed', { placed_at: '2024-02-30T10:00:00Z' })),
      'data.placed_at must be an RFC 3339 date-time with an offset, e.g. 2024-03-01T10:15:00Z (got "2024-02-30T10:00:00Z")',
    );
    assert.equal(message(dataOf('order.placed', { lines: [] })), 'data.lines must have at least 1 item');
    assert.equal(message(dataOf('order.placed', { brand: '' })), 'data.brand must not be empty');
    assert.equal(
      message(dataOf('order.placed', { brand: TEN_MB })),
      'data.brand must have at most 128 characters',
    );
    assert.equal(
      message(
        dataOf('customer.upserted', { consent: { marketing: 1, analytics: true } }),
        'customer.upserted',
      ),
      'data.consent.marketing must be a boolean',
    );
  });

  it('names non-identifier keys with brackets and shortens huge ones', () => {
    assertViolation(
      event('order.placed', dataOf('order.placed', { 'coupon-code': 'X' })),
      'additionalProperties',
      'data["coupon-code"]',
    );
    const violation = failureOf(
      contracts.validate(event('order.placed', dataOf('order.placed', { [long(100_000)]: 1 }))),
    );
    assert.equal(violation.rule, 'additionalProperties');
    assert.equal(violation.field, `data["${long(64)}…"]`);
  });

  it('reports the first line that fails, by index', () => {
    const data = dataOf('order.placed');
    (data.lines as Json[])[1] = { ...(data.lines as Json[])[1], tax: 'free' };
    assertViolation(event('order.placed', data), 'money', 'data.lines[1].tax');
  });
});

describe('contracts: envelope', () => {
  const valid = (): Json => event('order.status_changed', dataOf('order.status_changed'));
  const patched = (patch: Json): Json => {
    const value = { ...valid(), ...patch };
    for (const [key, v] of Object.entries(patch)) if (v === undefined) delete value[key];
    return value;
  };

  it('refuses specversion 0.3 and a numeric 1.0', () => {
    assertViolation(patched({ specversion: '0.3' }), 'const', 'specversion');
    assertViolation(patched({ specversion: 1.0 }), 'const', 'specversion');
    assertViolation(patched({ specversion: undefined }), 'required', 'specversion');
  });

  it('refuses a missing, empty, too long or non-string id', () => {
    const missing = contracts.validate(patched({ id: undefined }));
    assert.deepEqual(missing, {
      ok: false,
      violation: { rule: 'required', field: 'id', message: 'id is required' },
      eventType: 'order.status_changed',
    });
    const empty = contracts.validate(patched({ id: '' }));
    assert.deepEqual(empty, {
      ok: false,
      violation: { rule: 'minLength', field: 'id', message: 'id must not be empty' },
      eventId: '',
      eventType: 'order.status_changed',
    });
    const tooLong = contracts.validate(patched({ id: long(257) }));
    assert.equal(failureOf(tooLong).rule, 'maxLength');
    assert.equal(failureOf(tooLong).field, 'id');
    assert.equal(!tooLong.ok && tooLong.eventId, undefined, 'an id over 256 characters is not echoed');
    const numeric = contracts.validate(patched({ id: 7 }));
    assert.deepEqual(failureOf(numeric), { rule: 'type', field: 'id', message: 'id must be a string' });
    assert.equal(!numeric.ok && numeric.eventId, undefined);
  });

  it('refuses a missing or empty source', () => {
    assertViolation(patched({ source: undefined }), 'required', 'source');
    assertViolation(patched({ source: '' }), 'minLength', 'source');
    assertViolation(patched({ source: TEN_MB }), 'maxLength', 'source');
  });

  it('refuses an unknown, missing or non-string type', () => {
    const unknown = contracts.validate(patched({ type: 'order.exploded' }));
    assert.deepEqual(unknown, {
      ok: false,
      violation: {
        rule: 'unknown_type',
        field: 'type',
        message: 'type must be one of the 13 Pulse event types (got "order.exploded")',
      },
      eventId: 'evt-order.status_changed-1',
      eventType: 'order.exploded',
    });
    assertViolation(patched({ type: 'Order.Placed' }), 'unknown_type', 'type');
    assertViolation(patched({ type: TEN_MB }), 'unknown_type', 'type');
    assertViolation(patched({ type: undefined }), 'required', 'type');
    assertViolation(patched({ type: 42 }), 'type', 'type');
  });

  it('refuses data that is missing or not an object', () => {
    assertViolation(patched({ data: undefined }), 'required', 'data');
    for (const data of ['x', [], null, 12, true]) {
      const violation = assertViolation(patched({ data }), 'type', 'data');
      assert.equal(violation.message, 'data must be an object');
    }
  });

  it('refuses a bad time and dataschema', () => {
    assertViolation(patched({ time: '2024-03-01 10:15' }), 'format', 'time');
    assertViolation(patched({ time: 1709288143 }), 'type', 'time');
    assertViolation(patched({ dataschema: 'not a uri' }), 'format', 'dataschema');
    assertViolation(patched({ datacontenttype: '' }), 'minLength', 'datacontenttype');
    assertViolation(patched({ subject: 5 }), 'type', 'subject');
  });

  it('allows extension attributes of CloudEvents shape and nothing else', () => {
    assertViolation(patched({ Foo: 'x' }), 'additionalProperties', 'Foo');
    assertViolation(patched({ trace_id: 'x' }), 'additionalProperties', 'trace_id');
    assertViolation(patched({ abcdefghijklmnopqrstu: 'x' }), 'additionalProperties', 'abcdefghijklmnopqrstu');
    assertViolation(patched({ data_base64: 'eA==' }), 'additionalProperties', 'data_base64');
    assertViolation(patched({ traceparent: { a: 1 } }), 'type', 'traceparent');
    assertViolation(patched({ ratio: 1.5 }), 'type', 'ratio');
    assertViolation(patched({ big: 2 ** 31 }), 'maximum', 'big');
    assertViolation(patched({ note: TEN_MB }), 'maxLength', 'note');
    const violation = failureOf(contracts.validate(patched({ traceparent: null })));
    assert.equal(violation.message, 'traceparent must be a string, a boolean or an integer');
  });

  it('refuses a value that is not an object, without eventId or eventType', () => {
    for (const [value, kind] of [
      [[], 'an array'],
      [null, 'null'],
      ['{"specversion":"1.0"}', 'a string'],
      [42, 'a number'],
      [undefined, 'undefined'],
      [true, 'a boolean'],
    ] as const) {
      assert.deepEqual(contracts.validate(value), {
        ok: false,
        violation: {
          rule: 'type',
          field: '(event)',
          message: `the event must be a JSON object, not ${kind}`,
        },
      });
    }
  });

  it('checks the envelope before the data', () => {
    const value = patched({ id: '', data: { nonsense: true } });
    assertViolation(value, 'minLength', 'id');
    assertViolation(patched({ type: 'nope', data: { nonsense: true } }), 'unknown_type', 'type');
  });
});

describe('contracts: money', () => {
  const line = (unit_price: unknown): Json => event('order.placed', withLine('order.placed', { unit_price }));
  const field = 'data.lines[0].unit_price';

  it('accepts numbers and decimal strings with at most 2 decimals', () => {
    for (const amount of [
      '12.30',
      12.3,
      12,
      '12',
      '12.3',
      0,
      '0',
      '0.05',
      0.1,
      '999999999999999.99',
      999999999999999,
      1e14,
    ]) {
      assertValid(line(amount));
    }
  });

  it('refuses more than 2 decimals, exponents and oversized amounts with rule money', () => {
    for (const amount of [
      '12.345',
      12.345,
      19.999,
      1e21,
      1e-7,
      0.1 + 0.2,
      '1e3',
      '12.',
      '.5',
      ' 12.30',
      '12.30 ',
      '1,50',
      '+1.00',
      '',
      '1234567890123456',
      1e15,
      '0x10',
      'NaN',
      'Infinity',
    ]) {
      assertViolation(line(amount), 'money', field);
    }
  });

  it('refuses NaN, Infinity and non-number types with rule type', () => {
    for (const amount of [NaN, Infinity, -Infinity, true, null, {}, [], [12]]) {
      assertViolation(line(amount), 'type', field);
    }
  });

  it('refuses negative amounts with rule minimum, as numbers and strings', () => {
    for (const amount of [-0.01, '-0.01', -12, '-12.30']) assertViolation(line(amount), 'minimum', field);
    for (const amount of [0, '0.00', -1, '-1']) {
      assertViolation(
        event('return.refunded', dataOf('return.refunded', { amount })),
        'minimum',
        'data.amount',
      );
    }
  });

  it('refuses a 10 MB money string with rule maxLength', () => {
    assertViolation(line(long(21)), 'maxLength', field);
    assertViolation(line(TEN_MB), 'maxLength', field);
  });
});

describe('contracts: PII fields', () => {
  it('order.placed drops email, name and phone and tokenises customer_id', () => {
    assert.deepEqual(contracts.piiFields.get('order.placed'), {
      drop: ['email', 'name', 'phone'],
      tokenise: ['customer_id'],
    });
  });

  it('customer.upserted drops email and tokenises customer_id', () => {
    assert.deepEqual(contracts.piiFields.get('customer.upserted'), {
      drop: ['email'],
      tokenise: ['customer_id'],
    });
  });

  it('session.started tokenises customer_id and drops nothing', () => {
    assert.deepEqual(contracts.piiFields.get('session.started'), { drop: [], tokenise: ['customer_id'] });
  });

  it('product.upserted drops nothing: its name is a product name', () => {
    assert.deepEqual(contracts.piiFields.get('product.upserted'), { drop: [], tokenise: [] });
  });

  it('lists every event type, with no PII outside the three above', () => {
    assert.deepEqual([...contracts.piiFields.keys()], [...EVENT_TYPES]);
    const withPii = [...contracts.piiFields]
      .filter(([, f]) => f.drop.length + f.tokenise.length > 0)
      .map(([t]) => t);
    assert.deepEqual(withPii, ['order.placed', 'session.started', 'customer.upserted']);
  });

  it('is frozen', () => {
    const fields = contracts.piiFields.get('order.placed');
    assert.ok(fields && Object.isFrozen(fields.drop) && Object.isFrozen(fields.tokenise));
  });
});

describe('contracts: schemas', () => {
  const schemaDir = new URL('../../src/contracts/schemas/', import.meta.url);

  it('has one schema file per event type, plus the envelope and common definitions', () => {
    const files = readdirSync(schemaDir)
      .filter((f) => f.endsWith('.schema.json'))
      .sort();
    assert.deepEqual(
      files,
      [...EVENT_TYPES.map((t) => `${t}.schema.json`), 'common.schema.json', 'envelope.schema.json'].sort(),
    );
  });

  it('exposes the data schemas with their $id, frozen', () => {
    assert.deepEqual([...contracts.schemas.keys()], [...EVENT_TYPES]);
    for (const [type, schema] of contracts.schemas) {
      const s = schema as Json;
      assert.equal(s.$id, `https://pulse.dev/contracts/${type}/1.json`);
      assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(s.type, 'object');
      assert.ok(Object.isFrozen(s) && Object.isFrozen(s.properties));
    }
    assert.equal((contracts.envelopeSchema as Json).$id, 'https://pulse.dev/contracts/envelope/1.json');
    assert.equal((contracts.commonSchema as Json).$id, 'https://pulse.dev/contracts/common/1.json');
  });

  it('closes every object schema with additionalProperties: false', () => {
    let objects = 0;
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const n = node as Json;
      if (n.type === 'object' && n.properties) {
        objects++;
        assert.equal(n.additionalProperties, false, path);
      }
      for (const [key, child] of Object.entries(n)) walk(child, `${path}/${key}`);
    };
    for (const [type, schema] of contracts.schemas) walk(schema, type);
    walk(contracts.envelopeSchema, 'envelope');
    assert.equal(objects, 13 + 2 + 1 + 1); // 13 data objects, 2 line items, consent, the envelope
  });

  it('lists the same required fields as DESIGN.md §8', () => {
    const required = (type: EventType): unknown => (contracts.schemas.get(type) as Json).required;
    assert.deepEqual(required('order.placed'), [
      'order_id',
      'placed_at',
      'customer_id',
      'channel',
      'brand',
      'country',
      'currency',
      'promised_delivery_at',
      'lines',
    ]);
    assert.deepEqual(required('session.started'), ['session_id', 'started_at', 'channel', 'device']);
    assert.deepEqual(required('support_case.resolved'), ['case_id', 'channel', 'opened_at', 'resolved_at']);
    assert.deepEqual(required('product.upserted'), [
      'sku',
      'name',
      'brand',
      'category',
      'supplier_id',
      'lead_time_days',
      'list_price',
      'currency',
      'effective_at',
    ]);
    assert.deepEqual(required('customer.upserted'), [
      'customer_id',
      'loyalty_tier',
      'segment',
      'country',
      'consent',
      'effective_at',
    ]);
    assert.deepEqual(required('fx.rate'), ['currency', 'hour', 'rate_to_eur']);
  });

  it('envelope type enum is EVENT_TYPES', () => {
    const envelope = contracts.envelopeSchema as { properties: { type: { enum: unknown } } };
    assert.deepEqual(envelope.properties.type.enum, [...EVENT_TYPES]);
  });

  it('common currency and country enums are the ISO lists of iso.ts', () => {
    const defs = (contracts.commonSchema as { $defs: Record<string, { enum?: unknown[] }> }).$defs;
    assert.deepEqual(defs.currency?.enum, [...CURRENCY_CODES]);
    assert.deepEqual(defs.country?.enum, [...COUNTRY_CODES]);
    assert.equal(COUNTRY_CODES.length, 249);
    assert.equal(CURRENCY_CODES.length, 177);
    assert.equal(new Set(CURRENCY_CODES).size, CURRENCY_CODES.length);
    assert.equal(new Set(COUNTRY_CODES).size, COUNTRY_CODES.length);
    for (const code of ['EUR', 'USD', 'GBP', 'JPY', 'CHF', 'XOF', 'VES', 'ZWG'])
      assert.equal(isCurrencyCode(code), true, code);
    for (const code of ['EURO', 'eur', 'HRK', 'XXX', 'XTS', '', 42])
      assert.equal(isCurrencyCode(code), false, String(code));
    for (const code of ['FR', 'GB', 'US', 'AQ', 'AX', 'SS', 'BQ'])
      assert.equal(isCountryCode(code), true, code);
    for (const code of ['XX', 'UK', 'EU', 'fr', 'FRA', null])
      assert.equal(isCountryCode(code), false, String(code));
  });

  it('accepts every listed currency and country and refuses withdrawn ones', () => {
    for (const currency of CURRENCY_CODES) assertValid(event('fx.rate', dataOf('fx.rate', { currency })));
    for (const country of COUNTRY_CODES)
      assertValid(event('customer.upserted', dataOf('customer.upserted', { country })));
    for (const currency of ['HRK', 'DEM', 'FRF', 'XXX']) {
      assertViolation(event('fx.rate', dataOf('fx.rate', { currency })), 'enum', 'data.currency');
    }
  });
});

describe('contracts: hostile input', () => {
  it('rejects an own __proto__ key in data without polluting Object.prototype', () => {
    const data = JSON.parse(
      `{"__proto__":{"polluted":true},${JSON.stringify(dataOf('order.status_changed')).slice(1)}`,
    ) as Json;
    assert.ok(Object.prototype.hasOwnProperty.call(data, '__proto__'));
    const result = contracts.validate(event('order.status_changed', data));
    assert.deepEqual(failureOf(result), {
      rule: 'additionalProperties',
      field: 'data.__proto__',
      message: 'data.__proto__ is not an allowed field',
    });
    assert.equal((Object.prototype as Json).polluted, undefined);
    assert.equal(({} as Json).polluted, undefined);
    assert.deepEqual(Object.keys(Object.prototype), []);
  });

  it('rejects __proto__ and constructor keys at every level', () => {
    const line = JSON.parse('{"__proto__":{"polluted":true},"line_no":1,"quantity":1}') as Json;
    assertViolation(
      event('return.initiated', dataOf('return.initiated', { lines: [line] })),
      'additionalProperties',
      'data.lines[0].__proto__',
    );
    const envelope = JSON.parse(
      `{"__proto__":{"polluted":true},${JSON.stringify(event('fx.rate', dataOf('fx.rate'))).slice(1)}`,
    ) as Json;
    assertViolation(envelope, 'additionalProperties', '__proto__');
    assertViolation(
      event('fx.rate', dataOf('fx.rate', { constructor: 'x' })),
      'additionalProperties',
      'data.constructor',
    );
    assertViolation(
      event(
        'customer.upserted',
        dataOf('customer.upserted', {
          consent: JSON.parse(
            '{"marketing":true,"analytics":true,"constructor":{"prototype":{"polluted":1}}}',
          ),
        }),
      ),
      'additionalProperties',
      'data.consent.constructor',
    );
    assert.equal(({} as Json).polluted, undefined);
  });

  it('does not blow the stack on deeply nested values', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200_000; i++) deep = i % 2 ? [deep] : { d: deep };
    assertViolation(
      event('order.placed', withLine('order.placed', { sku: deep })),
      'type',
      'data.lines[0].sku',
    );
    assertViolation(
      event('order.placed', dataOf('order.placed', { extra: deep })),
      'additionalProperties',
      'data.extra',
    );
    assertViolation(event('order.placed', dataOf('order.placed'), { nested: deep }), 'type', 'nested');
    assertViolation(event('order.placed', deep), 'type', 'data');
    assertViolation(event('nope', { deep }), 'unknown_type', 'type');
  });

  it('never throws, even on exotic objects', () => {
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        has() {
          throw new Error('boom');
        },
        ownKeys() {
          throw new Error('boom');
        },
      },
    );
    assert.deepEqual(contracts.validate(throwing), {
      ok: false,
      violation: { rule: 'type', field: '(event)', message: 'the event must be a JSON object' },
    });
    assertViolation(new Map([['specversion', '1.0']]), 'required', 'specversion');
    assertViolation(Object.create(null) as Json, 'required', 'specversion');
  });
});

describe('contracts: API', () => {
  it('compiles once: createContractValidator returns the same validator', () => {
    assert.equal(createContractValidator(), contracts);
  });

  it('reports only rules of CONTRACT_RULES, and each of them can happen', () => {
    const seen = new Set<string>();
    const record = (value: unknown): void => {
      const result = contracts.validate(value);
      if (!result.ok) seen.add(result.violation.rule);
    };
    for (const type of EVENT_TYPES) for (const c of INVALID[type]) record(event(type, c.data));
    record(null);
    record(event('nope', {}));
    record({ ...event('fx.rate', dataOf('fx.rate')), specversion: '0.3' });
    assert.deepEqual([...seen].sort(), [...CONTRACT_RULES].sort());
  });
});
