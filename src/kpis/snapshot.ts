import { heldAnswer, type HoldLookup, type KpiAnswer } from './answer.js';
import type { KpiEngine, KpiRequest } from './engine.js';

/**
 * Answers KPI requests from memory between refreshes: the first request of a shape computes it,
 * the others reuse it until the next refresh swaps the whole cache at once. Named windows move
 * with the clock, so their entries also expire after `maxAgeMs`.
 */
export class KpiSnapshot {
  readonly #engine: KpiEngine;
  readonly #maxAgeMs: number;
  readonly #hold: HoldLookup;
  /** Per request: the answer last computed while its KPI was not held (bounded). */
  readonly #lastGood = new Map<string, KpiAnswer>();
  #entries = new Map<string, { at: number; answer: Promise<KpiAnswer | KpiAnswer[]> }>();

  constructor(engine: KpiEngine, options: { maxAgeMs?: number; hold?: HoldLookup } = {}) {
    this.#engine = engine;
    this.#maxAgeMs = options.maxAgeMs ?? 1_000;
    this.#hold = options.hold ?? (() => undefined);
  }

  get engine(): KpiEngine {
    return this.#engine;
  }

  invalidate(): void {
    this.#entries = new Map();
  }

  async all(request: KpiRequest): Promise<KpiAnswer[]> {
    const answers = (await this.#cached(`*|${key(request)}`, () =>
      this.#engine.computeAll(request),
    )) as KpiAnswer[];
    return answers.map((answer) => this.#gated(`${answer.id}|${key(request)}`, answer));
  }

  async one(id: string, request: KpiRequest): Promise<KpiAnswer> {
    const answer = (await this.#cached(`${id}|${key(request)}`, () =>
      this.#engine.compute(id, request),
    )) as KpiAnswer;
    return this.#gated(`${id}|${key(request)}`, answer);
  }

  /** The publish gate: a held KPI answers its last good value for the same request. */
  #gated(cacheKey: string, answer: KpiAnswer): KpiAnswer {
    const hold = this.#hold(answer.id);
    if (hold) return heldAnswer(this.#lastGood.get(cacheKey), answer, hold);
    this.#lastGood.delete(cacheKey);
    this.#lastGood.set(cacheKey, answer);
    if (this.#lastGood.size > 1_000) this.#lastGood.delete(this.#lastGood.keys().next().value as string);
    return answer;
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
