import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { openPipeline, type Pipeline } from '../../src/app.js';
import { createAvroCodec, createContractValidator } from '../../src/contracts/index.js';
import { PulseError } from '../../src/errors.js';
import type { Deliver } from '../../src/sources/index.js';
import { NatsSource } from '../../src/sources/nats/index.js';
import { queryRows } from '../../src/warehouse/index.js';
import { connectTestNats, deleteStream, NATS_URL, natsMissing, uniqueNatsNames } from '../support/nats.js';
import { orderEvent, TEST_TOKEN_KEY } from '../support/pulse.js';

const missing = await natsMissing();

describe('NATS JetStream source', { skip: missing }, () => {
  const names = uniqueNatsNames('source');
  let dir: string;
  let pipeline: Pipeline;
  let nc: NatsConnection;
  let source: NatsSource | undefined;
  const avro = createAvroCodec(createContractValidator());

  const options = (overrides: Partial<ConstructorParameters<typeof NatsSource>[0]> = {}) => ({
    servers: [NATS_URL],
    stream: names.stream,
    subjects: [`${names.subject}.>`],
    durable: names.durable,
    createStream: true,
    replicas: 1,
    batch: 20,
    maxAckPending: 100,
    ackWaitMs: 5_000,
    nakDelayMs: 300,
    ...overrides,
  });
  async function publish(data: Uint8Array | string, head: Record<string, string>) {
    const h = headers();
    for (const [key, value] of Object.entries(head)) h.set(key, value);
    await jetstream(nc).publish(`${names.subject}.events`, data, { headers: h });
  }
  async function until(check: () => Promise<boolean>, what: string) {
    const deadline = Date.now() + 60_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const sql = (text: string) => queryRows(pipeline.warehouse.reader, text);
  const consumerState = async () => {
    const info = await (await jetstreamManager(nc)).consumers.info(names.stream, names.durable);
    return { pending: info.num_pending, unacked: info.num_ack_pending };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-nats-source-'));
    pipeline = await openPipeline({
      dbPath: join(dir, 'pulse.duckdb'),
      tokenKey: TEST_TOKEN_KEY,
      ingestWorkers: 0,
    });
    nc = await connectTestNats();
  });
  after(async () => {
    await source?.stop();
    await deleteStream(nc, names.stream);
    await nc.close();
    await pipeline.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a batch larger than max_ack_pending, naming the field', () => {
    assert.throws(
      () => new NatsSource(options({ batch: 500, maxAckPending: 100 })),
      (error: PulseError) =>
        error.code === 'PULSE_ERR_CONFIG' && error.field === 'sources.nats.max_ack_pending',
    );
  });

  it('reads Avro messages written with the exported contract schema, protected like JSON ones', async () => {
    source = new NatsSource(options());
    await source.start(pipeline.deliver);
    const event = orderEvent({ id: `${names.stream}-avro`, orderId: 'AVRO-1', quantity: 3, unitPrice: 12.5 });
    await publish(avro.encode(event), { 'content-type': 'application/avro', 'ce-type': 'order.placed' });
    await until(
      async () =>
        (await sql(`SELECT 1 FROM bronze_events WHERE event_id = '${names.stream}-avro'`)).length === 1,
      'the Avro event',
    );
    const [row] = await sql(
      `SELECT event_type, data FROM bronze_events WHERE event_id = '${names.stream}-avro'`,
    );
    assert.equal(row?.event_type, 'order.placed');
    const data = JSON.parse(String(row?.data)) as Record<string, unknown>;
    assert.equal(data.order_id, 'AVRO-1');
    // PII dropped, the customer id replaced by its keyed HMAC (computed here independently).
    assert.equal(data.email, undefined);
    assert.equal(data.customer_id, undefined);
    assert.equal(
      data.customer_token,
      createHmac('sha256', TEST_TOKEN_KEY).update('C-42').digest('hex').slice(0, 32),
    );
    const line = (data.lines as Record<string, unknown>[])[0]!;
    assert.equal(line.quantity, 3);
    // Money travels as decimal text in Avro: exact.
    assert.equal(line.unit_price, '12.5');
  });

  it('quarantines poison messages with the reason, then acknowledges them', async () => {
    const tag = `${names.stream}-poison`;
    await publish(`{"id": "${tag}-json", broken`, { 'content-type': 'application/cloudevents+json' });
    await publish(Buffer.from([0xff, 0x00, 0x13]), {
      'content-type': 'application/avro',
      'ce-type': 'order.placed',
    });
    await publish(avro.encode(orderEvent({ id: `${tag}-untyped` })), { 'content-type': 'application/avro' });
    await publish(`${tag} plain text`, { 'content-type': 'text/plain' });
    await until(
      async () =>
        Number((await sql(`SELECT count(*) AS n FROM quarantine WHERE source_kind = 'nats'`))[0]?.n) >= 4,
      'four quarantined messages',
    );
    const rows = await sql(
      `SELECT rule, field, message FROM quarantine WHERE source_kind = 'nats' ORDER BY quarantine_id`,
    );
    assert.deepEqual(
      rows.map((row) => [row.rule, row.field]),
      [
        ['json', '(event)'],
        ['json', '(event)'],
        ['json', '(event)'],
        ['json', '(event)'],
      ],
    );
    assert.match(String(rows[0]?.message), /not valid JSON/);
    assert.match(String(rows[1]?.message), /Avro message of type "order.placed" does not decode/);
    assert.match(String(rows[2]?.message), /needs the ce-type header/);
    assert.match(String(rows[3]?.message), /unsupported content type "text\/plain"/);
    // Acknowledged: nothing left to deliver, nothing awaiting an ack.
    await until(async () => {
      const state = await consumerState();
      return state.pending === 0 && state.unacked === 0;
    }, 'the poison messages to be acknowledged');
  });

  it('naks with a delay while the pipeline is at capacity, and commits everything once it is not', async () => {
    await source?.stop();
    const tag = `${names.stream}-busy`;
    let refusals = 0;
    // The real pipeline behind a gate that answers "overloaded" to the first three batches.
    const gated: Deliver = async (items, meta) => {
      if (refusals < 3) {
        refusals += 1;
        throw new PulseError('PULSE_ERR_OVERLOADED');
      }
      return pipeline.deliver(items, meta);
    };
    source = new NatsSource(options());
    await source.start(gated);
    for (let i = 0; i < 50; i += 1) {
      await publish(JSON.stringify(orderEvent({ id: `${tag}-${i}`, orderId: `${tag}-O${i}` })), {});
    }
    await until(
      async () =>
        Number(
          (await sql(`SELECT count(*) AS n FROM bronze_events WHERE event_id LIKE '${tag}-%'`))[0]?.n,
        ) === 50,
      'the 50 events',
    );
    assert.equal(refusals, 3);
    await until(async () => {
      const state = await consumerState();
      return state.pending === 0 && state.unacked === 0;
    }, 'every message to be acknowledged');
    const [count] = await sql(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT event_id)::INTEGER AS ids FROM bronze_events WHERE event_id LIKE '${tag}-%'`,
    );
    assert.deepEqual(count, { n: 50, ids: 50 });
  });
});
