/**
 * Measures ingest-to-visible latency: each commit is remembered with when its oldest batch was
 * received, and observed once a refresh that covers its sequence has made it visible.
 */
export class FreshnessTracker {
  readonly #observe: (seconds: number) => void;
  readonly #pending: { seq: bigint; receivedAt: number }[] = [];
  readonly #limit: number;

  constructor(observe: (seconds: number) => void, limit = 10_000) {
    this.#observe = observe;
    this.#limit = limit;
  }

  committed(lastSeq: bigint, receivedAt: Date): void {
    // Bounded: under a flood of tiny commits the oldest observations are dropped, never memory.
    if (this.#pending.length >= this.#limit) this.#pending.shift();
    this.#pending.push({ seq: lastSeq, receivedAt: receivedAt.getTime() });
  }

  /** Everything committed up to `watermark` is now visible. */
  visible(watermark: bigint, now: number = Date.now()): void {
    while (this.#pending.length > 0 && (this.#pending[0]?.seq ?? 0n) <= watermark) {
      const entry = this.#pending.shift();
      if (entry) this.#observe(Math.max(0, now - entry.receivedAt) / 1000);
    }
  }
}
