import avro from 'avsc';
import type { ContractValidator } from './validator.js';
import { EVENT_TYPES, type EventType } from './types.js';

/** The `$id` prefix of the shared definitions the data schemas `$ref`. */
const COMMON_REF = 'https://pulse.dev/contracts/common/1.json#/$defs/';

/** An Avro schema as JSON (what `avro.Type.forSchema` takes). */
export type AvroSchema = string | { readonly [key: string]: unknown } | readonly AvroSchema[];

type JsonSchema = { readonly [key: string]: unknown };

/**
 * Exports the contract of one event type as an Avro record: the CloudEvents envelope with its
 * `data` record. The JSON Schemas stay the single source: this is derived from them, so a field
 * added to a contract appears here too. Money is an Avro string (a decimal, exact; a JSON number
 * is written as its decimal text), optional fields are `["null", T]` with default null, enumerations
 * are strings (the contract checks the values). Extension attributes are not carried.
 */
export function avroSchemaFor(type: EventType, contracts: ContractValidator): AvroSchema {
  const data = contracts.schemas.get(type) as JsonSchema | undefined;
  if (!data) throw new Error(`no contract for event type "${type}"`);
  const defs = ((contracts.commonSchema as JsonSchema).$defs ?? {}) as Record<string, JsonSchema>;
  const base = avroName(type);
  const optional = (schema: AvroSchema) => ({ type: ['null', schema], default: null });
  return {
    type: 'record',
    name: base,
    namespace: 'pulse.contracts',
    doc: `CloudEvent ${type} (Pulse contract, exported to Avro)`,
    fields: [
      { name: 'specversion', type: 'string' },
      { name: 'id', type: 'string' },
      { name: 'source', type: 'string' },
      { name: 'type', type: 'string' },
      { name: 'time', ...optional('string') },
      { name: 'dataschema', ...optional('string') },
      { name: 'datacontenttype', ...optional('string') },
      { name: 'subject', ...optional('string') },
      { name: 'data', type: toAvro(data, `${base}_data`, defs, 'data') },
    ],
  };
}

/** Every event type's Avro schema, keyed by type. */
export function avroSchemas(contracts: ContractValidator): Map<EventType, AvroSchema> {
  return new Map(EVENT_TYPES.map((type) => [type, avroSchemaFor(type, contracts)]));
}

/** Encodes and decodes CloudEvents with the exported Avro schemas. */
export interface AvroCodec {
  /** Encodes an event with the schema of its `type` (missing optional fields become null). */
  encode(event: { type: string } & Record<string, unknown>): Buffer;
  /** Decodes a message written with the schema of `type` into a plain CloudEvent (nulls dropped). Throws on bad input. */
  decode(type: string, bytes: Uint8Array): unknown;
}

export function createAvroCodec(contracts: ContractValidator): AvroCodec {
  const types = new Map<string, avro.Type>();
  for (const [type, schema] of avroSchemas(contracts)) {
    types.set(type, avro.Type.forSchema(schema as avro.Schema));
  }
  const typeOf = (type: string): avro.Type => {
    const found = types.get(type);
    if (!found) throw new Error(`no Avro schema for event type "${type}"`);
    return found;
  };
  return {
    encode(event) {
      const type = typeOf(event.type);
      return type.toBuffer(fillForAvro(type, event));
    },
    decode(type, bytes) {
      // fromBuffer refuses trailing bytes, so a truncated or padded message never half-decodes.
      return withoutNulls(typeOf(type).fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)));
    },
  };
}

function avroName(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, '_');
}

function toAvro(
  schema: JsonSchema,
  name: string,
  defs: Record<string, JsonSchema>,
  path: string,
): AvroSchema {
  const resolved = resolve(schema, defs, path);
  const type = resolved.type;
  if (resolved.pulseMoney !== undefined) return 'string';
  if (Array.isArray(type)) {
    // Only money mixes JSON types in the data contracts; anything else would need a union here.
    throw new Error(`${path}: a field of several JSON types (${type.join(', ')}) has no Avro export`);
  }
  switch (type) {
    case 'string':
      return 'string';
    case 'integer':
      return 'long';
    case 'number':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'array':
      return {
        type: 'array',
        items: toAvro(resolved.items as JsonSchema, `${name}_item`, defs, `${path}[]`),
      };
    case 'object': {
      const properties = (resolved.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((resolved.required ?? []) as string[]);
      return {
        type: 'record',
        name,
        fields: Object.entries(properties).map(([field, sub]) => {
          const fieldType = toAvro(sub, `${name}_${field}`, defs, `${path}.${field}`);
          return required.has(field)
            ? { name: field, type: fieldType }
            : { name: field, type: ['null', fieldType], default: null };
        }),
      };
    }
    default:
      if (Array.isArray(resolved.enum)) return 'string';
      throw new Error(`${path}: JSON Schema type ${String(type)} has no Avro export`);
  }
}

function resolve(schema: JsonSchema, defs: Record<string, JsonSchema>, path: string): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  if (!ref.startsWith(COMMON_REF)) throw new Error(`${path}: unsupported $ref ${ref}`);
  const target = defs[ref.slice(COMMON_REF.length)];
  if (!target) throw new Error(`${path}: unknown $ref ${ref}`);
  const { $ref: _ref, ...siblings } = schema;
  return { ...target, ...siblings };
}

/** Makes a JSON event writable: absent optional fields become null, numbers where Avro wants text become text. */
function fillForAvro(type: avro.Type, value: unknown): unknown {
  if (type instanceof avro.types.RecordType) {
    const record = (value ?? {}) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const field of type.fields) out[field.name] = fillForAvro(field.type, record[field.name]);
    return out;
  }
  if (type instanceof avro.types.UnwrappedUnionType) {
    if (value === undefined || value === null) return null;
    const inner = type.types.find((t: avro.Type) => t.typeName !== 'null');
    return inner ? fillForAvro(inner, value) : value;
  }
  if (type instanceof avro.types.ArrayType) {
    return Array.isArray(value) ? value.map((item) => fillForAvro(type.itemsType, item)) : value;
  }
  if (type.typeName === 'string' && typeof value === 'number') return String(value);
  return value;
}

/** Avro records decode as class instances with explicit nulls; the contracts expect absent fields. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      if (field !== null && field !== undefined) out[key] = withoutNulls(field);
    }
    return out;
  }
  return value;
}
