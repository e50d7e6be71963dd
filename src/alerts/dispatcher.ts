import { DeliveryError, type Channel, type Outbound } from './channels.js';

export interface DeliveryRecord {
  readonly message_id: string;
  readonly kind: Outbound['kind'];
  readonly channel: string;
  readonly attempt: number;
  readonly outcome: 'delivered' | 'retrying' | 'failed' | 'dropped';
  readonly status: number | null;
  readonly error: string | null;
  readonly at: Date;
  readonly duration_ms: number;
}

export interface DispatchOptions {
  readonly attempts: number;
  readonly backoffMs: number;
  readonly timeoutMs: number;
  /** Messages waiting per channel before the oldest is dropped (a dead channel must not grow memory). */
  readonly maxQueued?: number;
}

const MAX_BACKOFF_MS = 60_000;

/**
 * Sends messages to channels in the background: the caller (the alert evaluator, after a refresh)
 * only enqueues. Each channel has its own queue, so a slow or dead one delays nobody else; a failed
 * send is retried with exponential backoff and jitter, and every attempt is recorded.
 */
export class Dispatcher {
  readonly #channels: ReadonlyMap<string, Channel>;
  readonly #options: DispatchOptions;
  readonly #record: (record: DeliveryRecord) => void;
  readonly #queues = new Map<string, Outbound[]>();
  readonly #running = new Map<string, Promise<void>>();
  #closed = false;

  constructor(
    channels: readonly Channel[],
    options: DispatchOptions,
    record: (record: DeliveryRecord) => void,
  ) {
    this.#channels = new Map(channels.map((c) => [c.name, c]));
    this.#options = options;
    this.#record = record;
  }

  has(name: string): boolean {
    return this.#channels.has(name);
  }

  send(channelNames: readonly string[], message: Outbound): void {
    if (this.#closed) return;
    for (const name of channelNames) {
      const channel = this.#channels.get(name);
      if (!channel) continue;
      const queue = this.#queues.get(name) ?? [];
      this.#queues.set(name, queue);
      queue.push(message);
      const limit = this.#options.maxQueued ?? 1_000;
      while (queue.length > limit) {
        const dropped = queue.shift() as Outbound;
        this.#record({
          message_id: dropped.id,
          kind: dropped.kind,
          channel: name,
          attempt: 0,
          outcome: 'dropped',
          status: null,
          error: `more than ${limit} messages waiting for this channel`,
          at: new Date(),
          duration_ms: 0,
        });
      }
      if (!this.#running.has(name)) this.#drain(channel);
    }
  }

  /** Resolves when every queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const queue of this.#queues.values()) queue.length = 0;
    await this.idle();
    for (const channel of this.#channels.values()) channel.close();
  }

  #drain(channel: Channel): void {
    const run = (async () => {
      const queue = this.#queues.get(channel.name) ?? [];
      for (let message = queue.shift(); message; message = queue.shift())
        await this.#deliver(channel, message);
    })().finally(() => this.#running.delete(channel.name));
    this.#running.set(channel.name, run);
  }

  async #deliver(channel: Channel, message: Outbound): Promise<void> {
    const { attempts, backoffMs, timeoutMs } = this.#options;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const started = performance.now();
      const base = { message_id: message.id, kind: message.kind, channel: channel.name, attempt };
      try {
        const { status } = await channel.send(message, timeoutMs);
        this.#record({
          ...base,
          outcome: 'delivered',
          status,
          error: null,
          at: new Date(),
          duration_ms: since(started),
        });
        return;
      } catch (error) {
        const failure = error instanceof DeliveryError ? error : new DeliveryError(String(error), null, true);
        const last = attempt === attempts || !failure.retryable || this.#closed;
        this.#record({
          ...base,
          outcome: last ? 'failed' : 'retrying',
          status: failure.status,
          error: failure.message.slice(0, 500),
          at: new Date(),
          duration_ms: since(started),
        });
        if (last) return;
        const delay = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** (attempt - 1));
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  }
}

function since(started: number): number {
  return Math.round(performance.now() - started);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
