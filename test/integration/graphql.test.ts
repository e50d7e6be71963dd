/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL responses are read as untyped JSON */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { loadCatalogue, NAMED_WINDOWS } from '../../src/kpis/index.js';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const NOW = new Date('2026-03-10T18:00:00Z');
const BATCH = 'application/cloudevents-batch+json';

const KPI_FIELDS = `id label unit window { from to } value numerator denominator components { name amount }
  revenue_share by breakdown { key value numerator denominator } series { ts value } as_of lag_ms
  definition_version quality definition { description owner direction bands { basis warn critical } cadence dimensions }
  lineage { inputs }`;

function order(
  id: string,
  seller: string | null,
  quantity: number,
  unitPrice: number,
  tax: number,
  placedAt = '2026-03-10T10:00:00Z',
) {
  const event = orderEvent({ orderId: id, placedAt });
  return {
    ...event,
    data: {
      ...event.data,
      ...(seller ? { seller_id: seller, channel: 'marketplace' } : {}),
      lines: [{ line_no: 1, sku: 'SKU-1', quantity, unit_price: unitPrice, discount: 0, tax }],
    },
  };
}

/** The REST answer in GraphQL's shape: components as a list, absent optional fields as null. */
function asGraphql(answer: Record<string, unknown>): Record<string, unknown> {
  const components = answer.components as Record<string, string> | undefined;
  return {
    revenue_share: null,
    by: null,
    breakdown: null,
    series: null,
    ...answer,
    components: components ? Object.entries(components).map(([name, amount]) => ({ name, amount })) : null,
  };
}

describe('GraphQL', () => {
  let pulse: TestPulse;
  let readKey: string;
  let sellerKey: string;
  let ingestKey: string;

  const gql = async (query: string, key: string | null = readKey, variables?: Record<string, unknown>) => {
    const response = await fetch(`${pulse.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
    });
    const text = await response.text();
    assert.doesNotMatch(text, /at .*\.js:\d+|node_modules/, 'no stack trace leaves the server');
    return { status: response.status, body: JSON.parse(text) as { data?: any; errors: any[]; error?: any } };
  };
  const rest = async (path: string, key = readKey) => {
    const response = await fetch(`${pulse.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(response.status, 200, path);
    return (await response.json()) as Record<string, unknown>;
  };

  before(async () => {
    pulse = await startTestPulse({ now: () => NOW, refreshDebounceMs: 10 });
    const posted = await pulse.post(
      JSON.stringify([
        order('A', 'S-1', 2, 10, 2), // net 18.00
        order('B', 'S-1', 1, 40, 4.55), // net 35.45
        order('C', 'S-2', 3, 7.33, 1), // net 20.99
        order('D', null, 1, 100, 16.67, '2026-03-10T17:30:00Z'), // net 83.33, in the last hour too
      ]),
      BATCH,
    );
    assert.equal(posted.status, 200);
    await pulse.refresh();
    readKey = await pulse.keyFor('read');
    sellerKey = await pulse.keyFor('seller:S-1');
    ingestKey = await pulse.keyFor('ingest');
  });
  after(async () => {
    await pulse?.dispose();
  });

  it('answers kpi(id, window, by) exactly as REST does, field by field, for every KPI, window and breakdown', async () => {
    const catalogue = loadCatalogue();
    let compared = 0;
    for (const kpi of catalogue.kpis) {
      for (const window of NAMED_WINDOWS) {
        // Customer-attribute breakdowns are answered with differential privacy, by REST only.
        for (const by of [null, ...kpi.dimensions.filter((d) => d !== 'loyalty_tier' && d !== 'segment')]) {
          const args = `id: "${kpi.id}", window: "${window}"${by ? `, by: ${by}` : ''}`;
          const { status, body } = await gql(`{ kpi(${args}) { ${KPI_FIELDS} } }`);
          assert.equal(status, 200, JSON.stringify(body.errors));
          const expected = asGraphql(
            await rest(`/v1/kpis/${kpi.id}?window=${window}${by ? `&by=${by}` : ''}`),
          );
          assert.deepEqual(body.data.kpi, expected, `${kpi.id} ${window} ${by ?? ''}`);
          compared += 1;
        }
      }
    }
    assert.ok(compared >= catalogue.kpis.length * NAMED_WINDOWS.length);
    const today = await gql(`{ kpi(id: "net_revenue", window: "today") { value } }`);
    assert.equal(today.body.data.kpi.value, '157.77'); // 18 + 35.45 + 20.99 + 83.33
    const lastHour = await gql(`{ kpi(id: "net_revenue", window: "1h") { value } }`);
    assert.equal(lastHour.body.data.kpi.value, '83.33');
  });

  it('answers kpis and explicit ranges with series as REST does', async () => {
    const all = await gql(`{ kpis(window: "24h") { ${KPI_FIELDS} } }`);
    const expected = (await rest('/v1/kpis?window=24h')).kpis as Record<string, unknown>[];
    assert.deepEqual(all.body.data.kpis, expected.map(asGraphql));
    const range = 'from: "2026-03-10T00:00:00Z", to: "2026-03-11T00:00:00Z"';
    const series = await gql(`{ kpi(id: "net_revenue", ${range}, series: hour) { ${KPI_FIELDS} } }`);
    assert.equal(series.status, 200, JSON.stringify(series.body.errors));
    const restSeries = await rest(
      '/v1/kpis/net_revenue?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&series=hour',
    );
    assert.deepEqual(series.body.data.kpi, asGraphql(restSeries));
    const hours = (series.body.data.kpi.series as { ts: string; value: string }[]).filter(
      (p) => p.value !== '0.00',
    );
    assert.deepEqual(
      hours.map((p) => [p.ts.slice(11, 13), p.value]),
      [
        ['10', '74.44'],
        ['17', '83.33'],
      ],
    );
  });

  it('confines a seller key to its own rows, as REST does', async () => {
    const mine = await gql(`{ kpi(id: "net_revenue", window: "today") { ${KPI_FIELDS} } }`, sellerKey);
    assert.equal(mine.body.data.kpi.value, '53.45'); // A + B
    assert.deepEqual(
      mine.body.data.kpi,
      asGraphql(await rest('/v1/kpis/net_revenue?window=today', sellerKey)),
    );
    const bySeller = await gql(
      `{ kpi(id: "net_revenue", window: "today", by: seller) { breakdown { key value } } }`,
      sellerKey,
    );
    assert.deepEqual(bySeller.body.data.kpi.breakdown, [{ key: 'S-1', value: '53.45' }]);
    const all = await gql(`{ kpis { id value } }`, sellerKey);
    assert.equal(all.body.data.kpis.find((k: { id: string }) => k.id === 'net_revenue').value, '53.45');
  });

  it('refuses a missing, unknown or unprivileged key like REST', async () => {
    const none = await gql('{ kpis { id } }', null);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'PULSE_ERR_UNAUTHENTICATED');
    const unknown = await gql('{ kpis { id } }', 'pk_nope');
    assert.equal(unknown.status, 401);
    const ingest = await gql('{ kpis { id } }', ingestKey);
    assert.equal(ingest.status, 403);
    assert.equal(ingest.body.error.code, 'PULSE_ERR_FORBIDDEN');
  });

  it('answers lineage, quality and runs as REST does, for read keys only', async () => {
    // The whole graph: the same nodes, edges, model edges and glossary as GET /v1/lineage.
    const graph = await gql(
      '{ lineage { nodes { id kind } edges { from to kind } models { from to } glossary { id term } } }',
    );
    assert.equal(graph.status, 200, JSON.stringify(graph.body.errors));
    const restGraph = (await rest('/v1/lineage')) as any;
    assert.deepEqual(
      graph.body.data.lineage.nodes,
      restGraph.nodes.map((n: any) => ({ id: n.id, kind: n.kind })),
    );
    assert.deepEqual(graph.body.data.lineage.edges, restGraph.edges);
    assert.deepEqual(graph.body.data.lineage.models, restGraph.models);
    assert.deepEqual(
      graph.body.data.lineage.glossary,
      restGraph.glossary.map((t: any) => ({ id: t.id, term: t.term })),
    );
    // Impact: the discount of an order line reaches Net Revenue (gross − discount − tax), as REST says.
    const impact = await gql(
      '{ lineage(node: "order.placed.lines[].discount", direction: downstream) { node { id } kpis nodes { id } } }',
    );
    const restImpact = (await rest(
      `/v1/lineage?node=${encodeURIComponent('order.placed.lines[].discount')}&direction=downstream`,
    )) as any;
    assert.ok(impact.body.data.lineage.kpis.includes('net_revenue'), JSON.stringify(impact.body));
    assert.deepEqual(impact.body.data.lineage.kpis, restImpact.kpis);
    assert.deepEqual(
      impact.body.data.lineage.nodes.map((n: any) => n.id),
      restImpact.nodes.map((n: any) => n.id),
    );
    assert.equal(impact.body.data.lineage.node.id, 'order.placed.lines[].discount');

    // Quality: the same rules and verdicts as GET /v1/quality.
    const quality = await gql(
      '{ quality { enabled rules holds { kpi } current { rule table severity status } } }',
    );
    assert.equal(quality.status, 200, JSON.stringify(quality.body.errors));
    const restQuality = (await rest('/v1/quality')) as any;
    assert.equal(quality.body.data.quality.enabled, true);
    assert.equal(quality.body.data.quality.rules, restQuality.rules);
    assert.ok(restQuality.rules >= 60);
    assert.deepEqual(
      quality.body.data.quality.current,
      restQuality.current.map((c: any) => ({
        rule: c.rule,
        table: c.table,
        severity: c.severity,
        status: c.status,
      })),
    );
    assert.deepEqual(
      quality.body.data.quality.holds.map((h: any) => h.kpi),
      Object.keys(restQuality.holds),
    );
    const onTable = await gql('{ quality(table: "silver_order_lines") { current { table } } }');
    assert.ok(onTable.body.data.quality.current.length > 0);
    assert.ok(onTable.body.data.quality.current.every((c: any) => c.table === 'silver_order_lines'));

    // Runs: the same history as GET /v1/runs, and one run by id.
    const runs = await gql('{ runs(limit: 5) { id status rows models { model rows } } }');
    assert.equal(runs.status, 200, JSON.stringify(runs.body.errors));
    const restRuns = ((await rest('/v1/runs?limit=5')) as any).runs;
    assert.deepEqual(
      runs.body.data.runs,
      restRuns.map((r: any) => ({
        id: r.id,
        status: r.status,
        rows: r.rows,
        models: r.models.map((m: any) => ({ model: m.model, rows: m.rows })),
      })),
    );
    // The 4 posted orders (one line each) went through silver_order_lines in some run.
    const lines = restRuns
      .flatMap((r: any) => r.models)
      .filter((m: any) => m.model === 'silver_order_lines')
      .reduce((n: number, m: any) => n + m.rows, 0);
    assert.equal(lines, 4);
    const one = await gql('query ($id: String!) { run(id: $id) { id status } }', readKey, {
      id: restRuns[0].id,
    });
    assert.deepEqual(one.body.data.run, { id: restRuns[0].id, status: restRuns[0].status });
    const missing = await gql('{ run(id: "no-such-run") { id } }');
    assert.equal(missing.body.data.run, null);

    // A seller key reaches KPIs but not the proof behind them (sample keys of other sellers).
    for (const field of ['lineage { nodes { id } }', 'quality { rules }', 'runs { id }']) {
      const refused = await gql(`{ ${field} }`, sellerKey);
      assert.equal(refused.body.errors[0].extensions.code, 'PULSE_ERR_FORBIDDEN', field);
      assert.equal(refused.body.data, null);
    }
    const badLimit = await gql('{ runs(limit: 0) { id } }');
    assert.equal(badLimit.body.errors[0].extensions.code, 'PULSE_ERR_INVALID_PARAMETER');
    assert.equal(badLimit.body.errors[0].extensions.field, 'limit');
    const unknownNode = await gql('{ lineage(node: "no_table.no_column") { kpis } }');
    assert.equal(unknownNode.body.errors[0].extensions.code, 'PULSE_ERR_NOT_FOUND');
    const directionAlone = await gql('{ lineage(direction: upstream) { kpis } }');
    assert.equal(directionAlone.body.errors[0].extensions.field, 'node');
  });

  it('answers hostile and malformed queries with clear catalogue errors', async () => {
    const deep = await gql(
      '{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }',
    );
    assert.equal(deep.status, 400);
    assert.equal(deep.body.errors[0].extensions.code, 'PULSE_ERR_QUERY_TOO_COMPLEX');
    assert.match(deep.body.errors[0].message, /nested \d+ levels deep; at most 8/);
    const aliases = Array.from({ length: 200 }, (_, i) => `a${i}: kpis { id }`).join(' ');
    const wide = await gql(`{ ${aliases} }`);
    assert.equal(wide.status, 400);
    assert.equal(wide.body.errors[0].extensions.code, 'PULSE_ERR_QUERY_TOO_COMPLEX');
    assert.match(wide.body.errors[0].message, /more than 30 aliases/);
    const fragments = await gql(
      `{ kpis { ...A } } fragment A on Kpi { ${Array.from({ length: 400 }, () => 'id').join(' ')} definition { owner } }`,
    );
    assert.equal(fragments.status, 400);
    assert.match(fragments.body.errors[0].message, /more than 300 fields/);
    const wrongType = await gql('{ kpi(id: 5) { id } }');
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.errors[0].extensions.code, 'PULSE_ERR_INVALID_QUERY');
    assert.match(wrongType.body.errors[0].message, /String/);
    const badEnum = await gql('{ kpi(id: "net_revenue", by: planet) { id } }');
    assert.equal(badEnum.status, 400);
    assert.match(badEnum.body.errors[0].message, /Dimension/);
    const badWindow = await gql('{ kpi(id: "net_revenue", window: "week") { id } }');
    assert.equal(badWindow.body.errors[0].extensions.code, 'PULSE_ERR_INVALID_PARAMETER');
    assert.equal(badWindow.body.errors[0].extensions.field, 'window');
    const unknownKpi = await gql('{ kpi(id: "nope") { id } }');
    assert.equal(unknownKpi.body.errors[0].extensions.code, 'PULSE_ERR_UNKNOWN_KPI');
    const badRange = await gql('{ kpi(id: "net_revenue", from: "yesterday") { id } }');
    assert.equal(badRange.body.errors[0].extensions.code, 'PULSE_ERR_INVALID_PARAMETER');
    const huge = await gql(`{ kpis { id } } # ${'x'.repeat(20_000)}`);
    assert.equal(huge.status, 400);
    assert.equal(huge.body.errors[0].extensions.code, 'PULSE_ERR_QUERY_TOO_COMPLEX');
    const syntax = await gql('{ kpis { id ');
    assert.equal(syntax.status, 400);
    assert.equal(syntax.body.errors[0].extensions.code, 'PULSE_ERR_INVALID_QUERY');
  });

  it('pushes a KPI change to a subscription over the GraphQL WebSocket protocol when an event is posted', async () => {
    const socket = new WebSocket(`${pulse.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', {
      headers: { authorization: `Bearer ${readKey}` },
    });
    const values: string[] = [];
    let resolveChanged: (value: string) => void;
    const changed = new Promise<string>((resolve) => (resolveChanged = resolve));
    let resolveFirst: () => void;
    const first = new Promise<void>((resolve) => (resolveFirst = resolve));
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string; payload?: any };
      if (message.type === 'connection_ack') {
        socket.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: {
              query:
                'subscription { kpiChanged(kpis: ["net_revenue"], window: "today") { id window_name value as_of } }',
            },
          }),
        );
      }
      if (message.type === 'next') {
        const value = message.payload.data.kpiChanged.value as string;
        values.push(value);
        if (values.length === 1) resolveFirst();
        if (value === '170.11') resolveChanged(value);
      }
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    const timeout = setTimeout(() => socket.terminate(), 30_000);
    try {
      await first;
      assert.equal(values[0], '157.77');
      assert.equal((await pulse.post(JSON.stringify([order('E', null, 1, 12.34, 0)]), BATCH)).status, 200);
      await pulse.refresh();
      assert.equal(await changed, '170.11'); // 157.77 + 12.34
    } finally {
      clearTimeout(timeout);
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.terminate();
      await closed;
    }
  });
});
