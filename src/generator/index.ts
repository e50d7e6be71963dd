/**
 * Synthetic ecommerce traffic for Pulse: a seeded, deterministic simulation of the company (orders,
 * sessions, shipments, returns, support, inventory, FX, reference data) with peaks, flash sales and
 * late, duplicate and invalid events, as CloudEvents 1.0 in emission order.
 */
export {
  generateEvents,
  noiseOf,
  invalidMutationOf,
  resolveGeneratorOptions,
  TrafficSimulator,
  DEFAULT_GENERATOR_OPTIONS,
  INVALID_MUTATIONS,
  MAX_LATE_DELAY_MS,
  MAX_DUPLICATE_DELAY_MS,
} from './generator.js';
export type { GeneratorOptions, ResolvedGeneratorOptions, NoiseKind, InvalidMutation } from './generator.js';
export { startLiveTraffic } from './live.js';
export type { LiveTrafficOptions, LiveTraffic } from './live.js';
export {
  toNdjson,
  writeNdjson,
  writeNdjsonFile,
  postEvents,
  createHttpSink,
  eventsEndpoint,
  retryAfterMs,
  PostError,
} from './sinks.js';
export type {
  EventSource,
  WriteNdjsonOptions,
  WriteResult,
  PostEventsOptions,
  PostEventsResult,
} from './sinks.js';
export {
  buildCompany,
  customerProfile,
  customerId,
  BRANDS,
  CATEGORIES,
  CHANNELS,
  COUNTRIES,
  WAREHOUSES,
} from './company.js';
export type {
  Company,
  CompanyOptions,
  Product,
  Seller,
  Category,
  Country,
  ChannelInfo,
  CustomerProfile,
} from './company.js';
export { Random, WeightedPicker, hashNumbers, hashString, fmix32 } from './random.js';
export { MinHeap } from './heap.js';
export type { Scheduled } from './heap.js';
