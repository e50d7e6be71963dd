/**
 * The traffic simulation: a seeded, deterministic discrete-event simulation of the company that
 * yields CloudEvents 1.0 in EMISSION order (the moment each event would reach Pulse).
 *
 * How it works
 * - Time advances one minute at a time. A planner runs LOOKAHEAD minutes ahead of emission and
 *   decides the orders of its minute (count from the daily curve + flash sales); an order that comes
 *   from a session schedules that session up to 45 minutes before the order, which is why the
 *   planner runs ahead.
 * - Every future business event (a session, an order, its payment, dispatch, delivery, return,
 *   refund, a support case, inventory snapshots, FX rates, product and customer changes) is a task in
 *   a binary heap keyed by its due time. Handling a task emits its events and schedules the next ones.
 * - Sessions that do not convert (97 % of them, ~2 M a day at full scale) bypass the heap: each
 *   minute draws their count and sorted start times, merged with the heap.
 * - Noise is applied where an event is emitted: `invalid` replaces it by a contract-breaking
 *   mutation (same id), `late` re-schedules it minutes to hours later (its `time` then says when it
 *   was emitted, its business timestamps keep their value), `duplicate` emits it and emits the very
 *   same event again 50 ms to 10 minutes later.
 *
 * Ordering rule (tested): the envelope `time` of successive events never decreases, except for a
 * duplicate re-emission, which carries its original's `time` and comes after the original, at most
 * MAX_DUPLICATE_DELAY_MS later.
 */
import type { CloudEvent, EventType } from '../contracts/types.js';
import { MinHeap } from './heap.js';
import type { Scheduled } from './heap.js';
import { Random, WeightedPicker, fmix32, hashNumbers } from './random.js';
import {
  CARRIER_ON_TIME,
  CATEGORIES,
  CHANNELS,
  COUNTRIES,
  LOYALTY_TIERS,
  SEGMENTS,
  UK_CARRIERS,
  WAREHOUSES,
  buildCompany,
  customerNumber,
  customerProfile,
  customerId,
  intradayCurve,
  WEEKDAY_FACTORS,
} from './company.js';
import type { Company, Country, CustomerProfile } from './company.js';

export interface GeneratorOptions {
  /** Seed of every random choice (default 1). */
  seed?: number;
  /** Mean orders per day, flash sales included (default 60,000). */
  ordersPerDay?: number;
  /** Share of events emitted minutes to hours after their business time (default 0.01). */
  lateShare?: number;
  /** Share of events emitted twice with the same id (default 0.005). */
  duplicateShare?: number;
  /** Share of events replaced by a contract-breaking mutation (default 0.002). */
  invalidShare?: number;
  /** One or two flash sales a day above 500 orders a minute at full scale (default true). */
  flashSales?: boolean;
  /** Business time zone of the daily curve and of the days (default Europe/Paris). */
  timeZone?: string;
}

export type ResolvedGeneratorOptions = Required<GeneratorOptions>;

export const DEFAULT_GENERATOR_OPTIONS: Readonly<ResolvedGeneratorOptions> = {
  seed: 1,
  ordersPerDay: 60_000,
  lateShare: 0.01,
  duplicateShare: 0.005,
  invalidShare: 0.002,
  flashSales: true,
  timeZone: 'Europe/Paris',
};

/** The kind of noise injected into an emitted event. */
export type NoiseKind = 'late' | 'duplicate' | 'invalid';

/** A late event is emitted this long after its business time, at most. */
export const MAX_LATE_DELAY_MS = 6 * 3_600_000;
/** A duplicate is re-emitted at most this long after its original. */
export const MAX_DUPLICATE_DELAY_MS = 10 * 60_000;

const noiseMarks = new WeakMap<object, NoiseKind>();

/**
 * The noise injected into this event object, if any: `late` (emitted after its business time),
 * `duplicate` (the re-emission of an event already emitted: same id, same content) or `invalid`
 * (a contract-breaking mutation). Undefined for a normal event and for the original of a duplicate.
 */
export function noiseOf(event: CloudEvent): NoiseKind | undefined {
  return noiseMarks.get(event);
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The planner runs this many minutes ahead of emission (>= the longest session-to-order lead). */
const LOOKAHEAD_MINUTES = 60;
const MAX_SESSION_LEAD_MS = 45 * MINUTE;
/** Orders per session outside and during flash sales. */
const CONVERSION_BASE = 0.029;
const CONVERSION_FLASH = 0.08;
const SESSION_BACKED_SHARE = CHANNELS.reduce((sum, c) => sum + (c.sessionBacked ? c.orderWeight : 0), 0);
/** Support cases without an order, per order. */
const ORPHAN_CASES_PER_ORDER = 0.007;
const INVENTORY_INTERVAL_MS = 4 * HOUR;

// Task kinds.
const K_INIT = 1;
const K_SESSION = 2;
const K_ORDER = 3;
const K_PAID = 4;
const K_CANCEL = 5;
const K_DISPATCH = 6;
const K_DELIVER = 7;
const K_RETURN = 8;
const K_REFUND = 9;
const K_SUPPORT = 10;
const K_INVENTORY = 11;
const K_FX = 12;
const K_PRODUCT_CHANGE = 13;
const K_CUSTOMER_CHANGE = 14;
const K_EMIT = 15;

class Task implements Scheduled {
  t = 0;
  seq = 0;
  kind = 0;
  ref: unknown = null;
  aux = 0;
}

interface Line {
  lineNo: number;
  product: number;
  category: number;
  qty: number;
  unitCents: number;
  discountCents: number;
  taxCents: number;
  pair: number;
}

class Order {
  id = '';
  placedAt = 0;
  channel = 0;
  country = 0;
  brand = 0;
  seller = -1;
  customer = 0;
  flash = false;
  sessionId: string | null = null;
  sessionLoggedIn = false;
  device = '';
  landing: string | null = null;
  currency = 'EUR';
  lines: Line[] = [];
  promisedAt = 0;
  shipmentId = '';
  carrier = '';
  deliveredAt = 0;
  late = false;
}

interface ReturnRecord {
  id: string;
  orderId: string;
  currency: string;
  reason: string;
  lines: { lineNo: number; qty: number; refundCents: number }[];
}

interface FlashSale {
  /** Local minute of the day the sale starts. */
  start: number;
  duration: number;
  /** Orders per minute at the plateau. */
  intensity: number;
  brand: number;
}

interface DayPlan {
  dayKey: number;
  /** Orders of the day outside flash sales. */
  baseDaily: number;
  sales: FlashSale[];
}

const CURVE = intradayCurve();
const HEX_CODES = Uint8Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0));

/** Char code of the hex digit of `x` at bit `shift`. */
function hexCode(x: number, shift: number): number {
  return HEX_CODES[(x >>> shift) & 15] as number;
}

function isoSlow(ms: number): string {
  return new Date(ms).toISOString();
}

/** UTC offset of a time zone, cached per UTC hour. */
class ZoneClock {
  private hour = Number.NaN;
  private offset = 0;
  private readonly format: Intl.DateTimeFormat | undefined;

  constructor(timeZone: string) {
    if (timeZone === 'UTC' || timeZone === 'Etc/UTC') {
      this.format = undefined;
      return;
    }
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Local time minus UTC, in milliseconds, at `ms`. */
  offsetAt(ms: number): number {
    const hour = Math.floor(ms / HOUR);
    if (hour !== this.hour) {
      this.hour = hour;
      this.offset = this.compute(hour * HOUR);
    }
    return this.offset;
  }

  private compute(ms: number): number {
    if (this.format === undefined) return 0;
    const parts: Record<string, number> = {};
    for (const part of this.format.formatToParts(new Date(ms))) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value);
    }
    const local = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return Math.round((local - ms) / MINUTE) * MINUTE;
  }
}

function checkShare(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new RangeError(`${name} must be a number between 0 and 1, got ${String(value)}`);
  }
}

/** Fills in the defaults and checks every option; throws a RangeError naming the bad one. */
export function resolveGeneratorOptions(options: GeneratorOptions = {}): ResolvedGeneratorOptions {
  const resolved: ResolvedGeneratorOptions = { ...DEFAULT_GENERATOR_OPTIONS };
  // Only the generator's own keys: callers may pass a wider object (e.g. live traffic options).
  for (const key of Object.keys(DEFAULT_GENERATOR_OPTIONS) as (keyof ResolvedGeneratorOptions)[]) {
    const value = options[key];
    if (value !== undefined) (resolved as Record<string, unknown>)[key] = value;
  }
  if (!Number.isSafeInteger(resolved.seed)) {
    throw new RangeError(`seed must be an integer, got ${String(resolved.seed)}`);
  }
  if (
    typeof resolved.ordersPerDay !== 'number' ||
    !(resolved.ordersPerDay > 0) ||
    resolved.ordersPerDay > 1e8
  ) {
    throw new RangeError(
      `ordersPerDay must be a number > 0 (at most 1e8), got ${String(resolved.ordersPerDay)}`,
    );
  }
  checkShare('lateShare', resolved.lateShare);
  checkShare('duplicateShare', resolved.duplicateShare);
  checkShare('invalidShare', resolved.invalidShare);
  if (resolved.lateShare + resolved.duplicateShare + resolved.invalidShare >= 1) {
    throw new RangeError('lateShare + duplicateShare + invalidShare must be below 1');
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: resolved.timeZone });
  } catch {
    throw new RangeError(`timeZone must be an IANA time zone, got ${JSON.stringify(resolved.timeZone)}`);
  }
  resolved.flashSales = resolved.flashSales !== false;
  return resolved;
}

// Fields each event type requires (DESIGN.md §8), and its timestamp fields: used by the mutations.
const REQUIRED: Readonly<Record<EventType, readonly string[]>> = {
  'order.placed': [
    'order_id',
    'placed_at',
    'customer_id',
    'channel',
    'brand',
    'country',
    'currency',
    'promised_delivery_at',
    'lines',
  ],
  'order.status_changed': ['order_id', 'status', 'changed_at'],
  'shipment.dispatched': ['shipment_id', 'order_id', 'carrier', 'dispatched_at', 'promised_delivery_at'],
  'shipment.delivered': ['shipment_id', 'order_id', 'delivered_at'],
  'return.initiated': ['return_id', 'order_id', 'lines', 'reason', 'initiated_at'],
  'return.refunded': ['return_id', 'order_id', 'refunded_at', 'amount', 'currency'],
  'session.started': ['session_id', 'started_at', 'channel', 'device'],
  'support_case.resolved': ['case_id', 'channel', 'opened_at', 'resolved_at'],
  'inventory.snapshot': ['sku', 'warehouse', 'as_of', 'on_hand', 'available_to_promise'],
  'product.upserted': [
    'sku',
    'name',
    'brand',
    'category',
    'supplier_id',
    'lead_time_days',
    'list_price',
    'currency',
    'effective_at',
  ],
  'customer.upserted': ['customer_id', 'loyalty_tier', 'segment', 'country', 'consent', 'effective_at'],
  'channel.upserted': ['channel', 'name', 'type', 'effective_at'],
  'fx.rate': ['currency', 'hour', 'rate_to_eur'],
};

const TIMESTAMPS: Readonly<Record<EventType, readonly string[]>> = {
  'order.placed': ['placed_at', 'promised_delivery_at'],
  'order.status_changed': ['changed_at'],
  'shipment.dispatched': ['dispatched_at', 'promised_delivery_at'],
  'shipment.delivered': ['delivered_at'],
  'return.initiated': ['initiated_at'],
  'return.refunded': ['refunded_at'],
  'session.started': ['started_at'],
  'support_case.resolved': ['opened_at', 'resolved_at'],
  'inventory.snapshot': ['as_of'],
  'product.upserted': ['effective_at'],
  'customer.upserted': ['effective_at'],
  'channel.upserted': ['effective_at'],
  'fx.rate': ['hour'],
};

/** The ways an event is made to break its contract (see mutateInvalid). */
export const INVALID_MUTATIONS = [
  'missing_field',
  'unknown_field',
  'malformed_timestamp',
  'bad_currency',
  'zero_quantity',
  'csat_out_of_range',
  'money_precision',
] as const;
export type InvalidMutation = (typeof INVALID_MUTATIONS)[number];

const mutationMarks = new WeakMap<object, InvalidMutation>();

/** For an injected invalid event: which mutation broke it. */
export function invalidMutationOf(event: CloudEvent): InvalidMutation | undefined {
  return mutationMarks.get(event);
}

/** "2024-03-01T10:15:00.000Z" → "01/03/2024 10:15": not RFC 3339. */
function malformTimestamp(value: unknown): string {
  const s = typeof value === 'string' && value.length >= 16 ? value : '2024-01-01T00:00:00Z';
  return `${s.slice(8, 10)}/${s.slice(5, 7)}/${s.slice(0, 4)} ${s.slice(11, 16)}`;
}

/** A copy of `event` that breaks its contract in one way, chosen among those that apply to its type. */
function mutateInvalid(event: CloudEvent, rng: Random): CloudEvent {
  const data = structuredClone(event.data) as Record<string, unknown>;
  const applicable: InvalidMutation[] = ['missing_field', 'unknown_field', 'malformed_timestamp'];
  if (typeof data.currency === 'string') applicable.push('bad_currency');
  if (Array.isArray(data.lines) && data.lines.length > 0) applicable.push('zero_quantity');
  if (event.type === 'support_case.resolved') applicable.push('csat_out_of_range');
  if (
    event.type === 'order.placed' ||
    event.type === 'return.refunded' ||
    event.type === 'product.upserted'
  ) {
    applicable.push('money_precision');
  }
  const mutation = rng.pick(applicable);
  switch (mutation) {
    case 'missing_field':
      delete data[rng.pick(REQUIRED[event.type])];
      break;
    case 'unknown_field':
      data[rng.pick(['legacy_ref', 'debug', 'extra_note', 'internal_flag'])] = 'unexpected';
      break;
    case 'malformed_timestamp': {
      const field = rng.pick(TIMESTAMPS[event.type]);
      data[field] = malformTimestamp(data[field]);
      break;
    }
    case 'bad_currency':
      data.currency = rng.pick(['EURO', 'E$', 'pounds']);
      break;
    case 'zero_quantity': {
      const lines = data.lines as Record<string, unknown>[];
      const line = lines[rng.int(0, lines.length - 1)];
      if (line !== undefined) line.quantity = 0;
      break;
    }
    case 'csat_out_of_range':
      data.csat = 7;
      break;
    case 'money_precision':
      if (event.type === 'order.placed') {
        const line = (data.lines as Record<string, unknown>[])[0];
        if (line !== undefined) line.unit_price = Math.floor(Number(line.unit_price)) + 0.125;
      } else if (event.type === 'return.refunded') {
        data.amount = Math.floor(Number(data.amount)) + 0.375;
      } else {
        data.list_price = Math.floor(Number(data.list_price)) + 0.999;
      }
      break;
  }
  const mutated: CloudEvent = { ...event, data };
  mutationMarks.set(mutated, mutation);
  return mutated;
}

const LINE_COUNTS = new WeightedPicker([1, 2, 3, 4, 5], [0.45, 0.27, 0.15, 0.08, 0.05]);
const QUANTITIES = new WeightedPicker([1, 2, 3], [0.8, 0.15, 0.05]);
const DISCOUNTS = new WeightedPicker([0.05, 0.1, 0.15, 0.2, 0.25, 0.3], [0.15, 0.3, 0.2, 0.2, 0.1, 0.05]);
const FLASH_DISCOUNTS = new WeightedPicker([0.2, 0.3, 0.4, 0.5], [0.3, 0.35, 0.25, 0.1]);
const SUPPORT_CHANNELS = new WeightedPicker(['chat', 'email', 'phone', 'social'], [0.4, 0.3, 0.2, 0.1]);
/** Session channels of the sessions that do not convert: web, mobile (app), marketplace. */
const BROWSE_CHANNELS = new WeightedPicker([0, 1, 3], [0.5, 0.33, 0.17]);
const DEVICES: readonly WeightedPicker<string>[] = [
  new WeightedPicker(['desktop', 'ios', 'android', 'tablet'], [0.55, 0.18, 0.19, 0.08]),
  new WeightedPicker(['ios', 'android'], [0.52, 0.48]),
  new WeightedPicker(['desktop'], [1]),
  new WeightedPicker(['desktop', 'ios', 'android', 'tablet'], [0.45, 0.25, 0.24, 0.06]),
  new WeightedPicker(['desktop'], [1]),
];
const RETURN_REASONS = new WeightedPicker(
  ['wrong_size', 'changed_mind', 'not_as_described', 'damaged', 'wrong_item', 'arrived_late'],
  [0.34, 0.25, 0.16, 0.1, 0.07, 0.08],
);
const CATEGORY_PAGES = CATEGORIES.map((c) => `/c/${c.name}`);
const BRAND_PAGES = ['/brands/aurora', '/brands/borealis', '/brands/cirrus'];
const SEARCH_PAGES = [
  '/search?q=jacket',
  '/search?q=sneakers',
  '/search?q=gift',
  '/search?q=serum',
  '/search?q=headphones',
];
type CaseKind = 0 | 1 | 2 | 3; // late delivery, cancelled, delivered order, no order
const CSAT_BY_KIND: readonly WeightedPicker<number>[] = [
  new WeightedPicker([1, 2, 3, 4, 5], [0.22, 0.2, 0.25, 0.2, 0.13]),
  new WeightedPicker([1, 2, 3, 4, 5], [0.1, 0.12, 0.25, 0.3, 0.23]),
  new WeightedPicker([1, 2, 3, 4, 5], [0.05, 0.07, 0.15, 0.35, 0.38]),
  new WeightedPicker([1, 2, 3, 4, 5], [0.04, 0.06, 0.15, 0.35, 0.4]),
];
const SENTIMENT_WITHOUT_CSAT = [-0.35, -0.1, 0.2, 0.25];

function meanOf(picker: WeightedPicker<number>, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  return picker.items.reduce((sum, value, i) => sum + (value * (weights[i] ?? 0)) / total, 0);
}
const MEAN_UNITS_PER_ORDER =
  meanOf(LINE_COUNTS, [0.45, 0.27, 0.15, 0.08, 0.05]) * meanOf(QUANTITIES, [0.8, 0.15, 0.05]);

/**
 * The simulation, as an endless stream of events in emission order, starting at `from` with no
 * history before it (the first events are the channel, FX and product reference data).
 */
export class TrafficSimulator {
  readonly options: ResolvedGeneratorOptions;
  readonly company: Company;
  readonly from: number;

  private readonly heap = new MinHeap<Task>();
  private readonly planRng: Random;
  private readonly simRng: Random;
  private readonly browseRng: Random;
  private readonly noiseRng: Random;
  private readonly planClock: ZoneClock;
  private readonly emitClock: ZoneClock;
  private readonly dayPlans = new Map<number, DayPlan>();

  // Emission buffer: the events of the current minute, in order.
  private out: CloudEvent[] = [];
  private outT: number[] = [];
  private outPos = 0;
  private minute: number;
  private nextPlanMinute: number;
  private emitDay = Number.NaN;
  private sessionTimes = new Int32Array(4096);

  // Identifiers.
  private readonly idSalt: number[];
  private readonly tag: string;
  private readonly tagCodes: Uint8Array;
  private eventCounter = 0;
  private orderCounter = 0;
  private sessionCounter = 0;
  private shipmentCounter = 0;
  private returnCounter = 0;
  private caseCounter = 0;

  // Noise thresholds on one uniform draw.
  private readonly cutInvalid: number;
  private readonly cutLate: number;
  private readonly cutDuplicate: number;

  // Customers: who has been seen (and upserted), and changes since.
  private readonly seen: Uint8Array;
  private seenList: Int32Array;
  private seenCount = 0;
  private readonly customerOverrides = new Map<number, { tier: number; segment: number }>();
  private readonly customerPoolSize: number;

  // FX: EUR per unit, rounded to 6 decimals as published.
  private gbp: number;
  private usd: number;
  private rateGbp = 0;
  private rateAed = 0;
  private rateSar = 0;

  // Inventory per SKU × warehouse pair.
  private readonly pairOf: Int32Array;
  private readonly pairProduct: Int32Array;
  private readonly pairWarehouse: Int32Array;
  private readonly onHand: Float64Array;
  private readonly allocated: Float64Array;
  private readonly reorderPoint: Float64Array;
  private readonly orderUpTo: Float64Array;
  private readonly pendingQty: Float64Array;
  private readonly pendingAt: Float64Array;
  private readonly lastOnHand: Int32Array;
  private readonly lastAtp: Int32Array;
  private readonly pairsByWarehouse: Int32Array[];

  // Scratch results of ratesAt().
  private rBase = 0;
  private rFlash = 0;
  private rFlashBrand = 0;

  // ISO formatting cache for the current minute.
  private isoMinute = -1;
  private readonly isoPrefix = new Uint8Array(17);

  constructor(from: Date, options: GeneratorOptions = {}) {
    const start = from instanceof Date ? from.getTime() : Number.NaN;
    if (!Number.isFinite(start)) throw new RangeError('from must be a valid Date');
    this.options = resolveGeneratorOptions(options);
    const { seed, ordersPerDay } = this.options;
    this.from = Math.ceil(start);
    this.customerPoolSize = Math.min(2_000_000, Math.max(500, Math.round(ordersPerDay * 5)));
    this.company = buildCompany(seed, { customerCount: this.customerPoolSize });
    this.planRng = Random.derive(seed, 'plan', this.from);
    this.simRng = Random.derive(seed, 'sim', this.from);
    this.browseRng = Random.derive(seed, 'browse', this.from);
    this.noiseRng = Random.derive(seed, 'noise', this.from);
    this.planClock = new ZoneClock(this.options.timeZone);
    this.emitClock = new ZoneClock(this.options.timeZone);
    this.idSalt = [1, 2, 3, 4].map((k) => hashNumbers(seed, this.from, k));
    this.tag = ((hashNumbers(seed, this.from, 7) % 1679616) + 1679616).toString(36).slice(-4).toUpperCase();
    this.tagCodes = Uint8Array.from(this.tag, (ch) => ch.charCodeAt(0));

    const o = this.options;
    this.cutInvalid = o.invalidShare;
    this.cutLate = o.invalidShare + o.lateShare;
    this.cutDuplicate = o.invalidShare + o.lateShare + o.duplicateShare;

    const maxCustomer =
      customerNumber(COUNTRIES.length - 1, Math.max(...this.company.customersPerCountry)) + 1;
    this.seen = new Uint8Array(maxCustomer + 1);
    this.seenList = new Int32Array(1024);

    const fxRng = Random.derive(seed, 'fx');
    this.gbp = 1.17 * Math.exp(fxRng.normal(0, 0.01));
    this.usd = 0.92 * Math.exp(fxRng.normal(0, 0.01));
    this.publishRates();

    // Inventory.
    const products = this.company.products;
    this.pairOf = new Int32Array(products.length * WAREHOUSES.length).fill(-1);
    const pairs: [number, number][] = [];
    for (const p of products) for (const w of p.warehouses) pairs.push([p.index, w]);
    const n = pairs.length;
    this.pairProduct = new Int32Array(n);
    this.pairWarehouse = new Int32Array(n);
    this.onHand = new Float64Array(n);
    this.allocated = new Float64Array(n);
    this.reorderPoint = new Float64Array(n);
    this.orderUpTo = new Float64Array(n);
    this.pendingQty = new Float64Array(n);
    this.pendingAt = new Float64Array(n);
    this.lastOnHand = new Int32Array(n).fill(-1);
    this.lastAtp = new Int32Array(n).fill(-1);
    const invRng = Random.derive(seed, 'inventory');
    const unitsPerDay = ordersPerDay * MEAN_UNITS_PER_ORDER;
    const share = (w: number, stockedInGulf: boolean): number => {
      const eu = (COUNTRIES[0]?.weight ?? 0) + (COUNTRIES[1]?.weight ?? 0);
      const es = COUNTRIES[2]?.weight ?? 0;
      const gulf = (COUNTRIES[3]?.weight ?? 0) + (COUNTRIES[4]?.weight ?? 0);
      if (w === 0) return stockedInGulf ? eu : eu + gulf;
      if (w === 1) return es;
      return gulf;
    };
    pairs.forEach(([product, w], i) => {
      const p = products[product];
      if (p === undefined) return;
      this.pairOf[product * WAREHOUSES.length + w] = i;
      this.pairProduct[i] = product;
      this.pairWarehouse[i] = w;
      const demand =
        unitsPerDay * (this.company.productShare[product] ?? 0) * share(w, p.warehouses.length > 2);
      // Most SKUs are planned well (reorder with cover to spare); some are not, and run at risk.
      const wellPlanned = invRng.chance(0.85);
      const factor = wellPlanned ? invRng.uniform(1.6, 2.6) : invRng.uniform(0.5, 1.2);
      const cover = wellPlanned
        ? p.leadTimeDays * factor + invRng.uniform(0, 45)
        : p.leadTimeDays * invRng.uniform(0.3, 1.5);
      this.onHand[i] = Math.round(demand * cover) + invRng.int(0, 6);
      this.reorderPoint[i] = demand * p.leadTimeDays * factor;
      this.orderUpTo[i] = demand * (p.leadTimeDays * factor + invRng.uniform(20, 45)) + 4;
    });
    this.pairsByWarehouse = WAREHOUSES.map((_, w) =>
      Int32Array.from(pairs.flatMap(([, pw], i) => (pw === w ? [i] : []))),
    );

    // Warm-up: reference data and first snapshots at `from`, then hourly FX and 4-hourly snapshots.
    this.schedule(K_INIT, this.from, null);
    WAREHOUSES.forEach((_, w) => this.schedule(K_INVENTORY, this.from, null, w));
    this.schedule(K_FX, Math.floor(this.from / HOUR) * HOUR + HOUR, null);

    this.minute = Math.floor(this.from / MINUTE) * MINUTE;
    this.nextPlanMinute = this.minute;
    while (this.nextPlanMinute < this.minute + LOOKAHEAD_MINUTES * MINUTE) {
      this.plan(this.nextPlanMinute);
      this.nextPlanMinute += MINUTE;
    }
  }

  /** Emission time (epoch ms) of the next event. */
  peekTime(): number {
    while (this.outPos >= this.out.length) this.fillMinute();
    return this.outT[this.outPos] as number;
  }

  /** The next event in emission order (the stream never ends). */
  nextEvent(): CloudEvent {
    while (this.outPos >= this.out.length) this.fillMinute();
    return this.out[this.outPos++] as CloudEvent;
  }

  // ---------------------------------------------------------------------------------------------
  // Time, curve and plans

  private dayPlan(dayKey: number): DayPlan {
    let plan = this.dayPlans.get(dayKey);
    if (plan !== undefined) return plan;
    const rng = Random.derive(this.options.seed, 'day', dayKey);
    const opd = this.options.ordersPerDay;
    const weekday = WEEKDAY_FACTORS[(((dayKey + 4) % 7) + 7) % 7] ?? 1;
    const sales: FlashSale[] = [];
    if (this.options.flashSales) {
      const count = rng.chance(0.6) ? 1 : 2;
      for (let k = 0; k < count; k++) {
        const evening = count === 1 || k === 1;
        const start = evening ? rng.int(18 * 60, 21 * 60) : rng.int(12 * 60, 13 * 60 + 15);
        sales.push({
          start,
          duration: rng.int(10, 16),
          intensity: opd * rng.uniform(0.0093, 0.0115),
          brand: this.company.brandPicker.index(rng),
        });
      }
    }
    let flashTotal = 0;
    for (const sale of sales)
      for (let k = 0; k < sale.duration; k++) flashTotal += sale.intensity * saleShape(k, sale.duration);
    plan = { dayKey, baseDaily: Math.max(0, opd * weekday - flashTotal), sales };
    this.dayPlans.set(dayKey, plan);
    // Forget plans well behind both the planner and the emitter.
    if (this.dayPlans.size > 4) {
      for (const key of this.dayPlans.keys()) if (key < dayKey - 2) this.dayPlans.delete(key);
    }
    return plan;
  }

  /** Sets rBase / rFlash (orders per minute) and rFlashBrand for the minute starting at `ms`. */
  private ratesAt(ms: number, clock: ZoneClock): number {
    const local = ms + clock.offsetAt(ms);
    const dayKey = Math.floor(local / DAY);
    const minuteOfDay = Math.floor((local - dayKey * DAY) / MINUTE);
    const plan = this.dayPlan(dayKey);
    this.rBase = (plan.baseDaily * (CURVE[minuteOfDay] ?? 1)) / 1440;
    this.rFlash = 0;
    for (const sale of plan.sales) {
      const k = minuteOfDay - sale.start;
      if (k >= 0 && k < sale.duration) {
        this.rFlash += sale.intensity * saleShape(k, sale.duration);
        this.rFlashBrand = sale.brand;
      }
    }
    return dayKey;
  }

  // ---------------------------------------------------------------------------------------------
  // Identifiers and formatting

  /** RFC 3339 UTC with milliseconds, built as one flat string (cheap to serialise later). */
  private iso(ms: number): string {
    const minute = Math.floor(ms / MINUTE);
    const p = this.isoPrefix;
    if (minute !== this.isoMinute) {
      this.isoMinute = minute;
      const text = new Date(minute * MINUTE).toISOString();
      for (let i = 0; i < 17; i++) p[i] = text.charCodeAt(i);
    }
    const rest = ms - minute * MINUTE;
    const s = Math.floor(rest / 1000);
    const milli = rest - s * 1000;
    const m2 = Math.floor(milli / 10);
    return String.fromCharCode(
      p[0] as number,
      p[1] as number,
      p[2] as number,
      p[3] as number,
      p[4] as number,
      p[5] as number,
      p[6] as number,
      p[7] as number,
      p[8] as number,
      p[9] as number,
      p[10] as number,
      p[11] as number,
      p[12] as number,
      p[13] as number,
      p[14] as number,
      p[15] as number,
      p[16] as number,
      48 + Math.floor(s / 10),
      48 + (s % 10),
      46,
      48 + Math.floor(m2 / 10),
      48 + (m2 % 10),
      48 + (milli % 10),
      90,
    );
  }

  /** UUID-shaped, unique per (seed, from, counter): the low 48 bits are a bijection of the counter. */
  private nextEventId(): string {
    const c = this.eventCounter++;
    const lo = c >>> 0;
    const hi = Math.floor(c / 4294967296);
    const salt = this.idSalt;
    const u = fmix32((lo + (salt[0] as number)) | 0);
    const a = fmix32(u ^ (salt[1] as number));
    const b = fmix32((u + (salt[2] as number)) | 0);
    const v = fmix32((a + b) | 0);
    // (h, u) stays a bijection of the counter (below 2^48): u gives lo, then h gives hi.
    const h = ((hi ^ (salt[3] as number) ^ (a >>> 16)) & 0xffff) >>> 0;
    return String.fromCharCode(
      hexCode(a, 28),
      hexCode(a, 24),
      hexCode(a, 20),
      hexCode(a, 16),
      hexCode(a, 12),
      hexCode(a, 8),
      hexCode(a, 4),
      hexCode(a, 0),
      45,
      hexCode(b, 28),
      hexCode(b, 24),
      hexCode(b, 20),
      hexCode(b, 16),
      45,
      52,
      hexCode(b, 8),
      hexCode(b, 4),
      hexCode(b, 0),
      45,
      HEX_CODES[8 + (v & 3)] as number,
      hexCode(v, 4),
      hexCode(v, 8),
      hexCode(v, 12),
      45,
      hexCode(h, 12),
      hexCode(h, 8),
      hexCode(h, 4),
      hexCode(h, 0),
      hexCode(u, 28),
      hexCode(u, 24),
      hexCode(u, 20),
      hexCode(u, 16),
      hexCode(u, 12),
      hexCode(u, 8),
      hexCode(u, 4),
      hexCode(u, 0),
    );
  }

  /** `SES-TAG-00000001`: the run tag, then the counter on 8 digits (more when it overflows). */
  private nextSessionId(): string {
    const n = ++this.sessionCounter;
    if (n >= 1e8) return `SES-${this.tag}-${n}`;
    const t = this.tagCodes;
    return String.fromCharCode(
      83,
      69,
      83,
      45,
      t[0] as number,
      t[1] as number,
      t[2] as number,
      t[3] as number,
      45,
      48 + (Math.floor(n / 1e7) % 10),
      48 + (Math.floor(n / 1e6) % 10),
      48 + (Math.floor(n / 1e5) % 10),
      48 + (Math.floor(n / 1e4) % 10),
      48 + (Math.floor(n / 1e3) % 10),
      48 + (Math.floor(n / 100) % 10),
      48 + (Math.floor(n / 10) % 10),
      48 + (n % 10),
    );
  }

  private event(type: EventType, source: string, time: string, data: Record<string, unknown>): CloudEvent {
    return { specversion: '1.0', id: this.nextEventId(), source, type, time, data };
  }

  // ---------------------------------------------------------------------------------------------
  // Scheduling and emission

  private schedule(kind: number, t: number, ref: unknown, aux = 0): void {
    const task = new Task();
    task.t = t;
    task.kind = kind;
    task.ref = ref;
    task.aux = aux;
    this.heap.push(task);
  }

  private reschedule(task: Task, kind: number, t: number): void {
    task.t = t;
    task.kind = kind;
    this.heap.push(task);
  }

  /** Emits an event due at `t`, applying the configured noise. */
  private emit(event: CloudEvent, t: number, noisy = true): void {
    if (noisy) {
      const r = this.noiseRng.next();
      if (r < this.cutDuplicate) {
        if (r < this.cutInvalid) {
          const bad = mutateInvalid(event, this.noiseRng);
          noiseMarks.set(bad, 'invalid');
          this.out.push(bad);
          this.outT.push(t);
          return;
        }
        if (r < this.cutLate) {
          const delay = Math.round(this.noiseRng.logUniform(2 * MINUTE, MAX_LATE_DELAY_MS));
          const late: CloudEvent = { ...event, time: isoSlow(t + delay) };
          noiseMarks.set(late, 'late');
          this.schedule(K_EMIT, t + delay, late);
          return;
        }
        const copy: CloudEvent = { ...event };
        noiseMarks.set(copy, 'duplicate');
        this.schedule(K_EMIT, t + Math.round(this.noiseRng.logUniform(50, MAX_DUPLICATE_DELAY_MS)), copy);
      }
    }
    this.out.push(event);
    this.outT.push(t);
  }

  private plan(m: number): void {
    this.ratesAt(m, this.planClock);
    const base = this.rBase;
    const flash = this.rFlash;
    const total = base + flash;
    const rng = this.planRng;
    const company = this.company;
    const n = rng.poisson(total);
    for (let i = 0; i < n; i++) {
      const t = m + rng.int(0, MINUTE - 1);
      if (t < this.from) continue;
      const order = new Order();
      order.placedAt = t;
      order.flash = flash > 0 && rng.next() * total < flash;
      order.channel = company.channelPicker.index(rng);
      order.country = company.countryPicker.index(rng);
      order.brand = order.flash && rng.chance(0.8) ? this.rFlashBrand : company.brandPicker.index(rng);
      const channel = CHANNELS[order.channel];
      if (channel?.channel === 'marketplace') order.seller = company.sellerPicker.index(rng);
      const poolSize = company.customersPerCountry[order.country] ?? 1;
      order.customer = customerNumber(order.country, Math.floor(poolSize * Math.pow(rng.next(), 1.8)));
      if (channel?.sessionBacked) {
        order.sessionId = this.nextSessionId();
        order.sessionLoggedIn = this.seen[order.customer] === 1 && rng.chance(0.8);
        order.device = (DEVICES[order.channel] as WeightedPicker<string>).pick(rng);
        order.landing = this.landingPage(rng, order.flash);
        const lead = order.flash
          ? rng.logUniform(20_000, 8 * MINUTE)
          : Math.min(MAX_SESSION_LEAD_MS, MINUTE + rng.exponential(9 * MINUTE));
        const startedAt = t - Math.round(lead);
        if (startedAt >= this.from) this.schedule(K_SESSION, startedAt, order);
      }
      this.schedule(K_ORDER, t, order);
    }
  }

  private landingPage(rng: Random, flash: boolean): string | null {
    const r = rng.next();
    if (r < 0.08) return null;
    if (flash && r < 0.75) return '/sale';
    if (r < 0.35) return '/';
    if (r < 0.58) return CATEGORY_PAGES[Math.floor(rng.next() * CATEGORY_PAGES.length)] as string;
    if (r < 0.83) {
      const products = this.company.products;
      return `/p/${(products[Math.floor(rng.next() * products.length)] as { sku: string }).sku}`;
    }
    if (r < 0.93) return SEARCH_PAGES[Math.floor(rng.next() * SEARCH_PAGES.length)] as string;
    if (r < 0.97) return BRAND_PAGES[Math.floor(rng.next() * BRAND_PAGES.length)] as string;
    return '/sale';
  }

  /** Processes the next minute into the emission buffer. */
  private fillMinute(): void {
    this.out.length = 0;
    this.outT.length = 0;
    this.outPos = 0;
    const m = this.minute;
    const end = m + MINUTE;
    this.plan(this.nextPlanMinute);
    this.nextPlanMinute += MINUTE;

    const dayKey = this.ratesAt(m, this.emitClock);
    if (dayKey !== this.emitDay) {
      this.emitDay = dayKey;
      this.scheduleDayTasks(dayKey, m);
    }
    const rng = this.browseRng;
    const browseMean =
      this.rBase * (1 / CONVERSION_BASE - SESSION_BACKED_SHARE) +
      this.rFlash * (1 / CONVERSION_FLASH - SESSION_BACKED_SHARE);
    const flashShare =
      this.rFlash > 0
        ? this.rFlash / CONVERSION_FLASH / (this.rBase / CONVERSION_BASE + this.rFlash / CONVERSION_FLASH)
        : 0;
    // Browsing sessions form a Poisson process over the minute: exponential gaps, already sorted.
    let sessions = 0;
    if (browseMean > 0) {
      const meanGap = MINUTE / browseMean;
      let at = -Math.log(1 - rng.next()) * meanGap;
      while (at < MINUTE) {
        if (sessions >= this.sessionTimes.length) {
          const grown = new Int32Array(this.sessionTimes.length * 2);
          grown.set(this.sessionTimes);
          this.sessionTimes = grown;
        }
        this.sessionTimes[sessions++] = Math.floor(at);
        at += -Math.log(1 - rng.next()) * meanGap;
      }
    }
    const times = this.sessionTimes;
    let orphanCases = rng.poisson((this.rBase + this.rFlash) * ORPHAN_CASES_PER_ORDER);
    while (orphanCases-- > 0) this.createCase(3, null, m + rng.int(0, MINUTE - 1), rng);

    const heap = this.heap;
    let i = 0;
    for (;;) {
      const top = heap.peek();
      const sessionT = i < sessions ? m + (times[i] as number) : end;
      if (top !== undefined && top.t < end && top.t <= sessionT) {
        heap.pop();
        this.handle(top);
      } else if (i < sessions) {
        i++;
        if (sessionT >= this.from) this.browseSession(sessionT, rng, flashShare);
      } else {
        break;
      }
    }
    this.minute = end;
  }

  private scheduleDayTasks(dayKey: number, now: number): void {
    const rng = Random.derive(this.options.seed, 'day-tasks', dayKey);
    const dayStart = dayKey * DAY - this.emitClock.offsetAt(now);
    const earliest = Math.max(now, this.from);
    const productChanges = rng.int(3, 12);
    for (let k = 0; k < productChanges; k++) {
      const t = dayStart + rng.int(7 * HOUR, 20 * HOUR);
      if (t >= earliest) this.schedule(K_PRODUCT_CHANGE, t, null);
    }
    const customerChanges = Math.round(this.customerPoolSize * 0.0015 * rng.uniform(0.8, 1.2));
    for (let k = 0; k < customerChanges; k++) {
      const t = dayStart + rng.int(0, DAY - 1);
      if (t >= earliest) this.schedule(K_CUSTOMER_CHANGE, t, null);
    }
  }

  private handle(task: Task): void {
    switch (task.kind) {
      case K_EMIT:
        this.out.push(task.ref as CloudEvent);
        this.outT.push(task.t);
        return;
      case K_SESSION:
        return this.convertedSession(task);
      case K_ORDER:
        return this.orderPlaced(task);
      case K_PAID:
        return this.orderPaid(task);
      case K_CANCEL:
        return this.orderCancelled(task);
      case K_DISPATCH:
        return this.orderDispatched(task);
      case K_DELIVER:
        return this.orderDelivered(task);
      case K_RETURN:
        return this.returnInitiated(task);
      case K_REFUND:
        return this.returnRefunded(task);
      case K_SUPPORT:
        this.emit(
          this.event('support_case.resolved', '/crm', this.iso(task.t), task.ref as Record<string, unknown>),
          task.t,
        );
        return;
      case K_INVENTORY:
        return this.inventorySnapshot(task);
      case K_FX:
        return this.fxTick(task);
      case K_PRODUCT_CHANGE:
        return this.productChange(task);
      case K_CUSTOMER_CHANGE:
        return this.customerChange(task);
      case K_INIT:
        return this.init(task.t);
      default:
        throw new Error(`unknown task kind ${task.kind}`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reference data

  private init(t: number): void {
    const time = this.iso(t);
    for (const c of CHANNELS) {
      this.emit(
        this.event('channel.upserted', '/mdm', time, {
          channel: c.channel,
          name: c.name,
          type: c.type,
          effective_at: time,
        }),
        t,
        false,
      );
    }
    this.emitRates(t, Math.floor(t / HOUR) * HOUR);
    for (const p of this.company.products) this.emit(this.productEvent(p.index, t), t);
  }

  private productEvent(index: number, t: number): CloudEvent {
    const p = this.company.products[index];
    if (p === undefined) throw new Error(`no product ${index}`);
    const time = this.iso(t);
    const data: Record<string, unknown> = {
      sku: p.sku,
      name: p.name,
      brand: this.company.brands[p.brandIndex],
      category: CATEGORIES[p.categoryIndex]?.name,
      supplier_id: p.supplierId,
      lead_time_days: p.leadTimeDays,
      list_price: p.listPriceCents / 100,
      currency: 'EUR',
    };
    if (p.sustainabilityScore !== undefined) data.sustainability_score = p.sustainabilityScore;
    data.effective_at = time;
    return this.event('product.upserted', '/pim', time, data);
  }

  private productChange(task: Task): void {
    const rng = this.simRng;
    const products = this.company.products;
    const p = products[rng.int(0, products.length - 1)];
    if (p === undefined) return;
    const r = rng.next();
    if (r < 0.7) {
      const euros = (p.listPriceCents / 100) * rng.uniform(0.8, 1.15);
      p.listPriceCents = Math.max(
        299,
        euros >= 200 ? Math.floor(euros / 10) * 1000 + 999 : Math.floor(euros) * 100 + 99,
      );
    } else if (r < 0.9) {
      const delta = rng.chance(0.6) ? rng.int(1, 5) : -rng.int(1, 4);
      p.leadTimeDays = Math.min(30, Math.max(3, p.leadTimeDays + delta));
    } else {
      let category = rng.int(0, CATEGORIES.length - 2);
      if (category >= p.categoryIndex) category++;
      p.categoryIndex = category;
    }
    this.emit(this.productEvent(p.index, task.t), task.t);
  }

  private customerEvent(profile: CustomerProfile, t: number): CloudEvent {
    const time = this.iso(t);
    const override = this.customerOverrides.get(profile.number);
    const data: Record<string, unknown> = { customer_id: profile.id };
    if (profile.number % 20 !== 0) data.email = profile.email;
    data.loyalty_tier = LOYALTY_TIERS[override?.tier ?? profile.tierIndex];
    data.segment = SEGMENTS[override?.segment ?? profile.segmentIndex];
    data.country = COUNTRIES[profile.countryIndex]?.code;
    data.consent = { marketing: profile.consentMarketing, analytics: profile.consentAnalytics };
    data.effective_at = time;
    return this.event('customer.upserted', '/crm', time, data);
  }

  /** Marks a customer as seen; the first time, emits customer.upserted. */
  private touchCustomer(n: number, t: number, profile?: CustomerProfile): void {
    if (this.seen[n] === 1) return;
    this.seen[n] = 1;
    if (this.seenCount >= this.seenList.length) {
      const grown = new Int32Array(this.seenList.length * 2);
      grown.set(this.seenList);
      this.seenList = grown;
    }
    this.seenList[this.seenCount++] = n;
    this.emit(this.customerEvent(profile ?? customerProfile(this.company, n), t), t);
  }

  private customerChange(task: Task): void {
    if (this.seenCount === 0) return;
    const rng = this.simRng;
    const n = this.seenList[rng.int(0, this.seenCount - 1)] as number;
    const profile = customerProfile(this.company, n);
    const current = this.customerOverrides.get(n) ?? {
      tier: profile.tierIndex,
      segment: profile.segmentIndex,
    };
    const next = { ...current };
    if (rng.chance(0.6)) {
      next.tier =
        current.tier < LOYALTY_TIERS.length - 1 && rng.chance(0.8)
          ? current.tier + 1
          : Math.max(0, current.tier - 1);
    } else {
      let segment = rng.int(0, SEGMENTS.length - 2);
      if (segment >= current.segment) segment++;
      next.segment = segment;
    }
    this.customerOverrides.set(n, next);
    this.emit(this.customerEvent(profile, task.t), task.t);
  }

  private publishRates(): void {
    this.rateGbp = Math.round(this.gbp * 1e6) / 1e6;
    this.rateAed = Math.round((this.usd / 3.6725) * 1e6) / 1e6;
    this.rateSar = Math.round((this.usd / 3.75) * 1e6) / 1e6;
  }

  private emitRates(t: number, hour: number): void {
    const time = this.iso(t);
    const hourText = isoSlow(hour);
    this.emit(
      this.event('fx.rate', '/fx', time, { currency: 'GBP', hour: hourText, rate_to_eur: this.rateGbp }),
      t,
    );
    this.emit(
      this.event('fx.rate', '/fx', time, { currency: 'AED', hour: hourText, rate_to_eur: this.rateAed }),
      t,
    );
    this.emit(
      this.event('fx.rate', '/fx', time, { currency: 'SAR', hour: hourText, rate_to_eur: this.rateSar }),
      t,
    );
  }

  private fxTick(task: Task): void {
    const rng = this.simRng;
    // Mean-reverting random walks; AED and SAR are pegged to the US dollar.
    this.gbp = Math.exp(
      Math.log(this.gbp) + 0.02 * (Math.log(1.17) - Math.log(this.gbp)) + rng.normal(0, 0.0008),
    );
    this.usd = Math.exp(
      Math.log(this.usd) + 0.02 * (Math.log(0.92) - Math.log(this.usd)) + rng.normal(0, 0.0009),
    );
    this.publishRates();
    this.emitRates(task.t, task.t);
    this.reschedule(task, K_FX, task.t + HOUR);
  }

  private rateOf(currency: string): number {
    if (currency === 'GBP') return this.rateGbp;
    if (currency === 'AED') return this.rateAed;
    if (currency === 'SAR') return this.rateSar;
    return 1;
  }

  // ---------------------------------------------------------------------------------------------
  // Sessions

  private browseSession(t: number, rng: Random, flashShare: number): void {
    const channelIndex = BROWSE_CHANNELS.pick(rng);
    const info = CHANNELS[channelIndex] as (typeof CHANNELS)[number];
    const time = this.iso(t);
    const sessionId = this.nextSessionId();
    const customer =
      this.seenCount > 0 && rng.next() < 0.25
        ? customerId(this.seenList[Math.floor(rng.next() * this.seenCount)] as number)
        : undefined;
    const device = (DEVICES[channelIndex] as WeightedPicker<string>).pick(rng);
    const landing = this.landingPage(rng, flashShare > 0 && rng.next() < flashShare);
    // Object literals with a fixed key order: one hidden class per variant, no transitions.
    let data: Record<string, unknown>;
    if (customer !== undefined) {
      data =
        landing !== null
          ? {
              session_id: sessionId,
              started_at: time,
              channel: info.channel,
              customer_id: customer,
              device,
              landing_page: landing,
            }
          : { session_id: sessionId, started_at: time, channel: info.channel, customer_id: customer, device };
    } else {
      data =
        landing !== null
          ? { session_id: sessionId, started_at: time, channel: info.channel, device, landing_page: landing }
          : { session_id: sessionId, started_at: time, channel: info.channel, device };
    }
    this.emit(this.event('session.started', info.source, time, data), t);
  }

  private convertedSession(task: Task): void {
    const order = task.ref as Order;
    const time = this.iso(task.t);
    const channel = CHANNELS[order.channel];
    const data: Record<string, unknown> = {
      session_id: order.sessionId,
      started_at: time,
      channel: channel?.channel,
    };
    if (order.sessionLoggedIn) data.customer_id = customerId(order.customer);
    data.device = order.device;
    if (order.landing !== null) data.landing_page = order.landing;
    this.emit(this.event('session.started', channel?.source ?? '/shop/web', time, data), task.t);
  }

  // ---------------------------------------------------------------------------------------------
  // Orders

  private orderPlaced(task: Task): void {
    const order = task.ref as Order;
    const t = task.t;
    const rng = this.simRng;
    const company = this.company;
    const country = COUNTRIES[order.country] as Country;
    const channel = CHANNELS[order.channel];
    const seller = order.seller >= 0 ? company.sellers[order.seller] : undefined;
    const profile = customerProfile(company, order.customer);
    this.touchCustomer(order.customer, t, profile);

    order.id = `ORD-${this.tag}-${String(++this.orderCounter).padStart(7, '0')}`;
    order.currency = seller?.ukBased && country.currency === 'EUR' ? 'GBP' : country.currency;
    const rate = this.rateOf(order.currency);
    const lineCount = LINE_COUNTS.pick(rng);
    const lines: Line[] = [];
    const dataLines: Record<string, unknown>[] = [];
    const vat = country.vatRate;
    for (let k = 0; k < lineCount; k++) {
      let product = -1;
      for (let attempt = 0; attempt < 4; attempt++) {
        const picker =
          seller !== undefined
            ? company.productsByBrandCategory[order.brand * CATEGORIES.length + rng.pick(seller.categories)]
            : company.productsByBrand[order.brand];
        const candidate = (picker as WeightedPicker<number>).pick(rng);
        if (!lines.some((l) => l.product === candidate)) {
          product = candidate;
          break;
        }
      }
      if (product < 0) continue;
      const p = company.products[product];
      if (p === undefined) continue;
      const qty = QUANTITIES.pick(rng);
      const eurCents = p.listPriceCents * (seller?.priceFactor ?? 1);
      const unitCents = Math.max(1, Math.round(rate === 1 ? eurCents : eurCents / rate));
      const gross = qty * unitCents;
      let discountCents = 0;
      if (order.flash ? rng.chance(0.85) : rng.chance(0.2)) {
        discountCents = Math.round(gross * (order.flash ? FLASH_DISCOUNTS : DISCOUNTS).pick(rng));
      }
      const taxCents = Math.round(((gross - discountCents) * vat) / (1 + vat));
      const pair = this.allocate(product, order.country, qty);
      const lineNo = lines.length + 1;
      lines.push({
        lineNo,
        product,
        category: p.categoryIndex,
        qty,
        unitCents,
        discountCents,
        taxCents,
        pair,
      });
      dataLines.push({
        line_no: lineNo,
        sku: p.sku,
        quantity: qty,
        unit_price: unitCents / 100,
        discount: discountCents / 100,
        tax: taxCents / 100,
      });
    }
    order.lines = lines;
    let promiseDays = rng.int(country.promiseDays[0], country.promiseDays[1]);
    if (seller?.ukBased) promiseDays = Math.min(5, promiseDays + 1);
    order.promisedAt = Math.ceil((t + promiseDays * DAY) / HOUR) * HOUR;

    const time = this.iso(t);
    const data: Record<string, unknown> = { order_id: order.id, placed_at: time, customer_id: profile.id };
    const pii = rng.next();
    if (pii < 0.97) data.email = profile.email;
    if (pii < 0.9) data.name = profile.name;
    if (pii < 0.6) data.phone = profile.phone;
    data.channel = channel?.channel;
    data.brand = company.brands[order.brand];
    data.country = country.code;
    data.currency = order.currency;
    if (seller !== undefined) data.seller_id = seller.id;
    if (order.sessionId !== null) data.session_id = order.sessionId;
    data.promised_delivery_at = isoSlow(order.promisedAt);
    data.lines = dataLines;
    this.emit(this.event('order.placed', channel?.source ?? '/shop/web', time, data), t);
    // What only the session needed (the session was emitted before the order).
    order.landing = null;
    order.device = '';
    order.sessionId = null;

    if (rng.chance(0.01)) {
      // Payment failed: cancelled without being paid.
      this.reschedule(task, K_CANCEL, t + rng.int(30_000, 10 * MINUTE));
    } else {
      this.reschedule(task, K_PAID, t + 2000 + Math.min(5 * MINUTE, Math.round(rng.exponential(20_000))));
    }
  }

  private statusChanged(order: Order, status: string, t: number): void {
    const time = this.iso(t);
    this.emit(
      this.event('order.status_changed', '/oms', time, { order_id: order.id, status, changed_at: time }),
      t,
    );
  }

  private orderPaid(task: Task): void {
    const order = task.ref as Order;
    const rng = this.simRng;
    this.statusChanged(order, 'paid', task.t);
    if (rng.chance(0.021)) {
      this.reschedule(task, K_CANCEL, task.t + Math.round(rng.logUniform(5 * MINUTE, 8 * HOUR)));
      return;
    }
    const delay = Math.min(40 * HOUR, 1.5 * HOUR + rng.exponential(11 * HOUR));
    this.reschedule(task, K_DISPATCH, Math.max(task.t + 30 * MINUTE, Math.round(order.placedAt + delay)));
  }

  private orderCancelled(task: Task): void {
    const order = task.ref as Order;
    this.statusChanged(order, 'cancelled', task.t);
    for (const line of order.lines)
      if (line.pair >= 0) this.allocated[line.pair] = (this.allocated[line.pair] ?? 0) - line.qty;
    if (this.simRng.chance(0.08))
      this.createCase(
        1,
        order,
        task.t + Math.round(this.simRng.logUniform(5 * MINUTE, 6 * HOUR)),
        this.simRng,
      );
  }

  private orderDispatched(task: Task): void {
    const order = task.ref as Order;
    const t = task.t;
    const rng = this.simRng;
    const seller = order.seller >= 0 ? this.company.sellers[order.seller] : undefined;
    for (const line of order.lines) {
      if (line.pair < 0) continue;
      this.allocated[line.pair] = (this.allocated[line.pair] ?? 0) - line.qty;
      this.onHand[line.pair] = (this.onHand[line.pair] ?? 0) - line.qty;
    }
    order.shipmentId = `SHP-${this.tag}-${String(++this.shipmentCounter).padStart(7, '0')}`;
    order.carrier = (seller?.ukBased ? UK_CARRIERS : (COUNTRIES[order.country] as Country).carriers).pick(
      rng,
    );
    const time = this.iso(t);
    const promised = isoSlow(order.promisedAt);
    this.emit(
      this.event('shipment.dispatched', '/wms', time, {
        shipment_id: order.shipmentId,
        order_id: order.id,
        carrier: order.carrier,
        dispatched_at: time,
        promised_delivery_at: promised,
      }),
      t,
    );
    this.statusChanged(order, 'dispatched', t);
    const window = order.promisedAt - t;
    if (rng.chance(CARRIER_ON_TIME[order.carrier] ?? 0.9)) {
      order.late = false;
      order.deliveredAt = t + Math.round(window * (0.3 + 0.7 * rng.next()));
    } else {
      order.late = true;
      order.deliveredAt =
        order.promisedAt + MINUTE + Math.round(Math.min(4 * DAY, rng.exponential(16 * HOUR)));
      if (rng.chance(0.12)) {
        this.createCase(0, order, order.promisedAt + Math.round(rng.uniform(HOUR, 30 * HOUR)), rng);
      }
    }
    this.reschedule(task, K_DELIVER, order.deliveredAt);
  }

  private orderDelivered(task: Task): void {
    const order = task.ref as Order;
    const t = task.t;
    const rng = this.simRng;
    const time = this.iso(t);
    this.emit(
      this.event('shipment.delivered', `/carriers/${order.carrier}`, time, {
        shipment_id: order.shipmentId,
        order_id: order.id,
        delivered_at: time,
      }),
      t,
    );
    this.statusChanged(order, 'delivered', t);
    if (!order.late && rng.chance(0.015)) {
      this.createCase(2, order, t + Math.round(Math.min(10 * DAY, rng.exponential(1.5 * DAY))), rng);
    }
    const returned: ReturnRecord['lines'] = [];
    for (const line of order.lines) {
      if (!rng.chance(CATEGORIES[line.category]?.returnRate ?? 0.15)) continue;
      const qty = line.qty > 1 && rng.chance(0.2) ? rng.int(1, line.qty - 1) : line.qty;
      const net = line.qty * line.unitCents - line.discountCents - line.taxCents;
      const refundCents = qty === line.qty ? net : Math.round((net * qty) / line.qty);
      returned.push({ lineNo: line.lineNo, qty, refundCents });
    }
    if (returned.length === 0 || returned.reduce((sum, l) => sum + l.refundCents, 0) <= 0) return;
    const record: ReturnRecord = {
      id: `RET-${this.tag}-${String(++this.returnCounter).padStart(6, '0')}`,
      orderId: order.id,
      currency: order.currency,
      reason: order.late && rng.chance(0.35) ? 'arrived_late' : RETURN_REASONS.pick(rng),
      lines: returned,
    };
    task.ref = record;
    this.reschedule(task, K_RETURN, t + Math.round((2 + 18 * Math.pow(rng.next(), 1.4)) * DAY));
  }

  private returnInitiated(task: Task): void {
    const record = task.ref as ReturnRecord;
    const time = this.iso(task.t);
    this.emit(
      this.event('return.initiated', '/returns', time, {
        return_id: record.id,
        order_id: record.orderId,
        lines: record.lines.map((l) => ({ line_no: l.lineNo, quantity: l.qty })),
        reason: record.reason,
        initiated_at: time,
      }),
      task.t,
    );
    this.reschedule(task, K_REFUND, task.t + Math.round(this.simRng.uniform(1, 5) * DAY));
  }

  private returnRefunded(task: Task): void {
    const record = task.ref as ReturnRecord;
    const time = this.iso(task.t);
    const cents = record.lines.reduce((sum, l) => sum + l.refundCents, 0);
    this.emit(
      this.event('return.refunded', '/payments', time, {
        return_id: record.id,
        order_id: record.orderId,
        refunded_at: time,
        amount: cents / 100,
        currency: record.currency,
      }),
      task.t,
    );
  }

  /** Schedules support_case.resolved for a case opened at `openedAt` (kind: see CaseKind). */
  private createCase(kind: CaseKind, order: Order | null, openedAt: number, rng: Random): void {
    const channel = SUPPORT_CHANNELS.pick(rng);
    let duration: number;
    if (channel === 'chat') duration = rng.logUniform(3 * MINUTE, 45 * MINUTE);
    else if (channel === 'phone') duration = rng.logUniform(4 * MINUTE, 40 * MINUTE);
    else if (channel === 'email') duration = rng.logUniform(2 * HOUR, 48 * HOUR);
    else duration = rng.logUniform(30 * MINUTE, 24 * HOUR);
    let opened = openedAt;
    let resolved = opened + Math.round(duration);
    if (kind === 3) {
      // Orphan cases are drawn at their resolution time.
      resolved = openedAt;
      opened = resolved - Math.round(duration);
    }
    const data: Record<string, unknown> = {
      case_id: `CAS-${this.tag}-${String(++this.caseCounter).padStart(6, '0')}`,
    };
    if (order !== null) data.order_id = order.id;
    data.channel = channel;
    data.opened_at = isoSlow(opened);
    data.resolved_at = isoSlow(resolved);
    let csat: number | undefined;
    if (rng.chance(0.72)) data.csat = csat = (CSAT_BY_KIND[kind] as WeightedPicker<number>).pick(rng);
    if (rng.chance(0.85)) {
      const mean = csat !== undefined ? ((csat - 3) / 2) * 0.75 : (SENTIMENT_WITHOUT_CSAT[kind] ?? 0);
      data.sentiment = Math.round(Math.max(-1, Math.min(1, mean + rng.normal(0, 0.18))) * 1000) / 1000;
    }
    this.schedule(K_SUPPORT, resolved, data);
  }

  // ---------------------------------------------------------------------------------------------
  // Inventory

  /** Picks the warehouse that serves a line and reserves the quantity; returns the pair index. */
  private allocate(product: number, countryIndex: number, qty: number): number {
    const preferences = (COUNTRIES[countryIndex] as Country).warehouses;
    let fallback = -1;
    for (const w of preferences) {
      const pair = this.pairOf[product * WAREHOUSES.length + w] as number;
      if (pair < 0) continue;
      if (fallback < 0) fallback = pair;
      if ((this.onHand[pair] as number) - (this.allocated[pair] as number) >= qty) {
        this.allocated[pair] = (this.allocated[pair] as number) + qty;
        return pair;
      }
    }
    if (fallback >= 0) this.allocated[fallback] = (this.allocated[fallback] as number) + qty;
    return fallback;
  }

  private inventorySnapshot(task: Task): void {
    const t = task.t;
    const w = task.aux;
    const rng = this.simRng;
    const warehouse = WAREHOUSES[w] as { id: string };
    const time = this.iso(t);
    const products = this.company.products;
    // A full snapshot at the start and once a day (the slot after midnight UTC); in between, only
    // the SKUs whose stock changed since their last snapshot.
    const full =
      t === this.from || Math.floor(t / INVENTORY_INTERVAL_MS) % (DAY / INVENTORY_INTERVAL_MS) === 0;
    for (const pair of this.pairsByWarehouse[w] as Int32Array) {
      if ((this.pendingQty[pair] as number) > 0 && (this.pendingAt[pair] as number) <= t) {
        this.onHand[pair] = Math.max(0, this.onHand[pair] as number) + (this.pendingQty[pair] as number);
        this.pendingQty[pair] = 0;
      }
      const onHand = Math.max(0, Math.round(this.onHand[pair] as number));
      const atp = Math.max(0, Math.min(onHand, Math.round(onHand - (this.allocated[pair] as number))));
      const product = products[this.pairProduct[pair] as number];
      if (product === undefined) continue;
      if ((this.pendingQty[pair] as number) === 0 && atp < (this.reorderPoint[pair] as number)) {
        this.pendingQty[pair] = Math.max(1, Math.round((this.orderUpTo[pair] as number) - atp));
        this.pendingAt[pair] = t + Math.round(product.leadTimeDays * DAY * rng.uniform(0.85, 1.25));
      }
      if (!full && this.lastOnHand[pair] === onHand && this.lastAtp[pair] === atp) continue;
      this.lastOnHand[pair] = onHand;
      this.lastAtp[pair] = atp;
      this.emit(
        this.event('inventory.snapshot', '/wms', time, {
          sku: product.sku,
          warehouse: warehouse.id,
          as_of: time,
          on_hand: onHand,
          available_to_promise: atp,
        }),
        t,
      );
    }
    // Next snapshot on the next 4-hour boundary, staggered by warehouse (5, 10, 15 minutes past).
    const next =
      Math.floor(t / INVENTORY_INTERVAL_MS) * INVENTORY_INTERVAL_MS +
      INVENTORY_INTERVAL_MS +
      (w + 1) * 5 * MINUTE;
    this.reschedule(task, K_INVENTORY, next);
  }
}

/** Shape of a flash sale over its minutes: a quick ramp up, a plateau and a tail. */
function saleShape(k: number, duration: number): number {
  if (k === 0) return 0.55;
  if (k >= duration - 2) return 0.7;
  return 1;
}

/**
 * All events emitted in [from, to), in emission order. Lazy: memory stays bounded whatever the
 * span; iterating the result again replays exactly the same events. The same seed and options give
 * exactly the same events.
 */
export function generateEvents(from: Date, to: Date, options: GeneratorOptions = {}): Iterable<CloudEvent> {
  resolveGeneratorOptions(options);
  const fromMs = from instanceof Date ? from.getTime() : Number.NaN;
  const toMs = to instanceof Date ? to.getTime() : Number.NaN;
  if (!Number.isFinite(fromMs)) throw new RangeError('from must be a valid Date');
  if (!Number.isFinite(toMs)) throw new RangeError('to must be a valid Date');
  return {
    *[Symbol.iterator](): Iterator<CloudEvent> {
      if (toMs <= fromMs) return;
      const simulator = new TrafficSimulator(from, options);
      while (simulator.peekTime() < toMs) yield simulator.nextEvent();
    },
  };
}
