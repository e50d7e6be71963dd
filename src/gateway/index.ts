export { startGateway } from './gateway.js';
export type { GatewayOptions, RunningGateway } from './gateway.js';
export { createPublisher, INVALID_SUBJECT_SUFFIX } from './publisher.js';
