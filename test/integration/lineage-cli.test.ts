import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { loadModels, ModelRunner } from '../../src/models/index.js';
import { openWarehouse, queryRows } from '../../src/warehouse/index.js';
import { TEST_TOKEN_KEY } from '../support/pulse.js';

const BIN = fileURLToPath(new URL('../../../bin/pulse.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pulse-lineage-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function pulse(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, PULSE_TOKEN_KEY: TEST_TOKEN_KEY },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('pulse lineage', () => {
  it('lists what is downstream of a column', () => {
    const result = pulse(['lineage', 'silver_order_lines.discount']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      'downstream of silver_order_lines.discount: 1 nodes\ncolumns:\n  fact_order.discount\n',
    );
  });

  it('lists the contract fields upstream of a KPI, as JSON', () => {
    const result = pulse(['lineage', 'conversion_rate', '--upstream', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const answer = JSON.parse(result.stdout) as { contractFields: string[]; kpis: string[] };
    // The counts, and by loyalty tier and segment (the customer's version at the session: an ASOF join
    // on the customer token to dim_customer, built from customer.upserted).
    assert.deepEqual(answer.contractFields, [
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
  });

  it('prints the glossary', () => {
    const result = pulse(['lineage', '--glossary']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^net_revenue \(kpi\): Net Revenue$/m);
    assert.match(result.stdout, /^net_revenue\.refunds \(component\)/m);
  });

  it('names the problem with its input', () => {
    const none = pulse(['lineage']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give exactly one NODE/);
    const unknown = pulse(['lineage', 'silver_orders.discount']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /node "silver_orders\.discount" is neither/);
    const flag = pulse(['lineage', 'net_revenue', '--sideways']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--sideways/);
  });
});

describe('pulse retry and pulse backfill --from --to', () => {
  const db = join(dir, 'backfill.duckdb');

  it('refuses a missing or malformed RUN_ID', () => {
    const none = pulse(['retry', '--db', db]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /RUN_ID/);
    const bad = pulse(['retry', "x'; DROP TABLE pulse_runs; --", '--db', db]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /is not a run id/);
  });

  it('refuses bad dates, naming the flag', () => {
    for (const [args, pattern] of [
      [['--from', '2026-02-30', '--to', '2026-03-02'], /--from must be a date YYYY-MM-DD/],
      [['--from', '2026-03-01'], /--to is required with --from/],
      [['--from', '2026-03-05', '--to', '2026-03-01'], /--to \(2026-03-01\) must be after --from/],
    ] as const) {
      const result = pulse(['backfill', ...args, '--db', db]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, pattern);
    }
  });

  it('replays day by day with progress, ending where a full rebuild ends', async () => {
    const file = join(dir, 'days.ndjson');
    const generated = pulse([
      'generate',
      '--days',
      '3',
      '--from',
      '2026-03-10',
      '--rate',
      '150',
      '--seed',
      '9',
      '--out',
      file,
    ]);
    assert.equal(generated.code, 0, generated.stderr);
    const ingested = pulse(['ingest', file, '--db', db]);
    assert.equal(ingested.code, 0, ingested.stderr);
    const backfill = pulse(['backfill', '--from', '2026-03-11', '--to', '2026-03-13', '--db', db]);
    assert.equal(backfill.code, 0, backfill.stderr);
    // Not a terminal: one plain line per step (the rebuild before the first day, then each day).
    const steps = backfill.stderr.split('\n').filter((line) => line.startsWith('backfill '));
    assert.deepEqual(
      steps.map((line) => line.split(':')[0]),
      ['backfill 1/3 rebuild before the first day', 'backfill 2/3 2026-03-11', 'backfill 3/3 2026-03-12'],
    );
    for (const line of steps) assert.ok(Number(/: (\d+) rows/.exec(line)?.[1]) > 0, `${line} did some work`);
    const warehouse = await openWarehouse({ path: db });
    try {
      const runs = await queryRows(
        warehouse.reader,
        `SELECT count(*)::INTEGER AS n FROM pulse_runs WHERE trigger = 'backfill' AND status = 'success'`,
      );
      assert.ok(Number(runs[0]?.n) >= 2);
      const tables = ['silver_orders', 'fact_order', 'fact_refund', 'fact_shipment', 'fact_session'];
      for (const table of tables) {
        await warehouse.reader.run(
          `CREATE TABLE kept_${table} AS SELECT * EXCLUDE (_updated_seq) FROM ${table}`,
        );
      }
      // The days after --to are not replayed yet: the reference is bronze up to the same bound.
      const [last] = await queryRows(
        warehouse.reader,
        `SELECT watermark_to::VARCHAR AS hi FROM pulse_runs WHERE trigger = 'backfill' ORDER BY started_at DESC LIMIT 1`,
      );
      await new ModelRunner(warehouse.modeller, loadModels()).run({
        full: true,
        upTo: BigInt(String(last?.hi)),
      });
      for (const table of tables) {
        const [diff] = await queryRows(
          warehouse.reader,
          `SELECT (SELECT count(*) FROM (SELECT * EXCLUDE (_updated_seq) FROM ${table} EXCEPT ALL SELECT * FROM kept_${table}))::INTEGER
                + (SELECT count(*) FROM (SELECT * FROM kept_${table} EXCEPT ALL SELECT * EXCLUDE (_updated_seq) FROM ${table}))::INTEGER AS n,
                  (SELECT count(*) FROM ${table})::INTEGER AS rows`,
        );
        assert.equal(diff?.n, 0, table);
        if (table === 'fact_order') assert.ok(Number(diff?.rows) > 0);
      }
    } finally {
      await warehouse.close();
    }
  });

  it('leaves the models as they were when a run is SIGKILLed midway, and a rerun ends where it would have', async () => {
    const tables = ['silver_orders', 'fact_order', 'fact_refund', 'fact_shipment'];
    assert.equal(pulse(['run', '--db', db]).code, 0);
    let warehouse = await openWarehouse({ path: db });
    try {
      for (const table of tables) {
        await warehouse.reader.run(
          `CREATE OR REPLACE TABLE before_${table} AS SELECT * EXCLUDE (_updated_seq) FROM ${table}`,
        );
      }
    } finally {
      await warehouse.close();
    }
    // The OpenLineage file shows how far the run got: START per model as it runs, COMPLETE only after COMMIT.
    const events = join(dir, 'killed.ndjson');
    const child = spawn(process.execPath, [BIN, 'backfill', '--db', db], {
      cwd: dir,
      env: { ...process.env, PULSE_TOKEN_KEY: TEST_TOKEN_KEY, PULSE_OPENLINEAGE_FILE: events },
      stdio: 'ignore',
    });
    const exited = new Promise<string>((done) =>
      child.on('exit', (code, signal) => done(`${code}/${signal}`)),
    );
    const reached = (): boolean =>
      existsSync(events) && readFileSync(events, 'utf8').includes('"name":"main.silver_orders"');
    const deadline = Date.now() + 240_000;
    while (!reached() && child.exitCode === null && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 10));
    }
    assert.ok(reached(), 'the run reached silver_orders before the test gave up');
    child.kill('SIGKILL');
    assert.equal(await exited, 'null/SIGKILL');
    const seen = readFileSync(events, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { eventType: string });
    assert.ok(seen.some((event) => event.eventType === 'START'));
    assert.ok(!seen.some((event) => event.eventType === 'COMPLETE'), 'killed before its COMMIT');
    const same = async (): Promise<void> => {
      warehouse = await openWarehouse({ path: db });
      try {
        for (const table of tables) {
          const [diff] = await queryRows(
            warehouse.reader,
            `SELECT (SELECT count(*) FROM (SELECT * EXCLUDE (_updated_seq) FROM ${table} EXCEPT ALL SELECT * FROM before_${table}))::INTEGER
                  + (SELECT count(*) FROM (SELECT * FROM before_${table} EXCEPT ALL SELECT * EXCLUDE (_updated_seq) FROM ${table}))::INTEGER AS n`,
          );
          assert.equal(diff?.n, 0, table);
        }
      } finally {
        await warehouse.close();
      }
    };
    await same();
    const rerun = pulse(['backfill', '--db', db]);
    assert.equal(rerun.code, 0, rerun.stderr);
    await same();
  });
});
