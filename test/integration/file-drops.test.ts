import { strict as assert } from 'node:assert';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FileReport } from '../../src/sources/index.js';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
const RETAIL_DAYS = ['2010-12-01.csv', '2011-03-28.csv', '2011-07-26.csv'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (generously: the machine is shared) for a file's report to appear in done/ or failed/. */
async function reportOf(drop: string, name: string, timeoutMs = 60_000): Promise<FileReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const folder of ['done', 'failed']) {
      const path = join(drop, folder, `${name}.report.json`);
      if (existsSync(path) && existsSync(join(drop, folder, name)))
        return JSON.parse(readFileSync(path, 'utf8')) as FileReport;
    }
    if (Date.now() > deadline) throw new Error(`no report for ${name} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function bronzeCount(pulse: TestPulse, where = 'true'): Promise<number> {
  const rows = await pulse.sql(`SELECT count(*)::INTEGER AS n FROM bronze_events WHERE ${where}`);
  return Number(rows[0]?.n);
}

describe('file drops', () => {
  it('reads a file only once complete, moves it to done/ with its report, tokenises PII, and counts it in the KPIs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-drops-'));
    const drop = join(dir, 'drop');
    const pulse = await startTestPulse({
      dir,
      files: {
        dir: drop,
        stableMs: 1500,
        pollMs: 50,
        mappings: [{ match: 'orders_export*.csv', mapping: 'shopify_orders' }],
      },
    });
    try {
      // Written under a partial name, then renamed into place: nothing is read before the rename.
      const partial = join(drop, 'orders_export_1.csv.part');
      copyFileSync(join(FIXTURES, 'shopify/orders_export_1.csv'), partial);
      await sleep(2500);
      assert.equal(existsSync(partial), true);
      assert.equal(await bronzeCount(pulse), 0);
      renameSync(partial, join(drop, 'orders_export_1.csv'));
      const report = await reportOf(drop, 'orders_export_1.csv');
      assert.equal(report.status, 'done');
      assert.equal(report.mapping, 'shopify_orders');
      assert.deepEqual(
        [report.rows_read, report.events, report.accepted, report.duplicates, report.quarantined],
        [8, 13, 12, 0, 1],
      );
      assert.equal(report.quarantined_events[0]?.id, 'shopify/order/#1006');
      assert.match(report.quarantined_events[0]?.field ?? '', /lines\[0\]\.quantity/);
      assert.deepEqual(report.quarantined_by_reason, {
        [`${report.quarantined_events[0]?.rule} data.lines[0].quantity`]: 1,
      });
      assert.ok(report.duration_ms >= 0 && report.started_at <= report.finished_at);
      assert.equal(await bronzeCount(pulse, `event_id LIKE 'shopify/%'`), 12);
      const leaked = await pulse.sql(
        `SELECT count(*)::INTEGER AS n FROM bronze_events WHERE data LIKE '%example.%' OR data LIKE '%Dupont%'`,
      );
      assert.equal(leaked[0]?.n, 0, 'emails and names never reach bronze');
      await pulse.refresh();
      // By hand: #1001 (50 − 5 − 8.16) + (12 − 1.20 − 1.96) = 45.68; #1002 59.97 − 9.58 = 50.39;
      // #1003 cancelled; #1004 (40 − 4 − 6) + (10 − 1 − 1.50) = 37.50, refund −10.00; #1005 30.00.
      const kpi = (await (
        await pulse.fetch(
          `${pulse.url}/v1/kpis/net_revenue?from=2024-03-01T00:00:00Z&to=2024-03-05T00:00:00Z`,
        )
      ).json()) as { value: string };
      assert.equal(kpi.value, '153.57');

      // A file still growing is not read until its size has been stable for stable_ms.
      const growing = join(drop, 'events.jsonl');
      const events = Array.from({ length: 12 }, (_, i) => orderEvent({ orderId: `GROW-${i}` }));
      writeFileSync(growing, `${JSON.stringify(events[0])}\n`);
      for (const event of events.slice(1)) {
        await sleep(150);
        appendFileSync(growing, `${JSON.stringify(event)}\n`);
      }
      const grown = await reportOf(drop, 'events.jsonl');
      assert.equal(grown.mapping, null);
      assert.deepEqual([grown.rows_read, grown.accepted, grown.status], [12, 12, 'done']);
    } finally {
      await pulse.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('moves bad files to failed/ with a clear report, and keeps what was accepted before a bad line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-drops-'));
    const drop = join(dir, 'drop');
    mkdirSync(drop, { recursive: true });
    const header = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
    const files: Record<string, string | Buffer> = {
      'retail-malformed.csv': `${header}\n536365,85123A,"UNTERMINATED,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n`,
      'retail-wrong-columns.csv': 'Invoice,Sku,Qty\n1,A,2\n',
      'retail-binary.csv': Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00, 0xff, 0x0a]),
      'retail-empty.csv': '',
      'retail-header-only.csv': `${header}\n`,
      'retail-huge-line.csv': `${header}\n536365,85123A,${'X'.repeat(20_000)},6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n`,
      'unmapped.csv': `${header}\n`,
      'sales.xlsx': 'not a format we read',
      'events-huge-line.jsonl': [
        JSON.stringify(orderEvent({ orderId: 'KEPT-1' })),
        JSON.stringify(orderEvent({ orderId: 'KEPT-2' })),
        JSON.stringify(orderEvent({ orderId: 'PENDING-3' })),
        `{"pad":"${'y'.repeat(20_000)}"}`,
        JSON.stringify(orderEvent({ orderId: 'AFTER-5' })),
        '',
      ].join('\n'),
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(drop, name), content);
    const pulse = await startTestPulse({
      dir,
      files: {
        dir: drop,
        stableMs: 200,
        pollMs: 50,
        batchEvents: 2,
        maxLineBytes: 8192,
        mappings: [{ match: 'retail-*.csv', mapping: 'online_retail' }],
      },
    });
    try {
      const expected: Record<string, [string, RegExp]> = {
        'retail-malformed.csv': ['PULSE_ERR_FILE_UNREADABLE', /not a readable CSV file/],
        'retail-wrong-columns.csv': [
          'PULSE_ERR_FILE_COLUMNS',
          /needs columns "InvoiceNo", "StockCode".*it has "Invoice", "Sku", "Qty"/,
        ],
        'retail-binary.csv': ['PULSE_ERR_FILE_FORMAT', /binary content/],
        'retail-empty.csv': ['PULSE_ERR_FILE_EMPTY', /empty/],
        'retail-header-only.csv': ['PULSE_ERR_FILE_EMPTY', /no rows/],
        'retail-huge-line.csv': ['PULSE_ERR_FILE_LINE_TOO_LONG', /longer than 8192 bytes/],
        'unmapped.csv': ['PULSE_ERR_FILE_NO_MAPPING', /needs a mapping/],
        'sales.xlsx': ['PULSE_ERR_FILE_FORMAT', /"\.xlsx" is not a format Pulse reads/],
        'events-huge-line.jsonl': ['PULSE_ERR_FILE_LINE_TOO_LONG', /line 4 is longer than 8192 bytes/],
      };
      for (const [name, [code, message]] of Object.entries(expected)) {
        const report = await reportOf(drop, name);
        assert.equal(report.status, 'failed', name);
        assert.equal(report.error?.code, code, `${name}: ${report.error?.message}`);
        assert.match(report.error?.message ?? '', message, name);
        assert.equal(existsSync(join(drop, name)), false, `${name} left the folder`);
      }
      // The first batch (2 events) was committed before the long line: accepted, kept, reported.
      const partial = await reportOf(drop, 'events-huge-line.jsonl');
      // Three lines were read before the fourth was found too long; the third was never sent.
      assert.deepEqual([partial.rows_read, partial.accepted, partial.events], [3, 2, 2]);
      assert.equal(await bronzeCount(pulse, `event_id IN ('evt-KEPT-1', 'evt-KEPT-2')`), 2);
      assert.equal(await bronzeCount(pulse), 2);
    } finally {
      await pulse.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('restarts mid-folder and mid-file: the rest is read, what was committed comes back only as duplicates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-drops-'));
    const drop = join(dir, 'drop');
    mkdirSync(drop, { recursive: true });
    for (const day of RETAIL_DAYS) copyFileSync(join(FIXTURES, 'online-retail', day), join(drop, day));
    const files = {
      dir: drop,
      stableMs: 100,
      pollMs: 50,
      batchEvents: 5,
      mappings: [{ match: '*.csv', mapping: 'online_retail' }],
    };
    let closing: Promise<void> | undefined;
    const first: { pulse?: TestPulse } = {};
    first.pulse = await startTestPulse({
      dir,
      files: {
        ...files,
        // Stop as soon as the second file's first batch is committed.
        onProgress: (progress) => {
          if (progress.file === RETAIL_DAYS[1] && !closing) closing = first.pulse?.close();
        },
      },
    });
    while (!closing) await sleep(50);
    await closing;
    const firstDone = await reportOf(drop, RETAIL_DAYS[0] as string);
    assert.equal(existsSync(join(drop, RETAIL_DAYS[1] as string)), true, 'the interrupted file stays');
    assert.equal(existsSync(join(drop, RETAIL_DAYS[2] as string)), true, 'the next file was not started');

    const second = await startTestPulse({ dir, files });
    try {
      const resumed = await reportOf(drop, RETAIL_DAYS[1] as string);
      const last = await reportOf(drop, RETAIL_DAYS[2] as string);
      // Hand-counted in the excerpt: accepted orders and refunds per day (stock adjustments,
      // a 3-decimal price are quarantined): 15 + 1, 15 + 2, 14 + 3 of 16, 17, 17 events.
      assert.deepEqual([firstDone.accepted, firstDone.quarantined], [15, 1]);
      assert.equal(resumed.accepted + resumed.duplicates, 15);
      assert.ok(resumed.duplicates > 0, 'the committed first batch is found again as duplicates');
      assert.equal(resumed.quarantined, 2);
      assert.deepEqual([last.accepted, last.duplicates, last.quarantined], [14, 0, 3]);
      const stored = await second.sql(
        `SELECT count(*)::INTEGER AS n, count(DISTINCT event_id)::INTEGER AS ids FROM bronze_events`,
      );
      assert.deepEqual(stored, [{ n: 44, ids: 44 }]);
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
