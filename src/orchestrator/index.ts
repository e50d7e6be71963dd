export { RefreshLoop } from './refresh-loop.js';
export type { RefreshCause, RefreshLoopOptions, RunCauses } from './refresh-loop.js';
export { FreshnessTracker } from './freshness.js';
