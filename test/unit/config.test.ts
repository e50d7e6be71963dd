import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { DEMO_TOKEN_KEY } from '../../src/privacy/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pulse-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return path;
}

describe('configuration', () => {
  it('refuses to start without a token key outside --demo', () => {
    assert.throws(() => loadConfig({}, {}), /privacy\.token_key is required/);
  });
  it('refuses the built-in demo key outside --demo, and accepts it with --demo', () => {
    assert.throws(
      () => loadConfig({}, { PULSE_TOKEN_KEY: DEMO_TOKEN_KEY }),
      /demo key, which is refused outside --demo/,
    );
    assert.equal(loadConfig({ demo: true }, {}).privacy.tokenKey, DEMO_TOKEN_KEY);
  });
  it('layers defaults, file, environment and flags', () => {
    const path = file(
      'server:\n  port: 9000\n  host: 0.0.0.0\nprivacy:\n  token_key: from-the-file-0123456789\nbusiness:\n  time_zone: Asia/Dubai\n',
    );
    const config = loadConfig({ configFile: path, dbPath: 'x.duckdb' }, { PULSE_PORT: '9100' });
    assert.equal(config.server.port, 9100);
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.privacy.tokenKey, 'from-the-file-0123456789');
    assert.equal(config.business.timeZone, 'Asia/Dubai');
    assert.equal(config.warehouse.path, 'x.duckdb');
    assert.equal(loadConfig({ configFile: path, port: 7000 }, { PULSE_PORT: '9100' }).server.port, 7000);
  });
  it('reports every problem of a bad file at once, naming each field', () => {
    const path = file(
      'server:\n  port: "eighty"\n  colour: red\nwarehouse:\n  memory_limit: lots\nbusiness:\n  time_zone: Mars/Olympus\n',
    );
    assert.throws(
      () => loadConfig({ configFile: path }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }),
      (error: Error) => {
        assert.match(error.message, /server\.port must be integer/);
        assert.match(error.message, /must NOT have additional properties "colour"/);
        assert.match(error.message, /warehouse\.memory_limit must match pattern/);
        return true;
      },
    );
    const zone = file('business:\n  time_zone: Mars/Olympus\n');
    assert.throws(
      () => loadConfig({ configFile: zone }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }),
      /"Mars\/Olympus" is not a known IANA time zone/,
    );
  });
  it('names a bad environment value and an unreadable file', () => {
    assert.throws(
      () => loadConfig({}, { PULSE_TOKEN_KEY: 'k'.repeat(20), PULSE_PORT: '80a' }),
      /PULSE_PORT must be a whole number, got "80a"/,
    );
    assert.throws(
      () => loadConfig({ configFile: file('server: [unclosed') }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }),
      /c.*\.yaml: /,
    );
    assert.throws(() => loadConfig({}, { PULSE_TOKEN_KEY: 'short' }), /at least 16 characters/);
  });
});

describe('configuration: limits', () => {
  it('reads limits.rate_per_key and limits.rate_window_ms, with defaults', () => {
    const env = { PULSE_TOKEN_KEY: 'limits-token-key-0123456789' };
    const defaults = loadConfig({}, env).limits;
    assert.deepEqual(defaults, { ratePerKey: 6000, rateWindowMs: 60000 });
    const path = file('limits:\n  rate_per_key: 50\n  rate_window_ms: 1000\n');
    assert.deepEqual(loadConfig({ configFile: path }, env).limits, { ratePerKey: 50, rateWindowMs: 1000 });
  });
  it('names the field of a wrong limit', () => {
    const env = { PULSE_TOKEN_KEY: 'limits-token-key-0123456789' };
    assert.throws(
      () => loadConfig({ configFile: file('limits:\n  rate_per_key: 0\n') }, env),
      /limits\.rate_per_key must be >= 1/,
    );
    assert.throws(
      () => loadConfig({ configFile: file('limits:\n  rate_window_ms: "1s"\n') }, env),
      /limits\.rate_window_ms must be integer/,
    );
    assert.throws(
      () => loadConfig({ configFile: file('limits:\n  rate: 5\n') }, env),
      /limits must NOT have additional properties "rate"/,
    );
  });
});
