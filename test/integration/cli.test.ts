import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { TEST_TOKEN_KEY } from '../support/pulse.js';

const BIN = fileURLToPath(new URL('../../../bin/pulse.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pulse-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function pulse(args: string[], env: Record<string, string> = {}) {
  const { PULSE_TOKEN_KEY: _key, ...rest } = process.env;
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...rest, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('pulse CLI', () => {
  it('prints usage with exit 2 when no command is given, and refuses an unknown command', () => {
    const none = pulse([]);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /Usage: pulse <command>/);
    const unknown = pulse(['launch']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "launch"/);
  });

  it('names the bad flag in one line', () => {
    const port = pulse(['start', '--port', '80a'], { PULSE_TOKEN_KEY: TEST_TOKEN_KEY });
    assert.equal(port.code, 2);
    assert.equal(port.stderr.trim(), 'pulse start: --port must be an integer 0–65535, got "80a"');
    const unknown = pulse(['start', '--colour', 'red']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--colour'/);
    const days = pulse(['generate', '--days', 'x']);
    assert.equal(days.code, 2);
    assert.match(days.stderr, /--days/);
  });

  it('refuses to start without a token key, or with the demo key outside --demo', () => {
    const missing = pulse(['start', '--port', '0']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /privacy\.token_key is required/);
    const demoKey = pulse(['start', '--port', '0'], {
      PULSE_TOKEN_KEY: 'pulse-demo-token-key-not-for-production',
    });
    assert.equal(demoKey.code, 2);
    assert.match(demoKey.stderr, /refused outside --demo/);
  });

  it('generates a day of NDJSON and ingests it, accounting for every line', () => {
    const file = join(dir, 'day.ndjson');
    const generated = pulse([
      'generate',
      '--days',
      '1',
      '--from',
      '2026-03-10',
      '--rate',
      '300',
      '--seed',
      '5',
      '--out',
      file,
    ]);
    assert.equal(generated.code, 0, generated.stderr);
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0);
    assert.ok(lines.length > 5_000, `only ${lines.length} events`);
    const ids = lines.map((line) => (JSON.parse(line) as { id: string }).id);
    const distinct = new Set(ids).size;
    const ingested = pulse(['ingest', file, '--db', join(dir, 'cli.duckdb')], {
      PULSE_TOKEN_KEY: TEST_TOKEN_KEY,
    });
    assert.equal(ingested.code, 0, ingested.stderr);
    const totals = JSON.parse(ingested.stdout) as {
      accepted: number;
      duplicates: number;
      quarantined: number;
    };
    assert.equal(totals.accepted + totals.duplicates + totals.quarantined, lines.length);
    assert.ok(totals.duplicates >= lines.length - distinct, 'every repeated id is a duplicate');
    assert.ok(totals.quarantined > 0, 'the generator injects invalid events by default');
    const rebuilt = pulse(['backfill', '--db', join(dir, 'cli.duckdb')], { PULSE_TOKEN_KEY: TEST_TOKEN_KEY });
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const summary = JSON.parse(rebuilt.stdout) as { bronze_events: number; models: number };
    assert.equal(summary.bronze_events, totals.accepted);
    assert.equal(summary.models, 25);
    const missing = pulse(['ingest', join(dir, 'nope.ndjson')], { PULSE_TOKEN_KEY: TEST_TOKEN_KEY });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file: .*nope\.ndjson/);
  });
});
