import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { TEST_TOKEN_KEY } from '../support/pulse.js';
import { order } from '../support/quality.js';

const BIN = fileURLToPath(new URL('../../../bin/pulse.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pulse-quality-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function pulse(args: string[]) {
  const result = spawnSync(
    process.execPath,
    [
      BIN,
      ...args,
      ...(args[0] === 'quality' || args[0] === 'remediate' || args[0] === 'ingest'
        ? ['--db', join(dir, 'q.duckdb')]
        : []),
    ],
    {
      cwd: dir,
      env: { ...process.env, PULSE_TOKEN_KEY: TEST_TOKEN_KEY },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('pulse quality and pulse remediate', () => {
  it('refuses bad flags naming them', () => {
    assert.match(pulse(['quality', '--severity', 'fatal']).stderr, /--severity must be warn or error/);
    assert.match(pulse(['quality', '--day', 'monday']).stderr, /--day must be YYYY-MM-DD/);
    assert.match(pulse(['quality', '--colour']).stderr, /Unknown option '--colour'/);
    assert.equal(pulse(['remediate']).code, 2);
    assert.match(pulse(['remediate', '--id', 'x']).stderr, /--id must be a quarantine id/);
    assert.match(pulse(['remediate', '--id', '1', '--set', 'nopath']).stderr, /--set takes PATH=VALUE/);
    assert.match(pulse(['remediate', '--id', '1', '--set', 'a..b=1']).stderr, /not a dotted path/);
    const convert = pulse(['remediate', '--id', '1', '--convert', 'data.x=float']);
    assert.equal(convert.code, 2);
    assert.match(convert.stderr, /--convert "data\.x": "float" is not one of number/);
    assert.match(
      pulse(['remediate', '--id', '1', '--map', 'data.x={nope']).stderr,
      /--map data\.x= takes a JSON object/,
    );
    assert.match(
      pulse(['remediate', '--id', '1', '--map', 'data.x=[1]']).stderr,
      /--map "data\.x" must be an object/,
    );
  });

  it('scores the rules, and replays a corrected quarantined event', () => {
    const file = join(dir, 'events.ndjson');
    const lines = [
      order('C-1', { id: 'evt-dup-a' }),
      order('C-1', { id: 'evt-dup-b' }), // the same order twice: a uniqueness error
      order('C-2'),
      order('C-BAD', { quantity: 0 }),
    ];
    writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n'));
    const ingested = pulse(['ingest', file]);
    assert.equal(ingested.code, 0, ingested.stderr);

    const table = pulse(['quality', '--run', '--table', 'silver_orders']);
    assert.equal(table.code, 1, 'an error rule fails: exit 1');
    assert.match(table.stdout, /error\s+fail\s+50\.00%\s+\d+\s+silver_orders\.order_id\.unique/);
    assert.match(table.stdout, /HELD net_revenue: .*silver_orders\.order_id\.unique/);

    const json = JSON.parse(
      pulse(['quality', '--json', '--rule', 'silver_orders.order_id.unique']).stdout,
    ) as {
      scorecard: { rule: string; failed: number; checked: number; failing_sample: unknown[] }[];
    };
    assert.equal(json.scorecard.length, 1);
    assert.deepEqual(json.scorecard[0]?.failing_sample, [{ order_id: 'C-1' }]);

    const listed = pulse(['remediate', '--list', '--json']);
    const entries = JSON.parse(listed.stdout) as { id: number; field: string }[];
    assert.deepEqual(
      entries.map((e) => e.field),
      ['data.lines[0].quantity'],
    );
    const replayed = pulse([
      'remediate',
      '--field',
      'data.lines[0].quantity',
      '--set',
      'data.lines[0].quantity=4',
      '--json',
    ]);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.equal((JSON.parse(replayed.stdout) as { accepted: number }).accepted, 1);
    assert.equal(pulse(['remediate', '--list', '--json']).stdout.trim(), '[]');
  });
});
