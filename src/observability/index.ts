export { createMetrics } from './metrics.js';
export type { PulseMetrics } from './metrics.js';
export { HealthRegistry } from './health.js';
export type { HealthCheck, HealthCheckResult } from './health.js';
export { createTelemetry, NOOP_SPAN } from './tracing.js';
export type { SpanPlacement, Telemetry } from './tracing.js';
