export { loadConfig } from './config.js';
export type { ConfigOverrides, FilesConfig, PulseConfig } from './config.js';
