import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { PulseError } from '../errors.js';

export interface RateLimitOptions {
  /** Requests one API key (or one anonymous IP) may make per window. */
  readonly max: number;
  readonly windowMs: number;
}

/**
 * Requests per API key per window; anonymous requests (the public routes) count per client IP.
 * Registered after the auth plugin, so its per-route hook runs once the key is known: a request
 * refused for a missing or unknown key never reaches it (guessing a 256-bit key is not a rate
 * problem), and one key cannot spend another key's budget by naming it.
 */
export const rateLimitPlugin = fp(async (app: FastifyInstance, options: RateLimitOptions) => {
  await app.register(rateLimit, {
    global: true,
    max: options.max,
    timeWindow: options.windowMs,
    hook: 'onRequest',
    keyGenerator: (request: FastifyRequest) =>
      request.principal ? `key:${request.principal.keyId}` : `ip:${request.ip}`,
    // The headers say how much is left; Retry-After (seconds) comes with the 429.
    errorResponseBuilder: (_request, context) =>
      new PulseError(
        'PULSE_ERR_RATE_LIMITED',
        `Rate limit of ${context.max} requests per ${options.windowMs / 1000} s reached for this API key: retry in ${context.after}`,
        { details: { limit: context.max, window_ms: options.windowMs, retry_after_ms: context.ttl } },
      ),
  });
});
