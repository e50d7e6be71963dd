import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { PulseError } from '../errors.js';
import { allows, checkKey, type KeyRing, type Principal } from '../security/index.js';

type Allowed = 'ingest' | 'read' | 'admin' | 'seller';

/**
 * Who may call what. A route missing here is admin-only (deny by default); public routes are
 * listed in PUBLIC. `seller` keys reach the KPI routes but see only their own rows.
 */
const ACCESS: Readonly<Record<string, readonly Allowed[]>> = {
  'POST /v1/events': ['ingest'],
  'GET /v1/kpis': ['read', 'seller'],
  'GET /v1/kpis/:id': ['read', 'seller'],
  'GET /v1/stream': ['read', 'seller'],
  'GET /v1/ws': ['read', 'seller'],
  'GET /metrics': ['read'],
  'POST /graphql': ['read', 'seller'],
  // GET /graphql is the subscription WebSocket (and GET queries).
  'GET /graphql': ['read', 'seller'],
};

const PUBLIC = new Set(['/', '/healthz', '/readyz']);

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

function isPublic(url: string): boolean {
  return PUBLIC.has(url) || url === '/docs' || url.startsWith('/docs/');
}

/** The presented key: `Authorization: Bearer`, `X-API-Key`, or (streams only, for browsers) `access_token`. */
function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^bearer\s+/i.test(header))
    return header.replace(/^bearer\s+/i, '').trim();
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string') return apiKey.trim();
  const route = request.routeOptions.url;
  if (route === '/v1/stream' || route === '/v1/ws' || (route === '/graphql' && request.method === 'GET')) {
    const token = (request.query as Record<string, unknown> | undefined)?.access_token;
    if (typeof token === 'string') return token;
  }
  return undefined;
}

/** Checks every request against the key ring before its handler runs. */
export const authPlugin = fp(async (app: FastifyInstance, options: { keys: KeyRing }) => {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined || isPublic(route)) return;
    const key = presentedKey(request);
    if (key === undefined) {
      void reply.header('www-authenticate', 'Bearer realm="pulse"');
      throw new PulseError('PULSE_ERR_UNAUTHENTICATED', undefined, { field: 'authorization' });
    }
    const check = checkKey(key, options.keys.lookup);
    if (!check.ok) {
      void reply.header('www-authenticate', 'Bearer realm="pulse", error="invalid_token"');
      throw new PulseError(
        'PULSE_ERR_UNAUTHENTICATED',
        `The API key is ${check.reason === 'malformed' ? 'malformed' : check.reason === 'unknown' ? 'not known' : check.reason}`,
        {
          field: 'authorization',
        },
      );
    }
    const allowed = ACCESS[`${request.method} ${route}`] ?? ['admin'];
    if (!allows(check.principal, allowed)) {
      throw new PulseError(
        'PULSE_ERR_FORBIDDEN',
        `This key's roles (${check.principal.roles.join(', ')}) do not allow ${request.method} ${route}`,
      );
    }
    request.principal = check.principal;
  });
});
