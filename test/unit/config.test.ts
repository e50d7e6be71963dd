import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { DEMO_TOKEN_KEY } from '../../src/privacy/index.js';
import { batchThreads, servingThreads } from '../../src/warehouse/index.js';

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
  it('switches the quality rules with quality.enabled or PULSE_QUALITY_ENABLED, refusing other values', () => {
    const key = { PULSE_TOKEN_KEY: 'a-token-key-0123456789abc' };
    assert.equal(loadConfig({}, key).quality.enabled, true);
    const off = file('quality:\n  enabled: false\n');
    assert.equal(loadConfig({ configFile: off }, key).quality.enabled, false);
    assert.equal(
      loadConfig({ configFile: off }, { ...key, PULSE_QUALITY_ENABLED: 'true' }).quality.enabled,
      true,
    );
    assert.throws(
      () => loadConfig({}, { ...key, PULSE_QUALITY_ENABLED: 'yes' }),
      /PULSE_QUALITY_ENABLED must be true or false/,
    );
    assert.throws(
      () => loadConfig({ configFile: file('quality:\n  enabled: 1\n') }, key),
      /quality\.enabled must be boolean/,
    );
    assert.throws(
      () => loadConfig({ configFile: file('quality:\n  rules: x\n') }, key),
      /quality must NOT have additional properties "rules"/,
    );
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
    assert.equal(config.warehouse.checkpointThreshold, '512MB', 'the documented default');
    assert.deepEqual(
      [config.warehouse.memoryLimit, config.warehouse.threads],
      [undefined, undefined],
      'unset: each command picks its own',
    );
    const sized = file('warehouse:\n  memory_limit: 3GB\n  checkpoint_threshold: 64MB\n  threads: 3\n');
    const fromFile = loadConfig({ configFile: sized }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }).warehouse;
    assert.deepEqual(
      [fromFile.memoryLimit, fromFile.checkpointThreshold, fromFile.threads],
      ['3GB', '64MB', 3],
    );
    assert.equal(loadConfig({ configFile: path, port: 7000 }, { PULSE_PORT: '9100' }).server.port, 7000);
  });
  it('reports every problem of a bad file at once, naming each field', () => {
    const path = file(
      'server:\n  port: "eighty"\n  colour: red\nwarehouse:\n  memory_limit: lots\n  checkpoint_threshold: 12 parsecs\n  threads: 0\nbusiness:\n  time_zone: Mars/Olympus\n',
    );
    assert.throws(
      () => loadConfig({ configFile: path }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }),
      (error: Error) => {
        assert.match(error.message, /server\.port must be integer/);
        assert.match(error.message, /must NOT have additional properties "colour"/);
        assert.match(error.message, /warehouse\.memory_limit must match pattern/);
        assert.match(error.message, /warehouse\.checkpoint_threshold must match pattern/);
        assert.match(error.message, /warehouse\.threads must be >= 1/);
        return true;
      },
    );
    const zone = file('business:\n  time_zone: Mars/Olympus\n');
    assert.throws(
      () => loadConfig({ configFile: zone }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }),
      /"Mars\/Olympus" is not a known IANA time zone/,
    );
  });

  it('says to quote a string field that YAML read as a number or a boolean', () => {
    // A generated key id is 12 hex digits: now and then all digits, or digits around one "e".
    const path = file(
      'auth:\n  keys:\n    - { id: 123456789012, name: a, sha256: "' +
        'a'.repeat(64) +
        '", roles: [read] }\n    - { id: "abcd1234", name: true, sha256: "' +
        'b'.repeat(64) +
        '", roles: [read] }\n    - { id: 12e345678901, name: c, sha256: "' +
        'c'.repeat(64) +
        '", roles: [read] }\n',
    );
    assert.throws(
      () => loadConfig({ configFile: path }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }),
      (error: Error) => {
        assert.match(
          error.message,
          /auth\.keys\.0\.id must be string \(YAML read 123456789012 as a number: put the value in quotes\)/,
        );
        assert.match(error.message, /auth\.keys\.1\.name must be string \(YAML read true as a boolean/);
        assert.match(error.message, /auth\.keys\.2\.id must be string \(YAML read it as a number: put/);
        return true;
      },
    );
    const quoted = file(
      `auth:\n  keys:\n    - { id: "123456789012", name: a, sha256: "${'a'.repeat(64)}", roles: [read] }\n`,
    );
    const config = loadConfig({ configFile: quoted }, { PULSE_TOKEN_KEY: 'k'.repeat(20) });
    assert.equal(config.apiKeys[0]?.id, '123456789012');
  });
  it('reads sources.files with its defaults, and names every bad key of it', () => {
    const good = file(
      'sources:\n  files:\n    dir: /var/drop\n    mappings:\n      - { match: "orders_export*.csv", mapping: shopify_orders }\n    stable_ms: 2000\n',
    );
    const config = loadConfig({ configFile: good }, { PULSE_TOKEN_KEY: 'k'.repeat(20) });
    assert.deepEqual(config.sources.files, {
      dir: '/var/drop',
      mappings: [{ match: 'orders_export*.csv', mapping: 'shopify_orders' }],
      stableMs: 2000,
      pollMs: 500,
      batchEvents: 5000,
      maxLineBytes: 1048576,
    });
    assert.equal(loadConfig({}, { PULSE_TOKEN_KEY: 'k'.repeat(20) }).sources.files, undefined);
    const unknown = file(
      'sources:\n  files:\n    dir: /var/drop\n    mappings:\n      - { match: "*.csv", mapping: sap_export }\n',
    );
    assert.throws(
      () => loadConfig({ configFile: unknown }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }),
      /sources\.files\.mappings\.0\.mapping: no mapping "sap_export"; known: online_retail, shopify_orders/,
    );
    const bad = file(
      'sources:\n  files:\n    stable_ms: -1\n    batch_events: lots\n    mappings:\n      - { match: "../*.csv", mapping: online_retail }\n',
    );
    assert.throws(
      () => loadConfig({ configFile: bad }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }),
      (error: Error) => {
        assert.match(error.message, /sources\.files must have required property 'dir'/);
        assert.match(error.message, /sources\.files\.stable_ms must be >= 0/);
        assert.match(error.message, /sources\.files\.batch_events must be integer/);
        assert.match(error.message, /sources\.files\.mappings\.0\.match must match pattern/);
        return true;
      },
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
  it('lowers the background threads to nice 10 unless told otherwise, and names a bad value', () => {
    const key = { PULSE_TOKEN_KEY: 'k'.repeat(20) };
    assert.equal(loadConfig({}, key).server.backgroundNice, 10);
    assert.equal(loadConfig({}, { ...key, PULSE_BACKGROUND_NICE: '0' }).server.backgroundNice, 0);
    assert.equal(
      loadConfig({ configFile: file('server: { background_nice: 5 }\n') }, key).server.backgroundNice,
      5,
    );
    assert.throws(
      () => loadConfig({}, { ...key, PULSE_BACKGROUND_NICE: '20' }),
      /PULSE_BACKGROUND_NICE must be 0–19, got 20/,
    );
    assert.throws(
      () => loadConfig({}, { ...key, PULSE_BACKGROUND_NICE: '-1' }),
      /PULSE_BACKGROUND_NICE must be a whole number, got "-1"/,
    );
    assert.throws(
      () => loadConfig({ configFile: file('server: { background_nice: high }\n') }, key),
      /server\.background_nice must be integer/,
    );
  });
  it('reads the lineage and orchestrator keys, and names each bad one', () => {
    const good = file(
      'lineage:\n  openlineage_file: ol.ndjson\n  openlineage_url: http://marquez:5000/api/v1/lineage\norchestrator:\n  refresh_sla_ms: 2000\n  retry_backoff_ms: [100, 500]\n  jobs:\n    - { name: kpis_2m, kpis: [net_revenue], every: PT2M, sla_ms: 30000 }\n',
    );
    const config = loadConfig({ configFile: good }, { PULSE_TOKEN_KEY: 'k'.repeat(20) });
    assert.deepEqual(config.lineage, {
      file: 'ol.ndjson',
      url: 'http://marquez:5000/api/v1/lineage',
      namespace: 'pulse',
    });
    assert.deepEqual(config.orchestrator, {
      refreshSlaMs: 2000,
      retryBackoffMs: [100, 500],
      jobs: [{ name: 'kpis_2m', kpis: ['net_revenue'], everyMs: 120_000, slaMs: 30000 }],
    });
    const bad = file(
      'lineage:\n  openlineage_url: "ftp://x"\norchestrator:\n  refresh_sla_ms: -5\n  jobs:\n    - { name: "Bad Name", every: 2m }\n',
    );
    assert.throws(
      () => loadConfig({ configFile: bad }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }),
      (error: Error) => {
        assert.match(error.message, /lineage\.openlineage_url must match pattern/);
        assert.match(error.message, /orchestrator\.refresh_sla_ms must be >= 1/);
        assert.match(error.message, /orchestrator\.jobs\.0\.name must match pattern/);
        assert.match(error.message, /orchestrator\.jobs\.0\.every must match pattern/);
        return true;
      },
    );
    const tooOften = file('orchestrator:\n  jobs:\n    - { name: j, every: PT0S }\n');
    assert.throws(
      () => loadConfig({ configFile: tooOften }, { PULSE_TOKEN_KEY: 'k'.repeat(20) }),
      /orchestrator\.jobs\.j\.every must be at least PT1S/,
    );
  });
});

describe('DuckDB threads by default', () => {
  it('gives a serving process half the cores and a batch command every core, one at least', () => {
    assert.deepEqual(
      [1, 2, 3, 8].map((cores) => [servingThreads(cores), batchThreads(cores)]),
      [
        [1, 1],
        [1, 2],
        [1, 3],
        [4, 8],
      ],
    );
  });
});

describe('configuration of JWTs, differential privacy and telemetry', () => {
  const env = { PULSE_TOKEN_KEY: 'k'.repeat(20) };
  it('is off by default, with the documented privacy defaults', () => {
    const config = loadConfig({}, env);
    assert.equal(config.jwt, undefined);
    assert.equal(config.telemetry.otlpEndpoint, undefined);
    assert.deepEqual(config.dp, {
      epsilonPerQuery: 0.5,
      dailyBudgetPerKey: 5,
      minCellCount: 10,
      exactRoles: ['admin'],
    });
  });
  it('reads auth.jwt, privacy.dp and telemetry from the file, and the endpoint from the environment', () => {
    const jwks = file('{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"}]}');
    const path = file(
      [
        'auth:',
        '  jwt:',
        `    jwks_file: ${jwks}`,
        '    issuer: https://idp.example/',
        '    audience: pulse',
        '    seller_claim: seller',
        '    algorithms: [ES256]',
        'privacy:',
        '  dp:',
        '    epsilon_per_query: 0.25',
        '    daily_budget_per_key: 2',
        '    min_cell_count: 25',
        '    exact_roles: [admin, read]',
        'telemetry:',
        '  otlp_endpoint: http://collector:4318/v1/traces',
      ].join('\n'),
    );
    const config = loadConfig({ configFile: path }, env);
    assert.deepEqual(config.jwt, {
      jwksFile: jwks,
      issuer: 'https://idp.example/',
      audience: 'pulse',
      rolesClaim: 'roles',
      sellerClaim: 'seller',
      algorithms: ['ES256'],
      clockToleranceS: 5,
    });
    assert.deepEqual(config.dp, {
      epsilonPerQuery: 0.25,
      dailyBudgetPerKey: 2,
      minCellCount: 25,
      exactRoles: ['admin', 'read'],
    });
    assert.equal(config.telemetry.otlpEndpoint, 'http://collector:4318/v1/traces');
    const overridden = loadConfig(
      { configFile: path },
      { ...env, PULSE_OTLP_ENDPOINT: 'https://otel.example/v1/traces' },
    );
    assert.equal(overridden.telemetry.otlpEndpoint, 'https://otel.example/v1/traces');
  });
  it('names every bad JWT, privacy and telemetry setting', () => {
    const noSource = file('auth:\n  jwt:\n    issuer: x\n    audience: y\n');
    assert.throws(
      () => loadConfig({ configFile: noSource }, env),
      /auth\.jwt needs exactly one of jwks_url or jwks_file/,
    );
    const both = file(
      'auth:\n  jwt:\n    jwks_url: https://a/jwks\n    jwks_file: /x\n    issuer: x\n    audience: y\n',
    );
    assert.throws(() => loadConfig({ configFile: both }, env), /exactly one of jwks_url or jwks_file/);
    const hs = file(
      'auth:\n  jwt:\n    jwks_url: https://a/jwks\n    issuer: x\n    audience: y\n    algorithms: [HS256]\n',
    );
    assert.throws(
      () => loadConfig({ configFile: hs }, env),
      /auth\.jwt\.algorithms\.0 must be equal to one of the allowed values/,
    );
    const noIssuer = file('auth:\n  jwt:\n    jwks_url: https://a/jwks\n    audience: y\n');
    assert.throws(() => loadConfig({ configFile: noIssuer }, env), /must have required property 'issuer'/);
    const ftp = file('auth:\n  jwt:\n    jwks_url: ftp://a/jwks\n    issuer: x\n    audience: y\n');
    assert.throws(() => loadConfig({ configFile: ftp }, env), /auth\.jwt\.jwks_url must match pattern/);
    const missing = file(
      `auth:\n  jwt:\n    jwks_file: ${join(dir, 'nope.json')}\n    issuer: x\n    audience: y\n`,
    );
    assert.throws(() => loadConfig({ configFile: missing }, env), /jwks_file ".*nope\.json" does not exist/);
    const notJson = file(
      `auth:\n  jwt:\n    jwks_file: ${file('not json')}\n    issuer: x\n    audience: y\n`,
    );
    assert.throws(() => loadConfig({ configFile: notJson }, env), /jwks_file ".*" is not JSON/);
    const noKeys = file(
      `auth:\n  jwt:\n    jwks_file: ${file('{"keys":[]}')}\n    issuer: x\n    audience: y\n`,
    );
    assert.throws(() => loadConfig({ configFile: noKeys }, env), /has no "keys" array/);
    const dp = file(
      'privacy:\n  dp:\n    epsilon_per_query: 0\n    daily_budget_per_key: "lots"\n    min_cell_count: -1\n    exact_roles: [seller]\n',
    );
    assert.throws(
      () => loadConfig({ configFile: dp }, env),
      (error: Error) => {
        assert.match(error.message, /privacy\.dp\.epsilon_per_query must be > 0/);
        assert.match(error.message, /privacy\.dp\.daily_budget_per_key must be number/);
        assert.match(error.message, /privacy\.dp\.min_cell_count must be >= 0/);
        assert.match(error.message, /privacy\.dp\.exact_roles\.0 must be equal to one of the allowed values/);
        return true;
      },
    );
    const overspent = file('privacy:\n  dp:\n    epsilon_per_query: 2\n    daily_budget_per_key: 1\n');
    assert.throws(
      () => loadConfig({ configFile: overspent }, env),
      /epsilon_per_query must not exceed privacy\.dp\.daily_budget_per_key/,
    );
    const endpoint = file('telemetry:\n  otlp_endpoint: collector:4318\n');
    assert.throws(
      () => loadConfig({ configFile: endpoint }, env),
      /telemetry\.otlp_endpoint must match pattern/,
    );
    assert.throws(
      () => loadConfig({}, { ...env, PULSE_OTLP_ENDPOINT: 'not a url' }),
      /telemetry\.otlp_endpoint must be an http\(s\) URL, got "not a url"/,
    );
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
