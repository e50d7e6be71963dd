export { loadConfig } from './config.js';
export type { ConfigOverrides, PulseConfig } from './config.js';
