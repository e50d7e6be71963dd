import { strict as assert } from 'node:assert';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { openPipeline, type Pipeline } from '../../src/app.js';
import { createAvroCodec } from '../../src/contracts/avro.js';
import { createContractValidator } from '../../src/contracts/index.js';
import { messageToItem } from '../../src/sources/nats/messages.js';
import { FilesSource } from '../../src/sources/index.js';
import { queryRows } from '../../src/warehouse/index.js';
import { orderEvent, TEST_TOKEN_KEY } from '../support/pulse.js';

/**
 * Hostile input on the sources that do not speak HTTP: NATS messages (any bytes, any content type,
 * Avro cut short or corrupted) and file drops (garbage lines, invalid UTF-8, huge and deep lines).
 * Whatever arrives is stored as a valid event or quarantined with a reason; nothing throws, and no
 * invalid event is ever stored outside the quarantine. Fixed seeds: each run replays the same cases.
 */
const validator = createContractValidator();
const avro = createAvroCodec(validator);

let counter = 0;
const freshOrder = () => {
  counter += 1;
  return orderEvent({ id: `evt-fz-${counter}`, orderId: `FZ-${counter}` }) as Record<string, unknown> & {
    data: Record<string, unknown>;
  };
};

/** A valid order with one hostile twist, or any JSON at all. */
const hostileJson = fc.oneof(
  fc.constant(null).map(() => freshOrder()),
  fc.constantFrom('proto', 'sql', 'numberString', 'nan', 'deep', 'huge').map((twist) => {
    const event = freshOrder();
    switch (twist) {
      case 'proto':
        return JSON.parse(
          JSON.stringify(event).replace('"data":{', '"data":{"__proto__":{"polluted":true},'),
        ) as unknown;
      case 'sql':
        return { ...event, data: { ...event.data, order_id: "x'); DROP TABLE bronze_events; --" } };
      case 'numberString':
        return { ...event, data: { ...event.data, currency: 978 } };
      case 'nan':
        return { ...event, data: { ...event.data, lines: [{ line_no: 1, sku: 'S', quantity: 'NaN' }] } };
      case 'deep': {
        let deep: unknown = 1;
        for (let i = 0; i < 1_000; i += 1) deep = [deep];
        return { ...event, data: { ...event.data, extra: deep } };
      }
      default:
        return { ...event, data: { ...event.data, brand: 'é'.repeat(100_000) } };
    }
  }),
  fc.jsonValue({ maxDepth: 3 }),
);

describe('hostile input on the NATS and file-drop sources', () => {
  let pipeline: Pipeline;
  let dir: string;
  const validIds = new Set<string>();
  const remember = (value: unknown) => {
    const check = validator.validate(value);
    if (check.ok) validIds.add(check.event.id);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-fuzz-sources-'));
    pipeline = await openPipeline({
      dbPath: join(dir, 'pulse.duckdb'),
      tokenKey: TEST_TOKEN_KEY,
      ingestWorkers: 0,
    });
  });
  after(async () => {
    await pipeline?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('NATS: any bytes under any content type are stored or quarantined, never thrown', async () => {
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      hostileJson.map((value) => new Uint8Array(Buffer.from(JSON.stringify(value) ?? 'null'))),
      // A valid order in Avro, then cut short or with one byte flipped.
      fc.record({ cut: fc.nat(400), flip: fc.option(fc.nat(400)) }).map(({ cut, flip }) => {
        const bytes = new Uint8Array(
          avro.encode(freshOrder() as unknown as { type: string } & Record<string, unknown>),
        );
        const at = flip === null ? -1 : flip % bytes.length;
        if (at >= 0) bytes[at] = (bytes[at] as number) ^ 0xff;
        return bytes.subarray(0, Math.max(0, bytes.length - (cut % 8)));
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          undefined,
          'application/cloudevents+json',
          'APPLICATION/JSON; charset=utf-8',
          'application/avro',
          'text/csv',
          '',
        ),
        fc.constantFrom(undefined, 'order.placed', 'session.started', 'no.such.type', '__proto__'),
        payload,
        async (contentType, ceType, data) => {
          const item = messageToItem(
            {
              data,
              header: (name) =>
                name === 'content-type' ? contentType : name === 'ce-type' ? ceType : undefined,
            },
            avro,
          );
          assert.ok(item.kind === 'value' || item.kind === 'unparseable');
          if (item.kind === 'value') remember(item.value);
          const receipt = await pipeline.deliver([item], { sourceKind: 'nats' });
          assert.equal(
            receipt.accepted + receipt.duplicates + receipt.quarantined,
            1,
            JSON.stringify(receipt),
          );
        },
      ),
      { numRuns: 300, seed: 20261130 },
    );
  });

  it('file drops: hostile NDJSON files end in done/ or failed/ with a report, their lines stored or quarantined', async () => {
    const drop = join(dir, 'drop');
    const source = new FilesSource({ dir: drop, stableMs: 20, pollMs: 20, batchEvents: 100 });
    await source.start(pipeline.deliver);
    const line = fc.oneof(
      hostileJson.map((value) => {
        remember(value);
        return Buffer.from(JSON.stringify(value) ?? 'null');
      }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes.filter((b) => b !== 0x0a))),
      fc.constantFrom(
        Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), // a BOM, then {}
        Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), // invalid UTF-8
        Buffer.from('{"a":1}\r'), // CRLF line end
        Buffer.from(`=cmd|' /C calc'!A0`),
        Buffer.from(''),
      ),
    );
    let file = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 12 }), async (lines) => {
          file += 1;
          const name = `fuzz-${file}.ndjson`;
          writeFileSync(
            join(drop, `${name}.part`),
            Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])),
          );
          renameSync(join(drop, `${name}.part`), join(drop, name));
          const deadline = Date.now() + 60_000;
          let report: string | undefined;
          while (report === undefined && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            for (const status of ['done', 'failed']) {
              const path = join(drop, status, `${name}.report.json`);
              if (existsSync(path)) report = readFileSync(path, 'utf8');
            }
          }
          assert.ok(report !== undefined, `${name} was never settled`);
          assert.equal(existsSync(join(drop, name)), false, 'the file left the drop folder');
          const parsed = JSON.parse(report) as { status: string; rows_read?: number };
          assert.ok(parsed.status === 'done' || parsed.status === 'failed');
        }),
        { numRuns: 40, seed: 20261131 },
      );
    } finally {
      await source.stop();
    }
    assert.ok(readdirSync(join(drop, 'done')).length > 0);
  });

  it('never stores an invalid event outside the quarantine, and nothing is polluted', async () => {
    const stored = await queryRows(pipeline.warehouse.reader, 'SELECT event_id FROM bronze_events');
    assert.ok(stored.length > 0, 'some valid events were stored');
    for (const row of stored)
      assert.ok(validIds.has(String(row.event_id)), `${String(row.event_id)} was not a valid event`);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const quarantined = await queryRows(
      pipeline.warehouse.reader,
      'SELECT count(*)::INTEGER AS n FROM quarantine',
    );
    assert.ok(Number(quarantined[0]?.n) > 0, 'hostile input was quarantined');
  });
});
