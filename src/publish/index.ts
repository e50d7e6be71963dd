export { MartsPublisher } from './publisher.js';
export type { MartsHealth, MartsOptions, PublishResult } from './publisher.js';
export { copyLine, martColumn } from './columns.js';
