export { createMetrics } from './metrics.js';
export type { PulseMetrics } from './metrics.js';
