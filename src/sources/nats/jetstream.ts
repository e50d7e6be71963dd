import {
  AckPolicy,
  DeliverPolicy,
  jetstreamManager,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';

/** Where the events stream lives and how it is made when Pulse creates it. */
export interface NatsStreamOptions {
  readonly servers: readonly string[];
  readonly stream: string;
  readonly subjects: readonly string[];
  /** Creates the stream when it does not exist (production streams are usually made by operations, R3). */
  readonly createStream: boolean;
  /** Replicas of a stream Pulse creates: 3 on a cluster, 1 on a single server. */
  readonly replicas: number;
}

/** Connects and keeps reconnecting for ever: an outage of NATS is waited out, never fatal. */
export async function connectNats(servers: readonly string[], name: string): Promise<NatsConnection> {
  return connect({
    servers: [...servers],
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // The first connection waits for a server too, so a worker started before NATS comes up with it.
    waitOnFirstConnect: true,
    pingInterval: 5_000,
    maxPingOut: 2,
  });
}

/** Makes the stream when asked to and it is missing; a stream that exists is left as configured. */
export async function ensureStream(jsm: JetStreamManager, options: NatsStreamOptions): Promise<void> {
  if (!options.createStream) return;
  try {
    await jsm.streams.info(options.stream);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await jsm.streams.add({
    name: options.stream,
    subjects: [...options.subjects],
    storage: StorageType.File,
    num_replicas: options.replicas,
    // A producer retrying a publish within two minutes is recognised by its message id (the event id).
    duplicate_window: nanos(120_000),
  });
}

export interface DurableConsumerOptions {
  readonly durable: string;
  readonly maxAckPending: number;
  readonly ackWaitMs: number;
  /** Limits the consumer to these subjects (all the stream's subjects when empty). */
  readonly filterSubjects: readonly string[];
}

/** Creates the durable pull consumer, or brings an existing one to the configured limits. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  options: DurableConsumerOptions,
): Promise<void> {
  const limits = {
    max_ack_pending: options.maxAckPending,
    ack_wait: nanos(options.ackWaitMs),
    ...(options.filterSubjects.length > 0 ? { filter_subjects: [...options.filterSubjects] } : {}),
  };
  try {
    await jsm.consumers.info(stream, options.durable);
    await jsm.consumers.update(stream, options.durable, limits);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await jsm.consumers.add(stream, {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ...limits,
  });
}

export async function manager(nc: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(nc);
}

function isNotFound(error: unknown): boolean {
  const text = String((error as Error)?.message ?? error);
  return /not found/i.test(text);
}
