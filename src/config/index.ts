export { loadConfig } from './config.js';
export type { ConfigOverrides, FilesConfig, GatewayConfig, NatsConfig, PulseConfig } from './config.js';
