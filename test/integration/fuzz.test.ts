import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { loadConfig } from '../../src/config/index.js';
import { createContractValidator } from '../../src/contracts/index.js';
import { PulseError } from '../../src/errors.js';
import { orderEvent, startTestPulse, type TestPulse } from '../support/pulse.js';

const MEDIA_TYPES = [
  'application/cloudevents+json',
  'application/cloudevents-batch+json',
  'application/json',
  'application/x-ndjson',
] as const;

/** Raw bytes, so invalid UTF-8 and broken framing reach the server as sent. */
function postRaw(
  pulse: TestPulse,
  body: Buffer,
  contentType: string,
): Promise<{ status: number; text: string }> {
  const url = new URL(`${pulse.url}/v1/events`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...pulse.auth, 'content-type': contentType, 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Events that are valid except for one hostile twist, and hostile documents around them. */
const hostileEvent = fc.oneof(
  fc.constant(orderEvent()),
  fc
    .record({ twist: fc.constantFrom('proto', 'sql', 'formula', 'numberString', 'huge', 'nested', 'nan') })
    .map(({ twist }) => {
      const event = orderEvent() as Record<string, unknown> & { data: Record<string, unknown> };
      switch (twist) {
        case 'proto':
          return JSON.parse(
            JSON.stringify(event).replace('"data":{', '"data":{"__proto__":{"polluted":true},'),
          ) as unknown;
        case 'sql':
          return { ...event, data: { ...event.data, order_id: "x'); DROP TABLE bronze_events; --" } };
        case 'formula':
          return { ...event, data: { ...event.data, brand: '=HYPERLINK("http://evil","x")' } };
        case 'numberString':
          return {
            ...event,
            data: {
              ...event.data,
              lines: [{ line_no: '1', sku: 'S', quantity: '2', unit_price: '1', discount: 0, tax: 0 }],
            },
          };
        case 'huge':
          return { ...event, data: { ...event.data, brand: 'x'.repeat(200_000) } };
        case 'nested': {
          let deep: unknown = 1;
          for (let i = 0; i < 2_000; i += 1) deep = { a: deep };
          return { ...event, data: { ...event.data, extra: deep } };
        }
        default:
          return {
            ...event,
            data: {
              ...event.data,
              lines: [
                { line_no: 1, sku: 'S', quantity: Number.NaN, unit_price: Infinity, discount: 0, tax: 0 },
              ],
            },
          };
      }
    }),
  fc.anything({ maxDepth: 4 }),
);

describe('hostile input on POST /v1/events', () => {
  let pulse: TestPulse;
  const validIds = new Set<string>();
  const validator = createContractValidator();
  before(async () => {
    pulse = await startTestPulse({ bodyLimitBytes: 2 * 1024 * 1024 });
  });
  after(async () => pulse?.dispose());

  it('never answers 5xx, whatever the body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MEDIA_TYPES),
        fc.array(hostileEvent, { minLength: 0, maxLength: 6 }),
        fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 64 })),
        async (mediaType, events, garbage) => {
          for (const event of events) {
            const check = validator.validate(event);
            if (check.ok) validIds.add(check.event.id);
          }
          const text =
            mediaType === 'application/x-ndjson'
              ? events.map((e) => JSON.stringify(e) ?? 'undefined').join('\n')
              : mediaType === 'application/cloudevents-batch+json'
                ? JSON.stringify(events)
                : (JSON.stringify(events[0] ?? null) ?? '');
          const body = garbage ? Buffer.concat([Buffer.from(text), Buffer.from(garbage)]) : Buffer.from(text);
          const answer = await postRaw(pulse, body, mediaType);
          assert.ok(answer.status < 500, `${answer.status} for ${mediaType}: ${answer.text.slice(0, 300)}`);
          const parsed = JSON.parse(answer.text) as Record<string, unknown>;
          if (answer.status >= 400 && answer.status !== 422) {
            assert.ok(typeof (parsed.error as { code?: unknown })?.code === 'string');
            assert.ok(!/at .*\.js:\d+|SELECT|INSERT/.test(answer.text), 'no stack trace or SQL in an error');
          }
        },
      ),
      { numRuns: 150, seed: 20261129 },
    );
  });

  it('never stores an invalid event outside the quarantine, and nothing is polluted', async () => {
    const stored = await pulse.sql('SELECT event_id FROM bronze_events');
    for (const row of stored)
      assert.ok(validIds.has(String(row.event_id)), `${String(row.event_id)} was not a valid event`);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const tables = await pulse.sql(
      `SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name = 'bronze_events'`,
    );
    assert.equal(tables[0]?.n, 1);
  });

  it('refuses invalid UTF-8 and duplicated keys without a 5xx', async () => {
    const invalid = await postRaw(
      pulse,
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      'application/cloudevents+json',
    );
    assert.ok(invalid.status >= 400 && invalid.status < 500, String(invalid.status));
    const event = orderEvent({ orderId: 'DUPKEY' });
    const text = JSON.stringify(event).replace('"currency":"EUR"', '"currency":"EUR","currency":"XXX"');
    const duplicated = await postRaw(pulse, Buffer.from(text), 'application/cloudevents+json');
    assert.ok(duplicated.status < 500);
    // JSON keeps the last duplicate: XXX is not an ISO 4217 currency here, so it is quarantined.
    assert.equal(duplicated.status, 422);
  });
});

describe('hostile configuration files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-fuzz-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('either loads or fails with PULSE_ERR_CONFIG, never anything else', () => {
    const path = join(dir, 'pulse.config.yaml');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
          fc.constantFrom(
            'server: {port: 99999}',
            'a: &x [*x]',
            '!!js/function "x"',
            'server:\n  port: !!binary aGk=',
            '? [a, b]\n: c',
          ),
        ),
        (text) => {
          writeFileSync(path, text);
          try {
            loadConfig({ configFile: path }, { PULSE_TOKEN_KEY: 'k'.repeat(20) });
          } catch (error) {
            assert.ok(error instanceof PulseError, `not a PulseError: ${String(error)}`);
            assert.equal(error.code, 'PULSE_ERR_CONFIG');
          }
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});
