import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import avro from 'avsc';
import {
  avroSchemaFor,
  avroSchemas,
  createAvroCodec,
  createContractValidator,
  EVENT_TYPES,
} from '../../src/contracts/index.js';
import { orderEvent } from '../support/pulse.js';

const contracts = createContractValidator();

describe('Avro export of the contracts', () => {
  it('exports every event type as a schema avsc accepts', () => {
    const schemas = avroSchemas(contracts);
    assert.deepEqual([...schemas.keys()].sort(), [...EVENT_TYPES].sort());
    for (const schema of schemas.values()) assert.ok(avro.Type.forSchema(schema as avro.Schema));
  });

  it('maps required fields to plain types and optional ones to null unions, money to text', () => {
    const schema = avroSchemaFor('order.placed', contracts) as { fields: { name: string; type: unknown }[] };
    const data = schema.fields.find((field) => field.name === 'data')!.type as {
      fields: { name: string; type: unknown; default?: unknown }[];
    };
    const field = (name: string) => data.fields.find((f) => f.name === name);
    // From order.placed.schema.json: order_id required, email optional (x-pii), lines an array.
    assert.deepEqual(field('order_id'), { name: 'order_id', type: 'string' });
    assert.deepEqual(field('email'), { name: 'email', type: ['null', 'string'], default: null });
    const lines = field('lines')!.type as {
      type: string;
      items: { fields: { name: string; type: unknown }[] };
    };
    assert.equal(lines.type, 'array');
    const lineField = (name: string) => lines.items.fields.find((f) => f.name === name)?.type;
    assert.equal(lineField('quantity'), 'long');
    assert.equal(lineField('unit_price'), 'string');
    assert.deepEqual(
      schema.fields.map((f) => f.name),
      ['specversion', 'id', 'source', 'type', 'time', 'dataschema', 'datacontenttype', 'subject', 'data'],
    );
  });

  it('round-trips an event, which still passes its contract', () => {
    const codec = createAvroCodec(contracts);
    const event = orderEvent({ id: 'avro-rt', unitPrice: 19.99 });
    const decoded = codec.decode('order.placed', codec.encode(event)) as typeof event;
    assert.equal(decoded.id, 'avro-rt');
    assert.equal(decoded.data.lines[0]?.unit_price, '19.99' as unknown);
    assert.equal(decoded.data.email, 'jane.doe@example.com');
    assert.equal((decoded.data as Record<string, unknown>).seller_id, undefined);
    assert.equal(contracts.validate(decoded).ok, true);
  });

  it('refuses truncated bytes and unknown types', () => {
    const codec = createAvroCodec(contracts);
    const bytes = codec.encode(orderEvent());
    assert.throws(() => codec.decode('order.placed', bytes.subarray(0, bytes.length - 3)));
    assert.throws(
      () => codec.decode('order.unknown', bytes),
      /no Avro schema for event type "order.unknown"/,
    );
  });
});
