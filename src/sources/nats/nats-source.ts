import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createAvroCodec, type AvroCodec } from '../../contracts/avro.js';
import { createContractValidator } from '../../contracts/index.js';
import { PulseError } from '../../errors.js';
import type { Deliver, Source } from '../types.js';
import { connectNats, ensureConsumer, ensureStream, manager, type NatsStreamOptions } from './jetstream.js';
import { messageToItem } from './messages.js';

/**
 * Batches being committed at once: two let one batch be prepared while the other commits (the
 * bronze writer groups them); each is acknowledged on its own after its commit.
 */
const BATCHES_IN_FLIGHT = 2;

export interface NatsSourceOptions extends NatsStreamOptions {
  readonly durable: string;
  /** Messages handed to the pipeline in one batch (one commit). */
  readonly batch: number;
  /** Messages delivered but not yet acknowledged, at most: the bound on what a worker holds in memory. */
  readonly maxAckPending: number;
  /** How long the server waits for an ack before redelivering (a crashed worker's batch comes back after this). */
  readonly ackWaitMs: number;
  /** How long a batch refused under backpressure waits before it is redelivered. */
  readonly nakDelayMs: number;
  /** Connection name shown by the server. */
  readonly name?: string;
  /** Told about batches that could not be committed (they are redelivered later). */
  readonly onError?: (error: unknown) => void;
}

/**
 * The NATS JetStream source: a durable pull consumer on a stream of CloudEvents (JSON or Avro per
 * the message's content type). Messages are handed to the pipeline in batches and the whole batch
 * is acknowledged only after `deliver` resolves, i.e. after the commit; a redelivery is a duplicate
 * the bronze table ignores by event id. When the pipeline is at capacity the batch is nak'ed with a
 * delay, so the stream holds the backlog instead of the worker's memory.
 */
export class NatsSource implements Source {
  readonly kind = 'nats';
  private readonly avro: AvroCodec = createAvroCodec(createContractValidator());
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private deliver: Deliver | undefined;
  private readonly pending: JsMsg[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly options: NatsSourceOptions) {
    if (options.batch < 1 || options.maxAckPending < options.batch) {
      throw new PulseError(
        'PULSE_ERR_CONFIG',
        `sources.nats: max_ack_pending (${options.maxAckPending}) must be at least batch (${options.batch}), which must be at least 1`,
        { field: 'sources.nats.max_ack_pending' },
      );
    }
  }

  /** Batches committed and acknowledged since start. */
  committedBatches = 0;
  /** False while the connection to NATS is down (the client reconnects by itself). */
  connected = false;

  /** What `/readyz` shows about this source. */
  health(): Record<string, unknown> {
    return {
      status: this.connected ? 'ok' : 'disconnected',
      stream: this.options.stream,
      durable: this.options.durable,
      committed_batches: this.committedBatches,
    };
  }

  async start(deliver: Deliver): Promise<void> {
    this.deliver = deliver;
    this.stopping = false;
    const { options } = this;
    this.nc = await connectNats(options.servers, options.name ?? `pulse-worker-${options.durable}`);
    this.connected = true;
    void this.watch(this.nc);
    const jsm = await manager(this.nc);
    await ensureStream(jsm, options);
    await ensureConsumer(jsm, options.stream, {
      durable: options.durable,
      maxAckPending: options.maxAckPending,
      ackWaitMs: options.ackWaitMs,
      filterSubjects: [],
    });
    const consumer = await jetstream(this.nc).consumers.get(options.stream, options.durable);
    // Callback mode: messages are queued here and committed in batches; the server stops sending
    // once max_ack_pending messages are unacknowledged, which bounds the queue.
    this.messages = await consumer.consume({
      max_messages: Math.min(options.maxAckPending, options.batch * 2),
      callback: (message) => {
        this.pending.push(message);
        this.kick();
      },
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close();
    this.messages = undefined;
    // Messages already received are committed and acknowledged before the connection goes.
    this.kick();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    await this.nc?.drain().catch(() => undefined);
    this.nc = undefined;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'close') this.connected = false;
      else if (status.type === 'reconnect') this.connected = true;
    }
  }

  /** Starts batches while fewer than {@link BATCHES_IN_FLIGHT} are being committed. */
  private kick(): void {
    while (this.pending.length > 0 && this.inFlight.size < BATCHES_IN_FLIGHT) {
      const batch = this.pending.splice(0, this.options.batch);
      const handled: Promise<void> = this.handle(batch).finally(() => {
        this.inFlight.delete(handled);
        this.kick();
      });
      this.inFlight.add(handled);
    }
  }

  private async handle(batch: JsMsg[]): Promise<void> {
    const items = batch.map((message) =>
      messageToItem(
        {
          data: message.data,
          header: (name) =>
            message.headers?.get(name) || message.headers?.get(name.toLowerCase()) || undefined,
        },
        this.avro,
      ),
    );
    try {
      await this.deliver!(items, { sourceKind: this.kind, receivedAt: new Date() });
    } catch (error) {
      // Not committed: the server sends the batch again after the delay (at capacity) or at once
      // after a short pause (any other failure, e.g. the warehouse refusing a write).
      const overloaded = error instanceof PulseError && error.code === 'PULSE_ERR_OVERLOADED';
      for (const message of batch) message.nak(overloaded ? this.options.nakDelayMs : 1_000);
      this.options.onError?.(error);
      if (!this.stopping) await pause(overloaded ? this.options.nakDelayMs : 1_000);
      return;
    }
    for (const message of batch) message.ack();
    this.committedBatches += 1;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
