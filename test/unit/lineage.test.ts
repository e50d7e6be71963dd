import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createContractValidator } from '../../src/contracts/index.js';
import { loadCatalogue } from '../../src/kpis/index.js';
import { deriveLineage, impactOf, lineageOfSql, type LineageGraph } from '../../src/lineage/index.js';
import { loadModels, MODELS_DIRECTORY } from '../../src/models/index.js';

const contracts = createContractValidator().schemas;
const ids = (graph: LineageGraph, node: string, direction: 'upstream' | 'downstream', kind?: string) =>
  impactOf(graph, node, direction)
    .nodes.filter((found) => kind === undefined || found.kind === kind)
    .map((found) => found.id);

describe('lineage derived from the SQL models', () => {
  let graph: LineageGraph;
  before(async () => {
    graph = await deriveLineage({ models: loadModels(), catalogue: loadCatalogue(), contracts });
  });

  it('has a node for every column of every model, and every payload field it reads is a contract field', () => {
    const modelColumns = graph.data.nodes.filter((node) => node.kind === 'column' && node.layer !== 'bronze');
    // silver_orders: 10 typed fields + event_id, _seq, _ingested_at, _updated_seq (counted in its SQL).
    assert.equal(graph.datasetNodes('silver_orders').length, 14);
    assert.ok(modelColumns.length > 100);
    const fed = new Set(graph.data.edges.map((edge) => edge.to));
    const orphans = graph.data.nodes.filter((node) => node.kind === 'bronze_field' && !fed.has(node.id));
    assert.deepEqual(orphans, [], 'every bronze payload field read by a model is declared by a contract');
  });

  it('answers impact analysis as computed by hand from the SQL', () => {
    // silver_order_lines.discount is read only by fact_order (l.discount); no KPI reads fact_order.discount.
    assert.deepEqual(ids(graph, 'silver_order_lines.discount', 'downstream'), ['fact_order.discount']);
    // The contract's line discount feeds discount, net and net_eur in silver and gold, then every
    // measure over net/net_eur: net_revenue (lines_net, and the by-category refund split) and the
    // inventory_risk snapshot (revenue = sum(net_eur)).
    assert.deepEqual(ids(graph, 'order.placed.lines[].discount', 'downstream'), [
      'bronze_events[order.placed].data.lines[].discount',
      'fact_order.discount',
      'fact_order.net',
      'fact_order.net_eur',
      'inventory_risk',
      'inventory_risk.snapshot',
      'net_revenue',
      'net_revenue.lines_net',
      'net_revenue.numerator',
      'silver_order_lines.discount',
      'silver_order_lines.net',
      'silver_order_lines.net_eur',
    ]);
    // conversion_rate = count_distinct(fact_order.order_id by placed_at, channel) ÷ the same over fact_session.
    assert.deepEqual(ids(graph, 'conversion_rate', 'upstream', 'contract_field'), [
      'customer.upserted.customer_id',
      'customer.upserted.effective_at',
      'customer.upserted.loyalty_tier',
      'customer.upserted.segment',
      'order.placed.channel',
      'order.placed.order_id',
      'order.placed.placed_at',
      'session.started.channel',
      'session.started.customer_id',
      'session.started.session_id',
      'session.started.started_at',
    ]);
    // The refunds component of net_revenue reads fact_refund only: refund amount, currency, time, rate.
    const refunds = ids(graph, 'net_revenue.refunds', 'upstream', 'contract_field');
    for (const field of [
      'return.refunded.amount',
      'return.refunded.currency',
      'return.refunded.refunded_at',
      'fx.rate.rate_to_eur',
    ]) {
      assert.ok(refunds.includes(field), `${field} is upstream of the refunds component`);
    }
    assert.ok(!refunds.includes('order.placed.lines[].discount'), 'lines do not feed the refunds component');
    // The status filter (status <> 'cancelled') makes the order status a (filtering) input of net_revenue.
    assert.ok(ids(graph, 'order.status_changed.status', 'downstream', 'kpi').includes('net_revenue'));
    const upstreamOfRevenue = ids(graph, 'net_revenue', 'upstream', 'contract_field');
    assert.ok(!upstreamOfRevenue.includes('session.started.session_id'));
    assert.ok(!upstreamOfRevenue.includes('support.case_resolved.csat'));
  });

  it('explains each KPI, measure and component in the glossary', () => {
    const revenue = graph.data.glossary.find((term) => term.id === 'net_revenue');
    assert.equal(revenue?.term, 'Net Revenue');
    assert.equal(revenue?.unit, 'EUR');
    assert.ok(revenue?.contractFields.includes('order.placed.lines[].unit_price'));
    const kinds = graph.data.glossary.map((term) => `${term.kind}:${term.id}`);
    for (const expected of [
      'measure:net_revenue.numerator',
      'component:net_revenue.lines_net',
      'component:net_revenue.refunds',
      'measure:conversion_rate.denominator',
    ]) {
      assert.ok(kinds.includes(expected), expected);
    }
    assert.equal(
      graph.data.glossary.filter((term) => term.kind === 'kpi').length,
      loadCatalogue().kpis.length,
    );
  });

  it('rejects a node that is not in the graph, naming the field', () => {
    assert.throws(
      () => impactOf(graph, 'silver_orders.discount', 'downstream'),
      (error: Error & { field?: string }) => {
        assert.equal(error.field, 'node');
        assert.match(error.message, /silver_orders\.discount/);
        return true;
      },
    );
  });

  describe('a changed model changes its lineage', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-lineage-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('follows a column whose source field is swapped in the SQL', async () => {
      cpSync(MODELS_DIRECTORY, dir, {
        recursive: true,
        filter: (source) => !source.endsWith('.js') && !source.endsWith('.ts'),
      });
      const file = join(dir, 'silver', 'silver_orders.sql');
      const sql = readFileSync(file, 'utf8');
      assert.match(sql, /d\.channel::VARCHAR\s+AS channel/);
      writeFileSync(file, sql.replace(/d\.channel::VARCHAR(\s+)AS channel/, 'd.brand::VARCHAR$1AS channel'));
      const changed = await deriveLineage({ models: loadModels(dir), catalogue: loadCatalogue(), contracts });
      assert.deepEqual(ids(changed, 'silver_orders.channel', 'upstream', 'contract_field'), [
        'order.placed.brand',
      ]);
      assert.deepEqual(ids(graph, 'silver_orders.channel', 'upstream', 'contract_field'), [
        'order.placed.channel',
      ]);
      const conversion = ids(changed, 'conversion_rate', 'upstream', 'contract_field');
      assert.ok(conversion.includes('order.placed.brand'));
      assert.ok(!conversion.includes('order.placed.channel'));
    });
  });
});

describe('column lineage of the SQL constructs the models use', () => {
  const tables = {
    events: ['id', 'event_type', 'payload', 'seq'],
    rates: ['currency', 'hour', 'rate'],
  };

  it('follows CTEs, star expansion, CASE, window functions and UNION', async () => {
    const lineage = await lineageOfSql(
      `WITH base AS (SELECT * FROM events WHERE seq > 0),
            ranked AS (SELECT id, row_number() OVER w AS version, CASE WHEN event_type = 'a' THEN seq ELSE 0 END AS weight
                       FROM base WINDOW w AS (PARTITION BY payload ORDER BY seq))
       SELECT id, version, weight FROM ranked
       UNION ALL
       SELECT currency, 1, rate FROM rates`,
      tables,
    );
    const byName = Object.fromEntries(
      lineage.columns.map((column) => [column.name, [...column.lineage.origins].sort()]),
    );
    assert.deepEqual(byName, {
      id: ['events.id', 'rates.currency'],
      version: ['events.payload', 'events.seq'],
      weight: ['events.event_type', 'events.seq', 'rates.rate'],
    });
    assert.deepEqual([...lineage.indirect].sort(), ['events.seq']);
  });

  it('follows JSON extraction with ->> and from_json, through unnest', async () => {
    const lineage = await lineageOfSql(
      `SELECT payload->>'$.order.id' AS order_id, line.sku, j.d.currency AS currency
       FROM (SELECT *, from_json(payload, '{"currency":"VARCHAR","lines":[{"sku":"VARCHAR"}]}') AS d
             FROM events WHERE event_type = 'order.placed') j, unnest(j.d.lines) AS t(line)`,
      tables,
    );
    const byName = Object.fromEntries(
      lineage.columns.map((column) => [column.name, [...column.lineage.origins]]),
    );
    assert.deepEqual(byName, {
      order_id: ['events.payload.order.id'],
      sku: ['events.payload[order.placed].lines[].sku'],
      currency: ['events.payload[order.placed].currency'],
    });
  });

  it('names what it cannot resolve instead of guessing', async () => {
    await assert.rejects(
      lineageOfSql('SELECT nope FROM events', tables),
      /column nope resolves to no relation/,
    );
    await assert.rejects(lineageOfSql('SELECT id FROM missing_table', tables), /unknown table missing_table/);
  });
});
