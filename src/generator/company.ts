/**
 * The static model of the simulated company, built deterministically from a seed: brands, countries,
 * sales channels, categories, suppliers, the SKU catalogue, marketplace sellers, warehouses, the
 * customer base and the demand curve. The generator owns one instance and may change products over
 * time (price, category, lead time) so that the SCD2 dimensions get versions.
 */
import { Random, WeightedPicker, hashNumbers } from './random.js';

export const BRANDS = ['aurora', 'borealis', 'cirrus'] as const;
export type Brand = (typeof BRANDS)[number];
/** Share of orders per brand (same order as BRANDS). */
export const BRAND_WEIGHTS: readonly number[] = [0.45, 0.33, 0.22];
const BRAND_PRICE_FACTOR: readonly number[] = [1.0, 1.15, 0.95];
const BRAND_LABEL: readonly string[] = ['Aurora', 'Borealis', 'Cirrus'];
const BRAND_SKU_PREFIX: readonly string[] = ['AUR', 'BOR', 'CIR'];

export type SalesChannel = 'web' | 'mobile' | 'store' | 'marketplace' | 'partner';

export interface ChannelInfo {
  readonly channel: SalesChannel;
  readonly name: string;
  readonly type: string;
  /** Share of orders. */
  readonly orderWeight: number;
  /** Orders of this channel come from a session (web, app and marketplace site). */
  readonly sessionBacked: boolean;
  /** CloudEvents `source` of the orders and sessions of this channel. */
  readonly source: string;
}

export const CHANNELS: readonly ChannelInfo[] = [
  {
    channel: 'web',
    name: 'Web shop',
    type: 'online',
    orderWeight: 0.27,
    sessionBacked: true,
    source: '/shop/web',
  },
  {
    channel: 'mobile',
    name: 'Mobile app',
    type: 'app',
    orderWeight: 0.205,
    sessionBacked: true,
    source: '/shop/app',
  },
  {
    channel: 'store',
    name: 'Retail stores',
    type: 'offline',
    orderWeight: 0.07,
    sessionBacked: false,
    source: '/pos',
  },
  {
    channel: 'marketplace',
    name: 'Marketplace',
    type: 'third_party',
    orderWeight: 0.375,
    sessionBacked: true,
    source: '/marketplace',
  },
  {
    channel: 'partner',
    name: 'Partner retailers',
    type: 'wholesale',
    orderWeight: 0.08,
    sessionBacked: false,
    source: '/partners',
  },
];

export interface Warehouse {
  readonly id: string;
  readonly name: string;
}

export const WAREHOUSES: readonly Warehouse[] = [
  { id: 'WH-PAR', name: 'Paris Nord distribution centre' },
  { id: 'WH-MAD', name: 'Madrid Coslada distribution centre' },
  { id: 'WH-DXB', name: 'Dubai South distribution centre' },
];

/** Probability that a parcel of the carrier is delivered on or before its promise. */
export const CARRIER_ON_TIME: Readonly<Record<string, number>> = {
  colissimo: 0.9,
  chronopost: 0.95,
  dpd: 0.91,
  correos: 0.86,
  seur: 0.89,
  dhl: 0.93,
  hermes: 0.87,
  ups: 0.94,
  aramex: 0.88,
  smsa: 0.86,
  royal_mail: 0.85,
};

export interface Country {
  readonly code: string;
  readonly currency: 'EUR' | 'AED' | 'SAR';
  readonly vatRate: number;
  /** Share of orders. */
  readonly weight: number;
  /** Delivery promise, in days after placement (inclusive range). */
  readonly promiseDays: readonly [number, number];
  readonly carriers: WeightedPicker<string>;
  /** Warehouse indexes in order of preference. */
  readonly warehouses: readonly number[];
  readonly phonePrefix: string;
  readonly firstNames: readonly string[];
  readonly lastNames: readonly string[];
}

function carriers(table: Record<string, number>): WeightedPicker<string> {
  return new WeightedPicker(Object.keys(table), Object.values(table));
}

export const COUNTRIES: readonly Country[] = [
  {
    code: 'FR',
    currency: 'EUR',
    vatRate: 0.2,
    weight: 0.34,
    promiseDays: [2, 3],
    carriers: carriers({ colissimo: 0.45, chronopost: 0.25, dpd: 0.3 }),
    warehouses: [0, 1],
    phonePrefix: '+33 6',
    firstNames: [
      'Léa',
      'Camille',
      'Louis',
      'Hugo',
      'Chloé',
      'Manon',
      'Lucas',
      'Inès',
      'Jules',
      'Zoé',
      'Théo',
      'Élodie',
    ],
    lastNames: [
      'Martin',
      'Bernard',
      'Dubois',
      'Thomas',
      'Robert',
      'Petit',
      'Durand',
      'Leroy',
      'Moreau',
      'Lefèvre',
    ],
  },
  {
    code: 'DE',
    currency: 'EUR',
    vatRate: 0.19,
    weight: 0.27,
    promiseDays: [2, 3],
    carriers: carriers({ dhl: 0.55, hermes: 0.25, dpd: 0.12, ups: 0.08 }),
    warehouses: [0, 1],
    phonePrefix: '+49 151',
    firstNames: [
      'Lena',
      'Felix',
      'Jonas',
      'Mia',
      'Lukas',
      'Hannah',
      'Jürgen',
      'Sophie',
      'Maximilian',
      'Emma',
      'Paul',
    ],
    lastNames: [
      'Müller',
      'Schmidt',
      'Schneider',
      'Fischer',
      'Weber',
      'Meyer',
      'Wagner',
      'Becker',
      'Schulz',
      'Hoffmann',
    ],
  },
  {
    code: 'ES',
    currency: 'EUR',
    vatRate: 0.21,
    weight: 0.19,
    promiseDays: [3, 4],
    carriers: carriers({ correos: 0.5, seur: 0.32, dhl: 0.18 }),
    warehouses: [1, 0],
    phonePrefix: '+34 6',
    firstNames: [
      'Lucía',
      'Mateo',
      'Sofía',
      'Hugo',
      'Martina',
      'Pablo',
      'Carmen',
      'Javier',
      'Valeria',
      'Álvaro',
    ],
    lastNames: [
      'García',
      'Fernández',
      'González',
      'Rodríguez',
      'López',
      'Martínez',
      'Sánchez',
      'Pérez',
      'Gómez',
      'Ruiz',
    ],
  },
  {
    code: 'AE',
    currency: 'AED',
    vatRate: 0.05,
    weight: 0.12,
    promiseDays: [3, 5],
    carriers: carriers({ aramex: 0.6, dhl: 0.4 }),
    warehouses: [2, 0],
    phonePrefix: '+971 50',
    firstNames: [
      'Omar',
      'Fatima',
      'Layla',
      'Yousef',
      'Noura',
      'Khalid',
      'Aisha',
      'Hamad',
      'Mariam',
      'Saeed',
      'Priya',
    ],
    lastNames: [
      'Al Mansouri',
      'Al Nuaimi',
      'Al Ketbi',
      'Haddad',
      'Al Shamsi',
      'Khoury',
      'Nair',
      'Al Hashimi',
    ],
  },
  {
    code: 'SA',
    currency: 'SAR',
    vatRate: 0.15,
    weight: 0.08,
    promiseDays: [4, 5],
    carriers: carriers({ smsa: 0.5, aramex: 0.5 }),
    warehouses: [2, 0],
    phonePrefix: '+966 5',
    firstNames: ['Abdullah', 'Nora', 'Faisal', 'Reem', 'Sultan', 'Lama', 'Turki', 'Hessa', 'Majed', 'Sara'],
    lastNames: ['Al Qahtani', 'Al Harbi', 'Al Otaibi', 'Al Ghamdi', 'Al Zahrani', 'Al Dosari', 'Al Shehri'],
  },
];

/** Carriers of the marketplace sellers based in the United Kingdom (one more day of promise). */
export const UK_CARRIERS = carriers({ royal_mail: 0.5, dhl: 0.3, ups: 0.2 });

export interface Category {
  readonly name: string;
  /** Probability that a delivered line of this category is returned. */
  readonly returnRate: number;
  /** Share of the catalogue. */
  readonly weight: number;
  readonly medianPriceEur: number;
  /** Standard deviation of the log price. */
  readonly priceSpread: number;
  /** Supplier lead times of the category, days (inclusive range). */
  readonly leadTimeRange: readonly [number, number];
  /** Relative weight of each brand in this category (order of BRANDS). */
  readonly brandAffinity: readonly number[];
  readonly adjectives: readonly string[];
  readonly nouns: readonly string[];
}

export const CATEGORIES: readonly Category[] = [
  {
    name: 'apparel',
    returnRate: 0.22,
    weight: 0.3,
    medianPriceEur: 39,
    priceSpread: 0.45,
    leadTimeRange: [14, 30],
    brandAffinity: [0.6, 0.3, 0.1],
    adjectives: [
      'Linen',
      'Merino',
      'Organic Cotton',
      'Relaxed',
      'Slim',
      'Oversized',
      'Classic',
      'Recycled',
      'Quilted',
    ],
    nouns: [
      'T-Shirt',
      'Shirt',
      'Hoodie',
      'Jacket',
      'Dress',
      'Jeans',
      'Chinos',
      'Sweater',
      'Skirt',
      'Parka',
      'Polo',
    ],
  },
  {
    name: 'footwear',
    returnRate: 0.25,
    weight: 0.14,
    medianPriceEur: 79,
    priceSpread: 0.35,
    leadTimeRange: [14, 30],
    brandAffinity: [0.45, 0.45, 0.1],
    adjectives: ['Leather', 'Suede', 'Waterproof', 'Lightweight', 'Cushioned', 'Vegan', 'Retro'],
    nouns: ['Sneakers', 'Running Shoes', 'Boots', 'Loafers', 'Sandals', 'Trail Shoes', 'Chelsea Boots'],
  },
  {
    name: 'beauty',
    returnRate: 0.1,
    weight: 0.16,
    medianPriceEur: 24,
    priceSpread: 0.5,
    leadTimeRange: [3, 14],
    brandAffinity: [0.35, 0.05, 0.6],
    adjectives: ['Hydrating', 'Vitamin C', 'Rose', 'Night', 'Gentle', 'Firming', 'Fragrance-free'],
    nouns: [
      'Serum',
      'Moisturiser',
      'Cleanser',
      'Lip Balm',
      'Eau de Parfum',
      'Face Mask',
      'Sunscreen',
      'Body Lotion',
    ],
  },
  {
    name: 'home',
    returnRate: 0.12,
    weight: 0.16,
    medianPriceEur: 45,
    priceSpread: 0.6,
    leadTimeRange: [7, 25],
    brandAffinity: [0.1, 0.15, 0.75],
    adjectives: ['Wool', 'Ceramic', 'Linen', 'Scented', 'Rattan', 'Stoneware', 'Cotton'],
    nouns: ['Throw', 'Cushion', 'Candle', 'Vase', 'Duvet Cover', 'Table Lamp', 'Towel Set', 'Rug', 'Basket'],
  },
  {
    name: 'electronics',
    returnRate: 0.15,
    weight: 0.1,
    medianPriceEur: 129,
    priceSpread: 0.7,
    leadTimeRange: [10, 30],
    brandAffinity: [0.05, 0.6, 0.35],
    adjectives: ['Noise-cancelling', 'Compact', 'Pro', 'Mini', 'Waterproof', 'Fast-charge'],
    nouns: [
      'Earbuds',
      'Headphones',
      'Smartwatch',
      'Speaker',
      'Power Bank',
      'Fitness Tracker',
      'Action Camera',
    ],
  },
  {
    name: 'sports',
    returnRate: 0.18,
    weight: 0.14,
    medianPriceEur: 42,
    priceSpread: 0.55,
    leadTimeRange: [7, 21],
    brandAffinity: [0.15, 0.75, 0.1],
    adjectives: ['Performance', 'Thermal', 'Breathable', 'Ultralight', 'Grip', 'Insulated'],
    nouns: [
      'Yoga Mat',
      'Running Tights',
      'Water Bottle',
      'Backpack',
      'Tennis Racket',
      'Cycling Jersey',
      'Gloves',
    ],
  },
];

const COLOURS = [
  'Navy',
  'Black',
  'Sand',
  'Olive',
  'White',
  'Terracotta',
  'Sky',
  'Charcoal',
  'Rose',
  'Forest',
];

export interface Supplier {
  readonly id: string;
  readonly categoryIndex: number;
  readonly leadTimeDays: number;
}

/** A catalogue product; mutable fields change over time in the simulation. */
export interface Product {
  readonly index: number;
  readonly sku: string;
  readonly name: string;
  readonly brandIndex: number;
  categoryIndex: number;
  readonly supplierId: string;
  leadTimeDays: number;
  /** List price in EUR cents. */
  listPriceCents: number;
  readonly sustainabilityScore: number | undefined;
  /** Relative sales weight (long tail). */
  readonly popularity: number;
  /** Warehouse indexes that stock the product. */
  readonly warehouses: readonly number[];
}

export interface Seller {
  readonly index: number;
  readonly id: string;
  /** Sellers based in the UK sell in GBP to FR, ES and DE. */
  readonly ukBased: boolean;
  readonly categories: readonly number[];
  readonly priceFactor: number;
}

export const LOYALTY_TIERS = ['bronze', 'silver', 'gold', 'platinum'] as const;
export const SEGMENTS = ['new', 'occasional', 'regular', 'vip', 'lapsed'] as const;

export interface CustomerProfile {
  readonly number: number;
  readonly id: string;
  readonly countryIndex: number;
  readonly name: string;
  readonly email: string;
  readonly phone: string;
  readonly tierIndex: number;
  readonly segmentIndex: number;
  readonly consentMarketing: boolean;
  readonly consentAnalytics: boolean;
}

export interface CompanyOptions {
  /** Number of SKUs (default 2,000). */
  skuCount?: number;
  /** Number of marketplace sellers (default 40). */
  sellerCount?: number;
  /** Size of the customer base (default 300,000). */
  customerCount?: number;
}

export interface Company {
  readonly seed: number;
  readonly brands: readonly Brand[];
  readonly channels: readonly ChannelInfo[];
  readonly countries: readonly Country[];
  readonly categories: readonly Category[];
  readonly warehouses: readonly Warehouse[];
  readonly suppliers: readonly Supplier[];
  readonly products: readonly Product[];
  readonly sellers: readonly Seller[];
  /** Customers per country (customer number n belongs to country (n - 1) % countries.length). */
  readonly customersPerCountry: readonly number[];
  /** Products of each brand, weighted by popularity. */
  readonly productsByBrand: readonly WeightedPicker<number>[];
  /** Products of each brand × category (index brand * categories + category), weighted by popularity. */
  readonly productsByBrandCategory: readonly WeightedPicker<number>[];
  readonly brandPicker: WeightedPicker<number>;
  readonly countryPicker: WeightedPicker<number>;
  readonly channelPicker: WeightedPicker<number>;
  readonly sellerPicker: WeightedPicker<number>;
  /** Probability that a random order line is of each product (popularity share). */
  readonly productShare: Float64Array;
}

function priceCents(rng: Random, category: Category, brandIndex: number): number {
  const raw = Math.exp(rng.normal(Math.log(category.medianPriceEur), category.priceSpread));
  const price = Math.min(2500, Math.max(3, raw * (BRAND_PRICE_FACTOR[brandIndex] ?? 1)));
  // Shop prices end in .99 / .95 / .90, or in 9.99 above 200.
  if (price >= 200) return Math.floor(price / 10) * 1000 + 999;
  const cents = rng.pick([99, 99, 99, 95, 90]);
  return Math.floor(price) * 100 + cents;
}

/** Builds the company from a seed. Every call returns a fresh, independent (mutable) model. */
export function buildCompany(seed: number, options: CompanyOptions = {}): Company {
  const skuCount = options.skuCount ?? 2000;
  const sellerCount = options.sellerCount ?? 40;
  const customerCount = options.customerCount ?? 300_000;
  if (!Number.isInteger(skuCount) || skuCount < 100)
    throw new RangeError('skuCount must be an integer >= 100');
  if (!Number.isInteger(sellerCount) || sellerCount < 1) throw new RangeError('sellerCount must be >= 1');
  const rng = Random.derive(seed, 'company');

  const suppliers: Supplier[] = [];
  CATEGORIES.forEach((category, categoryIndex) => {
    for (let k = 0; k < 10; k++) {
      const [lo, hi] = category.leadTimeRange;
      suppliers.push({
        id: `SUP-${String(suppliers.length + 1).padStart(3, '0')}`,
        categoryIndex,
        leadTimeDays: rng.int(lo, hi),
      });
    }
  });

  // Every brand × category gets a few SKUs, the rest follow the category and brand weights.
  const combos: [number, number][] = [];
  CATEGORIES.forEach((_, c) => BRANDS.forEach((_b, b) => combos.push([b, c])));
  const categoryPicker = new WeightedPicker(
    CATEGORIES.map((_, i) => i),
    CATEGORIES.map((c) => c.weight),
  );
  const brandPickers = CATEGORIES.map((c) => new WeightedPicker([0, 1, 2], c.brandAffinity));
  const ranks = rng.shuffle(Array.from({ length: skuCount }, (_, i) => i));
  const serials = [10000, 10000, 10000];
  const products: Product[] = [];
  for (let i = 0; i < skuCount; i++) {
    let brandIndex: number;
    let categoryIndex: number;
    if (i < combos.length * 3) {
      [brandIndex, categoryIndex] = combos[i % combos.length] as [number, number];
    } else {
      categoryIndex = categoryPicker.pick(rng);
      brandIndex = brandPickers[categoryIndex]?.pick(rng) ?? 0;
    }
    const category = CATEGORIES[categoryIndex] as Category;
    const categorySuppliers = suppliers.filter((s) => s.categoryIndex === categoryIndex);
    const supplier = rng.pick(categorySuppliers);
    const serial = (serials[brandIndex] = (serials[brandIndex] ?? 10000) + 1);
    const score = rng.chance(0.85)
      ? Math.round(Math.min(100, Math.max(0, rng.normal(58, 17))) * 10) / 10
      : undefined;
    products.push({
      index: i,
      sku: `${BRAND_SKU_PREFIX[brandIndex]}-${serial}`,
      name: `${BRAND_LABEL[brandIndex]} ${rng.pick(category.adjectives)} ${rng.pick(category.nouns)} – ${rng.pick(COLOURS)}`,
      brandIndex,
      categoryIndex,
      supplierId: supplier.id,
      leadTimeDays: Math.min(30, Math.max(3, supplier.leadTimeDays + rng.int(-2, 2))),
      listPriceCents: priceCents(rng, category, brandIndex),
      sustainabilityScore: score,
      popularity: 1 / Math.pow((ranks[i] ?? 0) + 8, 1.05),
      warehouses: rng.chance(0.4) ? [0, 1, 2] : [0, 1],
    });
  }

  const sellers: Seller[] = [];
  const ukSellers = new Set(
    rng.shuffle(Array.from({ length: sellerCount }, (_, i) => i)).slice(0, Math.round(sellerCount / 4)),
  );
  for (let i = 0; i < sellerCount; i++) {
    const count = rng.int(1, 3);
    const categories = new Set<number>();
    while (categories.size < count) categories.add(categoryPicker.pick(rng));
    sellers.push({
      index: i,
      id: `S${String(i + 1).padStart(3, '0')}`,
      ukBased: ukSellers.has(i),
      categories: [...categories].sort((a, b) => a - b),
      priceFactor: Math.round(rng.uniform(0.95, 1.08) * 1000) / 1000,
    });
  }
  const sellerRanks = rng.shuffle(sellers.map((_, i) => i));

  const productsByBrand = BRANDS.map((_, b) => {
    const items = products.filter((p) => p.brandIndex === b);
    return new WeightedPicker(
      items.map((p) => p.index),
      items.map((p) => p.popularity),
    );
  });
  const productsByBrandCategory: WeightedPicker<number>[] = [];
  BRANDS.forEach((_, b) =>
    CATEGORIES.forEach((_c, c) => {
      const items = products.filter((p) => p.brandIndex === b && p.categoryIndex === c);
      productsByBrandCategory.push(
        new WeightedPicker(
          items.map((p) => p.index),
          items.map((p) => p.popularity),
        ),
      );
    }),
  );
  const totalPopularity = products.reduce((sum, p) => sum + p.popularity, 0);
  const productShare = Float64Array.from(products, (p) => p.popularity / totalPopularity);

  const customersPerCountry = COUNTRIES.map((c) => Math.max(20, Math.ceil(customerCount * c.weight)));

  return {
    seed,
    brands: BRANDS,
    channels: CHANNELS,
    countries: COUNTRIES,
    categories: CATEGORIES,
    warehouses: WAREHOUSES,
    suppliers,
    products,
    sellers,
    customersPerCountry,
    productsByBrand,
    productsByBrandCategory,
    brandPicker: new WeightedPicker([0, 1, 2], BRAND_WEIGHTS),
    countryPicker: new WeightedPicker(
      COUNTRIES.map((_, i) => i),
      COUNTRIES.map((c) => c.weight),
    ),
    channelPicker: new WeightedPicker(
      CHANNELS.map((_, i) => i),
      CHANNELS.map((c) => c.orderWeight),
    ),
    sellerPicker: new WeightedPicker(
      sellers.map((s) => s.index),
      sellers.map((s) => 1 / Math.pow((sellerRanks[s.index] ?? 0) + 2, 0.8)),
    ),
    productShare,
  };
}

/** `C0000123`. */
export function customerId(n: number): string {
  if (n >= 1e7 || n < 0) return `C${n}`;
  return String.fromCharCode(
    67,
    48 + (Math.floor(n / 1e6) % 10),
    48 + (Math.floor(n / 1e5) % 10),
    48 + (Math.floor(n / 1e4) % 10),
    48 + (Math.floor(n / 1e3) % 10),
    48 + (Math.floor(n / 100) % 10),
    48 + (Math.floor(n / 10) % 10),
    48 + (n % 10),
  );
}

/** Customer number of the k-th customer (0-based) of a country. */
export function customerNumber(countryIndex: number, k: number): number {
  return k * COUNTRIES.length + countryIndex + 1;
}

const asciiCache = new Map<string, string>();

function ascii(text: string): string {
  let cached = asciiCache.get(text);
  if (cached === undefined) {
    cached = toAscii(text);
    asciiCache.set(text, cached);
  }
  return cached;
}

function toAscii(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

/** The profile of customer `n`, derived from the seed and the number alone (nothing stored). */
export function customerProfile(company: Company, n: number): CustomerProfile {
  const countryIndex = (n - 1) % COUNTRIES.length;
  const country = COUNTRIES[countryIndex] as Country;
  const rng = new Random(hashNumbers(company.seed, n), 0xc057);
  const first = rng.pick(country.firstNames);
  const last = rng.pick(country.lastNames);
  const tierDraw = rng.next();
  const segmentDraw = rng.next();
  let digits = '';
  for (let i = 0; i < 7; i++) digits += String(rng.int(0, 9));
  return {
    number: n,
    id: customerId(n),
    countryIndex,
    name: `${first} ${last}`,
    email: `${ascii(first)}.${ascii(last)}.${n}@example.com`,
    phone: `${country.phonePrefix} ${digits}`,
    tierIndex: tierDraw < 0.55 ? 0 : tierDraw < 0.83 ? 1 : tierDraw < 0.96 ? 2 : 3,
    segmentIndex:
      segmentDraw < 0.3 ? 0 : segmentDraw < 0.6 ? 1 : segmentDraw < 0.88 ? 2 : segmentDraw < 0.95 ? 3 : 4,
    consentMarketing: rng.chance(0.6),
    consentAnalytics: rng.chance(0.82),
  };
}

/** Relative order intensity per local hour (Europe/Paris business time by default). */
export const HOURLY_WEIGHTS: readonly number[] = [
  0.45, 0.28, 0.18, 0.13, 0.12, 0.16, 0.3, 0.55, 0.8, 0.95, 1.05, 1.1, 1.2, 1.2, 1.05, 1.0, 1.0, 1.1, 1.3,
  1.55, 1.75, 1.7, 1.3, 0.8,
];

/** Relative daily volume, Sunday first; the mean is 1. */
export const WEEKDAY_FACTORS: readonly number[] = [1.05, 0.97, 0.95, 0.98, 1.0, 1.02, 1.03];

/** Per local minute of the day (1,440 values, mean 1): the hourly weights, linearly interpolated. */
export function intradayCurve(): Float64Array {
  const curve = new Float64Array(1440);
  let total = 0;
  for (let m = 0; m < 1440; m++) {
    // Hour weights apply at the middle of each hour; interpolate cyclically between them.
    const x = (m + 0.5) / 60 - 0.5;
    const h0 = Math.floor(x);
    const f = x - h0;
    const w0 = HOURLY_WEIGHTS[(h0 + 24) % 24] ?? 1;
    const w1 = HOURLY_WEIGHTS[(h0 + 25) % 24] ?? 1;
    const w = w0 + (w1 - w0) * f;
    curve[m] = w;
    total += w;
  }
  const mean = total / 1440;
  for (let m = 0; m < 1440; m++) curve[m] = (curve[m] ?? 0) / mean;
  return curve;
}
