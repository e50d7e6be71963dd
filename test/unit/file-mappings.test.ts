import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { createContractValidator } from '../../src/contracts/index.js';
import { findMapping, MappingReader } from '../../src/sources/index.js';

const SHOPIFY = new URL('../fixtures/shopify/orders_export_1.csv', import.meta.url).pathname;

interface Event {
  id: string;
  type: string;
  time: string;
  data: Record<string, unknown>;
}

async function mapFile(
  reader: MappingReader,
  path: string,
  mapping: string,
  format: 'csv' | 'parquet' = 'csv',
) {
  const counts = await reader.map(path, format, findMapping(mapping));
  const events: Event[] = [];
  for await (const batch of reader.events(1000)) {
    for (const row of batch) {
      events.push({
        id: row.id as string,
        type: row.type as string,
        time: row.time as string,
        data: JSON.parse(row.data as string) as Record<string, unknown>,
      });
    }
  }
  return { ...counts, events };
}

/** What the loader sends on: the mapping's NULLs are absent fields. */
function envelope(event: Event) {
  const data = JSON.parse(JSON.stringify(event.data, (_k, v: unknown) => (v === null ? undefined : v)));
  return { specversion: '1.0', id: event.id, source: '/test', type: event.type, time: event.time, data };
}

describe('file mappings', () => {
  let reader: MappingReader;
  let dir: string;
  const validator = createContractValidator();
  before(async () => {
    reader = await MappingReader.open();
    dir = mkdtempSync(join(tmpdir(), 'pulse-mappings-'));
  });
  after(async () => {
    await reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shopify_orders: one order.placed per order, paid/cancelled statuses, refunds, discount and tax spread to the cent', async () => {
    const { rows, events } = await mapFile(reader, SHOPIFY, 'shopify_orders');
    assert.equal(rows, 8);
    assert.deepEqual(
      events.map((e) => e.id),
      [
        'shopify/order/#1001',
        'shopify/paid/#1001',
        'shopify/order/#1002',
        'shopify/paid/#1002',
        'shopify/order/#1003',
        'shopify/paid/#1003',
        'shopify/cancelled/#1003',
        'shopify/order/#1004',
        'shopify/paid/#1004',
        'shopify/refund/#1004',
        'shopify/order/#1005',
        'shopify/order/#1006',
        'shopify/paid/#1006',
      ],
    );
    const byId = new Map(events.map((e) => [e.id, e]));
    // #1001: 2×25.00 + 1×12.00 = 62.00 gross; discount 6.20 → 50/62 of it = 5.00, the rest 1.20;
    // taxes 10.12 included (Total 60.70 = Subtotal 55.80 + Shipping 4.90) → 8.16 and 1.96.
    assert.deepEqual(byId.get('shopify/order/#1001')?.data, {
      order_id: '#1001',
      placed_at: '2024-03-01T09:15:22Z',
      customer_id: 'marie.dupont@example.com',
      email: 'marie.dupont@example.com',
      name: 'Marie Dupont',
      phone: '+33 6 12 34 56 78',
      channel: 'web',
      brand: 'Maison Verte',
      country: 'FR',
      currency: 'EUR',
      promised_delivery_at: '2024-03-04T09:15:22Z',
      lines: [
        { line_no: 1, sku: 'TSHIRT-M', quantity: 2, unit_price: '25.00', discount: '5.00', tax: '8.16' },
        { line_no: 2, sku: 'MUG-01', quantity: 1, unit_price: '12.00', discount: '1.20', tax: '1.96' },
      ],
    });
    assert.deepEqual(byId.get('shopify/paid/#1001')?.data, {
      order_id: '#1001',
      status: 'paid',
      changed_at: '2024-03-01T09:15:25Z',
    });
    const d1002 = byId.get('shopify/order/#1002')?.data as Record<string, unknown>;
    assert.equal(d1002.channel, 'store'); // Source pos
    assert.deepEqual(d1002.lines, [
      { line_no: 1, sku: 'CANDLE-BW', quantity: 3, unit_price: '19.99', discount: '0.00', tax: '9.58' },
    ]);
    assert.equal((byId.get('shopify/order/#1003')?.data as Record<string, unknown>).channel, 'mobile');
    assert.deepEqual(byId.get('shopify/cancelled/#1003')?.data, {
      order_id: '#1003',
      status: 'cancelled',
      changed_at: '2024-03-02T12:30:00Z',
    });
    // #1003 is cancelled: its 30.00 refund is not sent again (the order already leaves Net Revenue).
    assert.equal(byId.has('shopify/refund/#1003'), false);
    const d1004 = byId.get('shopify/order/#1004')?.data as Record<string, unknown>;
    assert.equal(d1004.country, 'NL'); // "Netherlands" → NL
    assert.deepEqual(d1004.lines, [
      { line_no: 1, sku: 'THROW-W', quantity: 1, unit_price: '40.00', discount: '4.00', tax: '6.00' },
      { line_no: 2, sku: 'COAST-2', quantity: 2, unit_price: '5.00', discount: '1.00', tax: '1.50' },
    ]);
    assert.deepEqual(byId.get('shopify/refund/#1004')?.data, {
      return_id: '#1004-refund',
      order_id: '#1004',
      refunded_at: '2024-03-03T14:45:00Z', // Fulfilled at, the latest time the export gives
      amount: '10.00',
      currency: 'EUR',
    });
    // #1005: no email → a guest; -05:00 offset → UTC; taxes excluded (Total = 30 + 5 + 3) → no line tax.
    const d1005 = byId.get('shopify/order/#1005')?.data as Record<string, unknown>;
    assert.equal(d1005.customer_id, 'guest-#1005');
    assert.equal(d1005.placed_at, '2024-03-03T04:30:00Z');
    assert.deepEqual(d1005.lines, [
      { line_no: 1, sku: 'CANDLE-SOY', quantity: 2, unit_price: '15.00', discount: '0.00', tax: '0.00' },
    ]);
    assert.equal(byId.has('shopify/paid/#1005'), false); // pending
    // Every event passes its contract but #1006, whose quantity is "two".
    const failing = events.filter((e) => !validator.validate(envelope(e)).ok).map((e) => e.id);
    assert.deepEqual(failing, ['shopify/order/#1006']);
    const verdict = validator.validate(envelope(byId.get('shopify/order/#1006') as Event));
    assert.equal(verdict.ok, false);
  });

  it('online_retail: invoices become orders, C invoices refunds, country names ISO codes, UK time UTC', async () => {
    const path = join(dir, 'retail.csv');
    writeFileSync(
      path,
      [
        'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
        '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
        '536365,71053,"WHITE METAL LANTERN, BIG",6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom',
        'C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom',
        'C536391,22556,PLASTERS,-12,2010-12-01 10:24:00,1.65,17548.0,United Kingdom',
        'C536391,21984,TISSUES,-24,2010-12-01 10:24:00,0.29,17548.0,United Kingdom',
        '561226,PADS,PADS TO MATCH ALL CUSHIONS,1,2011-07-26 10:13:00,0.001,15618.0,EIRE',
        '561227,22139,,56,2011-07-26 11:52:00,0.0,,Unspecified',
        '561228,22140,ADJUST,-5,2011-07-26 12:00:00,0.0,,United Kingdom',
        '',
      ].join('\n'),
    );
    const { rows, events } = await mapFile(reader, path, 'online_retail');
    assert.equal(rows, 8);
    assert.deepEqual(
      events.map((e) => [e.id, e.type]),
      [
        ['online-retail/order/536365', 'order.placed'],
        ['online-retail/refund/C536379', 'return.refunded'],
        ['online-retail/refund/C536391', 'return.refunded'],
        ['online-retail/order/561226', 'order.placed'],
        ['online-retail/order/561227', 'order.placed'],
        ['online-retail/order/561228', 'order.placed'],
      ],
    );
    const [order, refund1, refund2, pads, unspecified, adjustment] = events as Event[];
    assert.deepEqual(order?.data, {
      order_id: '536365',
      placed_at: '2010-12-01T08:26:00Z', // GMT in December
      customer_id: '17850',
      channel: 'web',
      brand: 'Online Retail',
      country: 'GB',
      currency: 'GBP',
      promised_delivery_at: '2010-12-04T08:26:00Z',
      lines: [
        { line_no: 1, sku: '85123A', quantity: 6, unit_price: '2.55', discount: '0', tax: '0' },
        { line_no: 2, sku: '71053', quantity: 6, unit_price: '3.39', discount: '0', tax: '0' },
      ],
    });
    assert.deepEqual(refund1?.data, {
      return_id: 'C536379',
      order_id: 'C536379',
      refunded_at: '2010-12-01T09:41:00Z',
      amount: '27.50',
      currency: 'GBP',
    });
    // 12 × 1.65 + 24 × 0.29 = 19.80 + 6.96
    assert.equal(refund2?.data.amount, '26.76');
    // BST in July: 10:13 in London is 09:13 UTC; EIRE is IE.
    assert.equal(pads?.data.placed_at, '2011-07-26T09:13:00Z');
    assert.equal(pads?.data.country, 'IE');
    assert.equal(unspecified?.data.customer_id, 'guest-561227');
    assert.equal(unspecified?.data.country, 'Unspecified');
    const verdicts = events.map((e) => {
      const result = validator.validate(envelope(e));
      return result.ok ? 'ok' : 'quarantined';
    });
    // 0.001 has three decimals; "Unspecified" is no country; a quantity of −5 is a stock adjustment.
    assert.deepEqual(verdicts, ['ok', 'ok', 'ok', 'quarantined', 'quarantined', 'quarantined']);
    assert.equal((adjustment?.data.lines as { quantity: number }[])[0]?.quantity, -5);
  });

  it('reads the same export as Parquet to the same events', async () => {
    const parquet = join(dir, 'orders_export_1.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    await db.run(
      `COPY (SELECT * FROM read_csv('${SHOPIFY}', all_varchar = true)) TO '${parquet}' (FORMAT parquet)`,
    );
    db.closeSync();
    instance.closeSync();
    const fromCsv = await mapFile(reader, SHOPIFY, 'shopify_orders');
    const fromParquet = await mapFile(reader, parquet, 'shopify_orders', 'parquet');
    assert.equal(fromParquet.rows, 8);
    assert.deepEqual(fromParquet.events, fromCsv.events);
  });

  it('names the missing columns when a file is not the export its mapping reads', async () => {
    const path = join(dir, 'wrong.csv');
    writeFileSync(path, 'Invoice,Qty\n1,2\n');
    await assert.rejects(
      reader.map(path, 'csv', findMapping('online_retail')),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'PULSE_ERR_FILE_COLUMNS');
        assert.match(error.message, /"InvoiceNo", "StockCode", "Quantity"/);
        return true;
      },
    );
    assert.throws(() => findMapping('nope'), /no mapping "nope"; known: online_retail, shopify_orders/);
  });
});
