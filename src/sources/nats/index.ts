export { NatsSource } from './nats-source.js';
export type { NatsSourceOptions } from './nats-source.js';
export { connectNats, ensureStream, ensureConsumer } from './jetstream.js';
export type { NatsStreamOptions } from './jetstream.js';
export { messageToItem, CE_TYPE_HEADER, NATS_AVRO_TYPES, NATS_JSON_TYPES } from './messages.js';
