import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { FileReport } from '../../src/sources/index.js';
import { orderEvent, startTestPulse, TEST_TOKEN_KEY } from '../support/pulse.js';

const BIN = fileURLToPath(new URL('../../../bin/pulse.js', import.meta.url));
const EXCERPT = fileURLToPath(new URL('../fixtures/online-retail/', import.meta.url));
const DAYS = ['2010-12-01', '2011-03-28', '2011-07-26'];
const dir = mkdtempSync(join(tmpdir(), 'pulse-retail-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, 'load', ...args], {
    cwd: dir,
    env: { ...process.env, PULSE_TOKEN_KEY: TEST_TOKEN_KEY },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function dropExcerpt(folder: string): void {
  mkdirSync(folder, { recursive: true });
  for (const day of DAYS) copyFileSync(join(EXCERPT, `${day}.csv`), join(folder, `${day}.csv`));
}

/** GBP rates for every hour of the three days but one per day (that hour uses the hour before). */
function gbpRates(): { hour: string; rate: string }[] {
  const missing = new Set(['2010-12-01T10', '2011-03-28T12', '2011-07-26T09']);
  const rates: { hour: string; rate: string }[] = [];
  for (const [d, day] of DAYS.entries()) {
    for (let h = 0; h < 24; h += 1) {
      const hour = `${day}T${String(h).padStart(2, '0')}`;
      if (missing.has(hour)) continue;
      rates.push({ hour: `${hour}:00:00Z`, rate: (1.1 + (d * 24 + h) * 0.0037).toFixed(4) });
    }
  }
  return rates;
}

/**
 * Net Revenue straight from the CSV excerpt, by the mapping's rules: an invoice counts when all its
 * lines have a quantity ≥ 1 and a price ≥ 0 with at most 2 decimals (else its contract quarantines
 * it); a 'C' invoice refunds Σ −quantity × price. With rates, each line converts at the rate of
 * its UTC hour, or the latest earlier one.
 */
async function expectedNetRevenue(rates?: { hour: string; rate: string }[]): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const files = DAYS.map((day) => `'${join(EXCERPT, `${day}.csv`)}'`).join(', ');
  await db.run(`SET TimeZone = 'UTC'`);
  await db.run(
    `CREATE TABLE rates (hour TIMESTAMPTZ, rate DECIMAL(18, 10)); ${
      rates ? `INSERT INTO rates VALUES ${rates.map((r) => `('${r.hour}', ${r.rate})`).join(', ')}` : ''
    }`,
  );
  const factor = rates
    ? `(SELECT rate FROM rates WHERE rates.hour <= timezone('Europe/London', InvoiceDate::TIMESTAMP) ORDER BY rates.hour DESC LIMIT 1)`
    : '1';
  const reader = await db.runAndReadAll(`
    WITH s AS (SELECT * FROM read_csv([${files}], all_varchar = true, header = true)),
    invoices AS (
      SELECT InvoiceNo,
             bool_and(Quantity::INTEGER >= 1 AND UnitPrice::DECIMAL(18, 3) >= 0 AND NOT regexp_matches(UnitPrice, '\\.\\d{3}')) AS valid,
             sum(Quantity::INTEGER * UnitPrice::DECIMAL(18, 3) * ${factor}) AS net
      FROM s WHERE NOT starts_with(InvoiceNo, 'C') GROUP BY InvoiceNo),
    cancellations AS (
      SELECT InvoiceNo, sum(-Quantity::INTEGER * UnitPrice::DECIMAL(18, 3)) AS gbp,
             sum(-Quantity::INTEGER * UnitPrice::DECIMAL(18, 3) * ${factor}) AS amount
      FROM s WHERE starts_with(InvoiceNo, 'C') GROUP BY InvoiceNo)
    SELECT round((SELECT sum(net) FROM invoices WHERE valid)
                 - (SELECT sum(amount) FROM cancellations WHERE gbp > 0 AND gbp = round(gbp, 2)), 2)::VARCHAR AS v`);
  const value = String(reader.getRowObjectsJson()[0]?.v);
  db.closeSync();
  instance.closeSync();
  return value;
}

describe('the Online Retail excerpt end to end', () => {
  it('pulse load maps it, moves each file with its report; Net Revenue in GBP is exactly the CSV sum', async () => {
    const drop = join(dir, 'drop');
    dropExcerpt(drop);
    const db = join(dir, 'pulse.duckdb');
    const first = load([drop, '--mapping', 'online_retail', '--db', db, '--batch', '7']);
    assert.equal(first.code, 0, first.stderr);
    // 312 rows, 50 invoices; the quarantined ones are stock adjustments and a price of 0.001.
    assert.deepEqual(JSON.parse(first.stdout), {
      files: 3,
      failed: 0,
      rows_read: 312,
      events: 50,
      accepted: 44,
      duplicates: 0,
      quarantined: 6,
    });
    assert.match(
      first.stderr,
      /2010-12-01\.csv: 100% \(16\/16 events\)/,
      'plain progress lines off a terminal',
    );
    for (const day of DAYS) {
      assert.equal(existsSync(join(drop, 'done', `${day}.csv`)), true);
      const report = JSON.parse(
        readFileSync(join(drop, 'done', `${day}.csv.report.json`), 'utf8'),
      ) as FileReport;
      assert.equal(report.status, 'done');
      assert.equal(report.quarantined_events.length, report.quarantined);
    }

    // Loading the same files again finds only duplicates.
    const again = join(dir, 'again');
    dropExcerpt(again);
    const second = load([again, '--mapping', 'online_retail', '--db', db]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(
      (({ accepted, duplicates }) => ({ accepted, duplicates }))(
        JSON.parse(second.stdout) as Record<string, number>,
      ),
      { accepted: 0, duplicates: 44 },
    );

    const pulse = await startTestPulse({ dir });
    try {
      const window = 'from=2010-12-01T00:00:00Z&to=2011-07-27T00:00:00Z';
      const unknown = await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${window}&currency=XYZ`);
      assert.equal(unknown.status, 400);
      assert.equal(((await unknown.json()) as { error: { field: string } }).error.field, 'currency');
      const noRates = await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${window}&currency=GBP`);
      assert.equal(noRates.status, 400);
      const body = (await noRates.json()) as { error: { field: string; message: string } };
      assert.equal(body.error.field, 'currency');
      assert.match(body.error.message, /GBP has no FX rates/);

      const rates = gbpRates();
      const fx = rates.map((r) => ({
        specversion: '1.0',
        id: `fx-GBP-${r.hour}`,
        source: '/treasury',
        type: 'fx.rate',
        time: r.hour,
        data: { currency: 'GBP', hour: r.hour, rate_to_eur: Number(r.rate) },
      }));
      // One order in EUR, net 2 × 51.00 − 2.00 tax = 100.00, placed at 10:30 UTC on 2010-12-01,
      // an hour with no GBP rate: it converts at 09:00's, 1.1333 (1.1 + 9 × 0.0037).
      const eurOrder = orderEvent({
        orderId: 'EUR-1',
        placedAt: '2010-12-01T10:30:00Z',
        quantity: 2,
        unitPrice: 51,
      });
      const posted = await pulse.post(
        JSON.stringify([...fx, eurOrder]),
        'application/cloudevents-batch+json',
      );
      assert.equal(posted.body.accepted, rates.length + 1);
      await pulse.refresh();

      const gbp = (await (
        await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${window}&currency=GBP`)
      ).json()) as { value: string; unit: string };
      assert.equal(gbp.unit, 'GBP');
      // The GBP lines come back exactly (4359.75: the same rules summed once by hand with Python's
      // Decimal); the EUR order adds 100 ÷ 1.1333 = 88.2378…, rounded once on the total.
      assert.equal(await expectedNetRevenue(), '4359.75');
      assert.equal(gbp.value, '4447.99');
      const eur = (await (await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${window}`)).json()) as {
        value: string;
        unit: string;
      };
      assert.equal(eur.unit, 'EUR');
      assert.equal(eur.value, (Number(await expectedNetRevenue(rates)) + 100).toFixed(2));
      assert.notEqual(eur.value, gbp.value);
      // The list answers the same.
      const all = (await (await pulse.fetch(`${pulse.url}/v1/kpis?${window}&currency=GBP`)).json()) as {
        kpis: { id: string; value: string }[];
      };
      assert.equal(all.kpis.find((k) => k.id === 'net_revenue')?.value, gbp.value);
      const usd = await pulse.fetch(`${pulse.url}/v1/kpis/net_revenue?${window}&currency=USD`);
      assert.equal(usd.status, 400);
    } finally {
      await pulse.close();
    }
  });
});
