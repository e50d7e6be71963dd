import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pulse-nats-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const KEY = { PULSE_TOKEN_KEY: 'nats-config-key-0123456789' };

function file(text: string): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return path;
}

describe('sources.nats and gateway configuration', () => {
  it('has defaults for a single local server', () => {
    const config = loadConfig({}, KEY);
    assert.deepEqual(config.sources.nats, {
      servers: ['nats://127.0.0.1:4222'],
      stream: 'PULSE_EVENTS',
      subjects: ['pulse.events.>'],
      durable: 'pulse-worker',
      batch: 500,
      maxAckPending: 2000,
      ackWaitMs: 30000,
      nakDelayMs: 1000,
      createStream: true,
      replicas: 1,
    });
    assert.deepEqual(config.gateway, { subjectPrefix: 'pulse.events', publishTimeoutMs: 5000 });
  });

  it('reads the file and PULSE_NATS_SERVERS', () => {
    const path = file(
      'sources:\n  nats:\n    servers: [nats://a:4222]\n    stream: ORDERS\n    subjects: [shop.>]\n    durable: w1\n    batch: 100\n    replicas: 3\ngateway:\n  subject_prefix: shop\n',
    );
    const config = loadConfig(
      { configFile: path },
      { ...KEY, PULSE_NATS_SERVERS: 'nats://n1:4222, nats://n2:4222' },
    );
    assert.deepEqual(config.sources.nats.servers, ['nats://n1:4222', 'nats://n2:4222']);
    assert.equal(config.sources.nats.stream, 'ORDERS');
    assert.equal(config.sources.nats.batch, 100);
    // max_ack_pending defaults to max(2000, 4 × batch).
    assert.equal(config.sources.nats.maxAckPending, 2000);
    assert.equal(config.sources.nats.replicas, 3);
    assert.equal(config.gateway.subjectPrefix, 'shop');
  });

  it('names each bad field', () => {
    const path = file(
      'sources:\n  nats:\n    servers: [http://x]\n    stream: "a b"\n    batch: 0\n    replicas: 9\n    surprise: 1\ngateway:\n  publish_timeout_ms: "soon"\n',
    );
    assert.throws(
      () => loadConfig({ configFile: path }, KEY),
      (error: Error) =>
        /sources\.nats\.servers\.0 must match/.test(error.message) &&
        /sources\.nats\.stream must match/.test(error.message) &&
        /sources\.nats\.batch must be >= 1/.test(error.message) &&
        /sources\.nats\.replicas must be <= 5/.test(error.message) &&
        /sources\.nats must NOT have additional properties "surprise"/.test(error.message) &&
        /gateway\.publish_timeout_ms must be integer/.test(error.message),
    );
    assert.throws(
      () =>
        loadConfig(
          { configFile: file('sources:\n  nats:\n    batch: 300\n    max_ack_pending: 100\n') },
          KEY,
        ),
      /sources\.nats\.max_ack_pending \(100\) must be at least sources\.nats\.batch \(300\)/,
    );
    assert.throws(
      () => loadConfig({}, { ...KEY, PULSE_NATS_SERVERS: 'nats://ok:4222,localhost' }),
      /PULSE_NATS_SERVERS: "localhost"/,
    );
  });

  it('lets the gateway run without the token key, and nothing else', () => {
    assert.equal(loadConfig({ withoutTokenKey: true }, {}).privacy.tokenKey, '');
    assert.throws(() => loadConfig({}, {}), /privacy\.token_key is required/);
  });
});
