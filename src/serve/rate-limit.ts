import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { PulseError } from '../errors.js';
import type { Principal } from '../security/index.js';
import type { RateCheck } from './live-lane.js';

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

/** Counts a request of `principal` in the budget the plugin keeps (for requests that skip Fastify). */
export function principalRateCheck(app: FastifyInstance): (principal: Principal) => Promise<RateCheck> {
  const limiter = app.createRateLimit();
  return async (principal) => {
    // The limiter reads what the key generator above reads: the principal.
    const request = { principal, ip: '', routeOptions: { config: {} } } as unknown as FastifyRequest;
    const result = await limiter(request);
    // No allow-list is configured (isAllowed: no budget applies); were one, the API would answer.
    if (result.isAllowed || result.isExceeded) return { exceeded: true };
    return {
      exceeded: false,
      limit: result.max,
      remaining: result.remaining,
      resetSeconds: result.ttlInSeconds,
    };
  };
}
