export { RefreshLoop } from './refresh-loop.js';
export type { RefreshLoopOptions } from './refresh-loop.js';
export { FreshnessTracker } from './freshness.js';
