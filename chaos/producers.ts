/**
 * Producers for the chaos harness: several concurrent at-least-once clients that post generated
 * CloudEvents batches (unique event ids) to `POST /v1/events` and retry a batch until it is
 * acknowledged, across crashes and restarts, as a well-behaved producer does. Every 2xx answer is
 * recorded: those ids are the ones Pulse promised to keep.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudEvent } from '../src/contracts/index.js';
import { generateEvents } from '../src/generator/index.js';

export interface ProducerStats {
  /** Requests sent, answered 2xx, refused (non-2xx) and failed at the network level. */
  requests: number;
  acknowledged: number;
  refused: Record<string, number>;
  networkErrors: number;
}

interface Receipt {
  accepted: number;
  duplicates: number;
  quarantined: number;
  quarantined_events?: { id: string | null }[];
}

/** Batches of unique events, drawn lazily from the generator (no late, duplicate or invalid noise). */
export class EventSupply {
  readonly #events: Iterator<CloudEvent>;
  readonly #seen = new Set<string>();
  readonly #batchSize: number;
  exhausted = false;

  constructor(options: { from: Date; to: Date; seed: number; ordersPerDay: number; batchSize: number }) {
    this.#events = generateEvents(options.from, options.to, {
      seed: options.seed,
      ordersPerDay: options.ordersPerDay,
      lateShare: 0,
      duplicateShare: 0,
      invalidShare: 0,
    })[Symbol.iterator]();
    this.#batchSize = options.batchSize;
  }

  next(): CloudEvent[] | undefined {
    const batch: CloudEvent[] = [];
    while (batch.length < this.#batchSize) {
      const next = this.#events.next();
      if (next.done === true) {
        this.exhausted = true;
        break;
      }
      if (this.#seen.has(next.value.id)) continue;
      this.#seen.add(next.value.id);
      batch.push(next.value);
    }
    return batch.length > 0 ? batch : undefined;
  }
}

export interface ProducerOptions {
  readonly url: string;
  readonly auth: Record<string, string>;
  readonly producers: number;
  readonly supply: EventSupply;
  /** Called synchronously on every 2xx answer, before anything else runs: the kill-after-ack hook. */
  readonly onAck: () => void;
}

/** The producers; `drain()` stops drawing new batches and resolves once every batch taken is acknowledged. */
export class Producers {
  readonly acknowledged = new Set<string>();
  /** Ids acknowledged as quarantined (not expected in bronze). */
  readonly quarantined = new Set<string>();
  /** Acknowledged ids Pulse reported as already stored: a retried batch committed before the crash. */
  duplicatesReported = 0;
  readonly stats: ProducerStats = { requests: 0, acknowledged: 0, refused: {}, networkErrors: 0 };
  readonly #options: ProducerOptions;
  readonly #workers: Promise<void>[] = [];
  #draining = false;
  /** A sample of non-2xx answers other than the expected 503 while the warehouse restarts. */
  readonly oddAnswers: string[] = [];

  constructor(options: ProducerOptions) {
    this.#options = options;
  }

  start(): void {
    for (let i = 0; i < this.#options.producers; i += 1) this.#workers.push(this.#work());
  }

  async drain(): Promise<void> {
    this.#draining = true;
    await Promise.all(this.#workers);
  }

  async #work(): Promise<void> {
    const { supply } = this.#options;
    while (!this.#draining) {
      const batch = supply.next();
      if (batch === undefined) return;
      await this.#deliver(batch);
    }
  }

  /** Posts one batch until it is acknowledged. */
  async #deliver(batch: CloudEvent[]): Promise<void> {
    const body = JSON.stringify(batch);
    for (let attempt = 0; ; attempt += 1) {
      let response: Response;
      this.stats.requests += 1;
      try {
        response = await fetch(`${this.#options.url}/v1/events`, {
          method: 'POST',
          headers: { ...this.#options.auth, 'content-type': 'application/cloudevents-batch+json' },
          body,
        });
      } catch {
        // Killed, restarting or not listening yet: try again shortly.
        this.stats.networkErrors += 1;
        await sleep(20 + Math.random() * 80);
        continue;
      }
      if (response.status >= 200 && response.status < 300) {
        this.#options.onAck();
        let receipt: Receipt;
        try {
          receipt = (await response.json()) as Receipt;
        } catch {
          // Killed after the status line: the batch is acknowledged, the receipt body was lost.
          this.#acknowledge(batch, undefined);
          return;
        }
        this.#acknowledge(batch, receipt);
        return;
      }
      const text = await response.text().catch(() => '');
      const key = String(response.status);
      this.stats.refused[key] = (this.stats.refused[key] ?? 0) + 1;
      if (response.status !== 503 && this.oddAnswers.length < 10)
        this.oddAnswers.push(`${key} ${text.slice(0, 300)}`);
      const retryAfter = Number(response.headers.get('retry-after') ?? '0');
      await sleep(Math.min(1000, Number.isFinite(retryAfter) ? retryAfter * 1000 : 0) + Math.random() * 50);
    }
  }

  #acknowledge(batch: readonly CloudEvent[], receipt: Receipt | undefined): void {
    this.stats.acknowledged += 1;
    const quarantined = new Set((receipt?.quarantined_events ?? []).map((q) => q.id));
    for (const event of batch) {
      if (quarantined.has(event.id)) this.quarantined.add(event.id);
      else this.acknowledged.add(event.id);
    }
    this.duplicatesReported += receipt?.duplicates ?? 0;
  }
}
