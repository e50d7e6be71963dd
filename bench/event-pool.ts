/**
 * The ingest benchmark's workload, prepared before anything is timed: generated history (60,000
 * orders a day, fixed seed, with its late, duplicate and invalid events) serialised once into NDJSON
 * bodies, so the load generator does no JSON work while it posts. Also the baseline: how fast one
 * core parses the same bodies.
 */
import { generateEvents, toNdjson } from '../src/generator/index.js';
import type { CloudEvent } from '../src/contracts/index.js';

export const EVENTS_PER_BODY = 1_000;
const ORDERS_PER_DAY = 60_000;
const SEED = 20_260_302;
const HISTORY_FROM = new Date('2026-03-02T00:00:00Z');
/** A generous lower bound of events per simulated day at 60,000 orders (measured: ~1.9 M). */
const MIN_EVENTS_PER_DAY = 1_500_000;

export interface EventPool {
  readonly bodies: readonly Buffer[];
  readonly events: number;
  readonly bytes: number;
}

/** At least `events` events (whole bodies) from the start of the generated history. */
export function buildEventPool(events: number): EventPool {
  const bodies: Buffer[] = [];
  let batch: CloudEvent[] = [];
  let count = 0;
  let bytes = 0;
  const days = Math.ceil(events / MIN_EVENTS_PER_DAY) + 1;
  const to = new Date(HISTORY_FROM.getTime() + days * 86_400_000);
  for (const event of generateEvents(HISTORY_FROM, to, { seed: SEED, ordersPerDay: ORDERS_PER_DAY })) {
    batch.push(event);
    if (batch.length < EVENTS_PER_BODY) continue;
    const body = Buffer.from(toNdjson(batch));
    bodies.push(body);
    bytes += body.length;
    count += batch.length;
    batch = [];
    if (count >= events) break;
  }
  return { bodies, events: count, bytes };
}

/** Decodes a body and JSON.parses each line, as the server's first stage does; returns the events. */
function parseLines(body: Buffer): number {
  const text = body.toString('utf8');
  let parsed = 0;
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start && JSON.parse(text.slice(start, end)) !== null) parsed++;
    start = end + 1;
  }
  return parsed;
}

/** The limit: events/s JSON.parse gets through on this core, over the pool's bodies for `ms`. */
export function measureParseLimit(pool: EventPool, ms: number): number {
  const n = pool.bodies.length;
  for (let i = 0; i < Math.min(20, n); i++) parseLines(pool.bodies[i] as Buffer);
  let events = 0;
  const started = performance.now();
  for (let i = 0; performance.now() - started < ms; i++) events += parseLines(pool.bodies[i % n] as Buffer);
  return events / ((performance.now() - started) / 1000);
}
