export { loadConfig, DEFAULT_RATE_PER_KEY, DEFAULT_RATE_WINDOW_MS } from './config.js';
export type { ConfigOverrides, FilesConfig, GatewayConfig, NatsConfig, PulseConfig } from './config.js';
