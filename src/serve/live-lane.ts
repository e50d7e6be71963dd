import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Counter } from 'prom-client';
import type { Dimension, LiveKpis, NamedWindow } from '../kpis/index.js';
import { DIMENSIONS, isCustomerDimension, NAMED_WINDOWS } from '../kpis/index.js';
import { allows, type KeyRing, type Principal } from '../security/index.js';
import { correlationIdOf, DATA_HEADERS, JSON_TYPE, SECURITY_HEADERS } from './api-headers.js';
import { headerKey } from './auth.js';

/** What a request's rate-limit check found: the budget left, or that it is spent. */
export type RateCheck =
  | { readonly exceeded: true }
  | {
      readonly exceeded: false;
      readonly limit: number;
      readonly remaining: number;
      readonly resetSeconds: number;
    };

export interface LiveLaneOptions {
  readonly live: LiveKpis;
  readonly keys: KeyRing;
  readonly kpiIds: readonly string[];
  /** Counts the request against its key's budget, in the store the routed API uses. */
  readonly rateCheck: (principal: Principal) => Promise<RateCheck>;
  /** Answers counted by the lane. */
  readonly answered: Counter;
}

export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** A request the lane can answer: a live value or all of a window's totals. */
interface LiveTarget {
  readonly id: string | null;
  readonly window: NamedWindow;
  readonly by: Dimension | null;
}

/**
 * The live read lane: `GET /v1/kpis` and `GET /v1/kpis/{id}` for a named window in EUR, answered
 * from the live values' JSON text as soon as Node has parsed the request, without Fastify's routing,
 * hooks and reply (which cost more than the answer itself). It takes only what it can answer exactly
 * as the routed API would, with the same headers: a URL from a fixed list (no unknown parameter, no
 * explicit range, no currency), a Pulse API key that reads every row, budget left under the rate
 * limit, a value in memory. Everything else, errors included, goes on to `routed`, and the answer
 * is the API's own. (For the routed API, `liveReadOf` in kpi-reads.ts decides the same.)
 */
export function liveLane(options: LiveLaneOptions, routed: HttpHandler): HttpHandler {
  const targets = liveTargets(options.kpiIds);
  const render = (target: LiveTarget): Buffer | undefined =>
    target.id === null
      ? options.live.allJson(target.window)
      : options.live.getJson(target.id, target.window, target.by);
  return (request, response) => {
    const target = request.method === 'GET' ? targets.get(request.url ?? '') : undefined;
    const principal = target && readerOf(request, options.keys);
    const body = principal && render(target);
    if (!principal || body === undefined) {
      routed(request, response);
      return;
    }
    void options.rateCheck(principal).then(
      (rate) => {
        // A spent budget is answered by the API: 429 with Retry-After, counted there too.
        if (rate.exceeded) {
          routed(request, response);
          return;
        }
        response.writeHead(200, {
          'content-type': JSON_TYPE,
          'content-length': body.length,
          'x-ratelimit-limit': rate.limit,
          'x-ratelimit-remaining': rate.remaining,
          'x-ratelimit-reset': rate.resetSeconds,
          'x-request-id': correlationIdOf(request.headers['x-request-id']),
          ...SECURITY_HEADERS,
          ...DATA_HEADERS,
        });
        response.end(body);
        options.answered.inc();
      },
      () => routed(request, response),
    );
  };
}

/**
 * A key that may read every row: Bearer or X-API-Key, a Pulse key the ring accepts now (a JWT, a
 * seller's key, a missing or wrong key: the routed API answers those).
 */
function readerOf(request: IncomingMessage, keys: KeyRing): Principal | undefined {
  const presented = headerKey(request.headers);
  if (presented === undefined) return undefined;
  const check = keys.check(presented);
  // Read or admin: such a key is never confined to a seller's rows (principalOf).
  if (!check.ok || !allows(check.principal, ['read'])) return undefined;
  return check.principal;
}

/** Every URL the lane answers, spelled as clients send them: one map lookup decides. */
function liveTargets(kpiIds: readonly string[]): Map<string, LiveTarget> {
  const targets = new Map<string, LiveTarget>();
  const windowParams: [string | null, NamedWindow][] = [
    [null, 'today'],
    ...NAMED_WINDOWS.map((window): [string, NamedWindow] => [`window=${window}`, window]),
  ];
  const byParams: [string | null, Dimension | null][] = [
    [null, null],
    ...DIMENSIONS.filter((dimension) => !isCustomerDimension(dimension)).map(
      (dimension): [string, Dimension] => [`by=${dimension}`, dimension],
    ),
  ];
  for (const [windowParam, window] of windowParams) {
    targets.set(withQuery('/v1/kpis', [windowParam]), { id: null, window, by: null });
    for (const id of kpiIds) {
      for (const [byParam, by] of byParams) {
        const target = { id, window, by };
        targets.set(withQuery(`/v1/kpis/${id}`, [windowParam, byParam]), target);
        targets.set(withQuery(`/v1/kpis/${id}`, [byParam, windowParam]), target);
      }
    }
  }
  return targets;
}

function withQuery(path: string, params: readonly (string | null)[]): string {
  const query = params.filter((param) => param !== null).join('&');
  return query === '' ? path : `${path}?${query}`;
}
