export type {
  Deliver,
  DeliverBody,
  DeliveryMeta,
  DeliveryReceipt,
  Source,
  SourceItem,
  SourceQuarantined,
} from './types.js';
export { eventsRoute } from './http/events-route.js';
export type { EventsRouteOptions } from './http/events-route.js';
export { parseEventsBody, EVENT_MEDIA_TYPES } from './http/parse-body.js';
export type { EventMediaType } from './http/parse-body.js';
export * from './files/index.js';
export { HttpSource } from './http/http-source.js';
export type { HttpSourceOptions } from './http/http-source.js';
