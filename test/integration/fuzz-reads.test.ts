import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

/**
 * Hostile reads: random and adversarial query strings on the KPI, lineage, quality, runs and
 * quarantine routes, and random GraphQL documents. Never a 5xx, never a stack trace or SQL in the
 * answer, and every refusal carries a catalogue code. Fixed seeds: each run replays the same cases.
 */
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "'; DROP TABLE bronze_events; --",
    '=HYPERLINK("http://evil")',
    '__proto__',
    'constructor',
    '1e309',
    'NaN',
    '-1',
    '9'.repeat(400),
    '%00',
    '../../etc/passwd',
    '2026-02-30T25:61:00Z',
    'today',
    'channel',
  ),
);

const PATHS = [
  '/v1/kpis',
  '/v1/kpis/net_revenue',
  '/v1/kpis/conversion_rate',
  '/v1/kpis/no_such_kpi',
  '/v1/kpis/net_revenue/forecast',
  '/v1/kpis/net_revenue/records',
  '/v1/lineage',
  '/v1/quality',
  '/v1/runs',
  '/v1/quarantine',
  '/v1/alerts',
];
const PARAMS = [
  'window',
  'from',
  'to',
  'by',
  'series',
  'currency',
  'grain',
  'horizon',
  'limit',
  'node',
  'direction',
  'table',
  'day',
  'after',
  'x',
];

describe('hostile reads on the REST and GraphQL APIs', () => {
  let pulse: TestPulse;
  before(async () => {
    pulse = await startTestPulse();
    const posted = await pulse.post(JSON.stringify(orderEvent()), 'application/cloudevents+json');
    assert.equal(posted.status, 200);
    await pulse.refresh();
  });
  after(async () => pulse?.dispose());

  const check = (status: number, text: string, what: string) => {
    assert.ok(status < 500, `${status} for ${what}: ${text.slice(0, 300)}`);
    assert.ok(!/at .*\.js:\d+|node_modules|SELECT |INSERT /.test(text), `no stack trace or SQL: ${what}`);
  };

  it('answers any query string on the read routes without a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PATHS),
        fc.array(fc.tuple(fc.constantFrom(...PARAMS), hostileText), { maxLength: 5 }),
        async (path, params) => {
          const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
          const response = await pulse.fetch(`${pulse.url}${path}${query ? `?${query}` : ''}`);
          const text = await response.text();
          check(response.status, text, `${path}?${query}`);
          if (response.status >= 400) {
            const body = JSON.parse(text) as { error?: { code?: unknown } };
            assert.match(String(body.error?.code), /^PULSE_ERR_/, text);
          }
        },
      ),
      { numRuns: 300, seed: 20261201 },
    );
  });

  it('answers any GraphQL document without a 5xx', async () => {
    const field = fc.constantFrom(
      'kpis { id value }',
      'kpi(id: "net_revenue") { value }',
      'lineage { nodes { id } }',
      'quality { rules }',
      'runs { id }',
      '__schema { types { name } }',
    );
    const document = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(field, { minLength: 1, maxLength: 4 }).map((fields) => `{ ${fields.join(' ')} }`),
      fc.tuple(field, fc.nat(40)).map(([f, depth]) => `{ ${'a { '.repeat(depth)}${f}${' }'.repeat(depth)} }`),
      fc
        .tuple(hostileText, fc.constantFrom('kpi(id: $)', 'kpi(id: "', 'lineage(node: '))
        .map(([text, prefix]) => `{ ${prefix}${JSON.stringify(text)}) { value } }`),
      fc.nat(60).map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: kpis { id }`).join(' ')} }`),
    );
    await fc.assert(
      fc.asyncProperty(document, fc.option(fc.jsonValue({ maxDepth: 2 })), async (query, variables) => {
        const response = await pulse.fetch(`${pulse.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, ...(variables === null ? {} : { variables }) }),
        });
        const text = await response.text();
        check(response.status, text, query.slice(0, 120));
        const body = JSON.parse(text) as { errors?: { extensions?: { code?: unknown } }[]; error?: unknown };
        for (const error of body.errors ?? [])
          assert.match(String(error.extensions?.code), /^PULSE_ERR_/, text);
      }),
      { numRuns: 300, seed: 20261202 },
    );
  });
});
