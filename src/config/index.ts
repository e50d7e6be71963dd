export { loadConfig } from './config.js';
export type { ConfigOverrides, GatewayConfig, NatsConfig, PulseConfig } from './config.js';
