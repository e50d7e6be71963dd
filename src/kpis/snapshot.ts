import type { KpiAnswer } from './answer.js';
import type { KpiEngine, KpiRequest } from './engine.js';

/**
 * Answers KPI requests from memory between refreshes: the first request of a shape computes it,
 * the others reuse it until the next refresh swaps the whole cache at once. Named windows move
 * with the clock, so their entries also expire after `maxAgeMs`.
 */
export class KpiSnapshot {
  readonly #engine: KpiEngine;
  readonly #maxAgeMs: number;
  #entries = new Map<string, { at: number; answer: Promise<KpiAnswer | KpiAnswer[]> }>();

  constructor(engine: KpiEngine, options: { maxAgeMs?: number } = {}) {
    this.#engine = engine;
    this.#maxAgeMs = options.maxAgeMs ?? 1_000;
  }

  get engine(): KpiEngine {
    return this.#engine;
  }

  invalidate(): void {
    this.#entries = new Map();
  }

  all(request: KpiRequest): Promise<KpiAnswer[]> {
    return this.#cached(`*|${key(request)}`, () => this.#engine.computeAll(request)) as Promise<KpiAnswer[]>;
  }

  one(id: string, request: KpiRequest): Promise<KpiAnswer> {
    return this.#cached(`${id}|${key(request)}`, () =>
      this.#engine.compute(id, request),
    ) as Promise<KpiAnswer>;
  }

  #cached(
    cacheKey: string,
    compute: () => Promise<KpiAnswer | KpiAnswer[]>,
  ): Promise<KpiAnswer | KpiAnswer[]> {
    const now = Date.now();
    const entry = this.#entries.get(cacheKey);
    if (entry && now - entry.at < this.#maxAgeMs) return entry.answer;
    const answer = compute();
    const entries = this.#entries;
    entries.set(cacheKey, { at: now, answer });
    // A failed computation must not be served again.
    answer.catch(() => entries.delete(cacheKey));
    if (entries.size > 1_000) entries.delete(entries.keys().next().value as string);
    return answer;
  }
}

function key(request: KpiRequest): string {
  return [
    request.window,
    request.from,
    request.to,
    request.by,
    request.series,
    request.seller,
    request.currency,
  ]
    .map((v) => v ?? '')
    .join('|');
}
