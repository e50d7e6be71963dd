import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { PulseError } from '../errors.js';
import { allows, looksLikeJwt, type JwtVerifier, type KeyRing, type Principal } from '../security/index.js';

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
  'GET /v1/alerts': ['read'],
  // POST /v1/scorecards stays admin-only: it writes files and reads every region.
  'GET /v1/kpis/:id/forecast': ['read', 'seller'],
  'GET /v1/kpis/:id/records': ['read', 'seller'],
  // Comments are shared between the people of the company: a partner's key neither reads nor writes them.
  'GET /v1/kpis/:id/comments': ['read'],
  'POST /v1/kpis/:id/comments': ['read'],
  'GET /v1/me': ['read', 'seller', 'ingest'],
  // Scorecards name tables and rules, with tokenised sample keys: readers may see them; sellers
  // may not (they would see other sellers' keys). Quarantine and remediation: admins only.
  'GET /v1/quality': ['read'],
  'POST /v1/quality/run': ['admin'],
  'GET /v1/quarantine': ['admin'],
  'POST /v1/quarantine/replay': ['admin'],
  'GET /v1/lineage': ['read'],
  'GET /v1/runs': ['read'],
  'GET /v1/runs/:id': ['read'],
  'GET /v1/sla-breaches': ['read'],
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
  // The dashboard's static files are public; the data it shows needs a key like any client.
  return (
    PUBLIC.has(url) ||
    url === '/docs' ||
    url.startsWith('/docs/') ||
    url === '/app' ||
    url.startsWith('/app/')
  );
}

/** The key in a request's headers: `Authorization: Bearer`, else `X-API-Key`. */
export function headerKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization;
  if (typeof header === 'string' && /^bearer\s+/i.test(header))
    return header.replace(/^bearer\s+/i, '').trim();
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

/** The presented key: `headerKey`, or (streams only, for browsers) `access_token`. */
function presentedKey(request: FastifyRequest): string | undefined {
  const key = headerKey(request.headers);
  if (key !== undefined) return key;
  const route = request.routeOptions.url;
  if (route === '/v1/stream' || route === '/v1/ws' || (route === '/graphql' && request.method === 'GET')) {
    const token = (request.query as Record<string, unknown> | undefined)?.access_token;
    if (typeof token === 'string') return token;
  }
  return undefined;
}

/** Checks every request against the key ring before its handler runs. */
export const authPlugin = fp(async (app: FastifyInstance, options: { keys: KeyRing; jwt?: JwtVerifier }) => {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined || isPublic(route)) return;
    const key = presentedKey(request);
    if (key === undefined) {
      void reply.header('www-authenticate', 'Bearer realm="pulse"');
      throw new PulseError('PULSE_ERR_UNAUTHENTICATED', undefined, { field: 'authorization' });
    }
    const principal = await authenticate(key, options);
    if (principal instanceof PulseError) {
      if (principal.status === 401)
        void reply.header('www-authenticate', 'Bearer realm="pulse", error="invalid_token"');
      throw principal;
    }
    // HEAD is GET without the body (Fastify serves it for every GET route): the same keys may ask.
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const allowed = ACCESS[`${method} ${route}`] ?? ['admin'];
    if (!allows(principal, allowed)) {
      throw new PulseError(
        'PULSE_ERR_FORBIDDEN',
        `This key's roles (${principal.roles.join(', ') || 'none'}) do not allow ${request.method} ${route}`,
      );
    }
    request.principal = principal;
  });
});

/**
 * A Pulse API key is checked against the key ring; anything shaped like a JWT, when JWTs are
 * configured, against the JWKS. Both end as the same Principal, so every route checks roles alike.
 */
async function authenticate(
  key: string,
  options: { keys: KeyRing; jwt?: JwtVerifier },
): Promise<Principal | PulseError> {
  if (options.jwt && !key.startsWith('pulse_') && looksLikeJwt(key)) {
    try {
      return await options.jwt.verify(key);
    } catch (error) {
      return error instanceof PulseError ? error : new PulseError('PULSE_ERR_TOKEN_INVALID');
    }
  }
  const check = options.keys.check(key);
  if (check.ok) return check.principal;
  return new PulseError(
    'PULSE_ERR_UNAUTHENTICATED',
    `The API key is ${check.reason === 'malformed' ? 'malformed' : check.reason === 'unknown' ? 'not known' : check.reason}`,
    { field: 'authorization' },
  );
}
