import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ErrorObject, KeywordDefinition, ValidateFunction } from 'ajv';
import type { DataValidateFunction } from 'ajv/dist/types/index.js';
import { EVENT_TYPES } from './types.js';
import type { CloudEvent, EventType, ValidationResult, Violation } from './types.js';

/**
 * Checks parsed JSON values against the Pulse contracts (DESIGN.md §8): a CloudEvents 1.0 envelope,
 * then its `data` against the JSON Schema of its `type`.
 *
 * @example
 * const contracts = createContractValidator();
 * const result = contracts.validate(JSON.parse(line));
 * if (!result.ok) quarantine(result.violation); // { rule: 'money', field: 'data.lines[0].unit_price', ... }
 */
export interface ContractValidator {
  /**
   * Validates one parsed JSON value as a CloudEvent; never throws. On failure, reports the first
   * violation only, with `eventId` / `eventType` when the input carries them as strings (of at most
   * 256 characters).
   */
  validate(value: unknown): ValidationResult;
  /** Per event type: the data fields marked x-pii (to drop) and x-tokenise (to replace by customer_token). */
  readonly piiFields: ReadonlyMap<EventType, PiiFields>;
  /** The data schemas (deep-frozen copies), for docs (OpenAPI) and lineage. They `$ref` {@link commonSchema}. */
  readonly schemas: ReadonlyMap<EventType, object>;
  /** The CloudEvents envelope schema (deep-frozen copy). */
  readonly envelopeSchema: object;
  /** The shared `$defs` (money, currency, country, timestamp, hour, id, ...) the data schemas refer to (deep-frozen copy). */
  readonly commonSchema: object;
}

/** The PII handling of one event type's data. Nested fields are dotted (`consent.marketing`), array items use `[]`. */
export interface PiiFields {
  /** Fields dropped before anything is stored (`x-pii`). */
  readonly drop: readonly string[];
  /** Fields replaced by `customer_token`, a keyed HMAC (`x-tokenise`). */
  readonly tokenise: readonly string[];
}

/** Every rule id that {@link ContractValidator.validate} can report. */
export const CONTRACT_RULES = [
  'type',
  'required',
  'additionalProperties',
  'unknown_type',
  'const',
  'enum',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'minItems',
  'maxItems',
  'money',
] as const;

export type ContractRule = (typeof CONTRACT_RULES)[number];

const SCHEMA_DIR = new URL('./schemas/', import.meta.url);
const INT32_MAX = 2147483647;
/** Longest id / type echoed back beside a violation (the envelope's own limit for `id`). */
const MAX_ECHO = 256;
/** A money amount as text: at most 15 integer digits and 2 decimals (fits DECIMAL(17,2)). */
const MONEY = /^-?\d{1,15}(?:\.\d{1,2})?$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

type JsonSchema = Record<string, unknown>;

let shared: ContractValidator | undefined;

/**
 * Builds the contract validator. Every schema is read and compiled once; later calls return the same
 * (stateless) validator.
 */
export function createContractValidator(): ContractValidator {
  shared ??= build();
  return shared;
}

function build(): ContractValidator {
  const ajv = new Ajv2020.default({
    strict: true,
    allErrors: false,
    allowUnionTypes: true,
    // Errors carry their schema, so the messages can describe the whole expectation ("an integer > 0").
    verbose: true,
    messages: false,
  });
  addFormats.default(ajv, { mode: 'full', formats: ['date-time', 'uri-reference'] });
  ajv.addKeyword({ keyword: 'x-pii', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-tokenise', schemaType: 'boolean' });
  ajv.addKeyword(moneyKeyword);

  const common = loadSchema('common');
  const envelope = loadSchema('envelope');
  ajv.addSchema(common);
  const validateEnvelope = ajv.compile(envelope);

  const validators = new Map<string, ValidateFunction>();
  const schemas = new Map<EventType, object>();
  const piiFields = new Map<EventType, PiiFields>();
  for (const type of EVENT_TYPES) {
    const schema = loadSchema(type);
    validators.set(type, ajv.compile(schema));
    schemas.set(type, deepFreeze(structuredClone(schema)));
    piiFields.set(type, collectPii(schema));
  }

  function validate(value: unknown): ValidationResult {
    try {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return {
          ok: false,
          violation: {
            rule: 'type',
            field: '(event)',
            message: `the event must be a JSON object, not ${kindOf(value)}`,
          },
        };
      }
      const event = value as Record<string, unknown>;
      if (!validateEnvelope(event)) {
        return failure(envelopeViolation(firstError(validateEnvelope), event), event);
      }
      const validateData = validators.get(event.type as string) as ValidateFunction;
      if (!validateData(event.data)) {
        return failure(violationOf(firstError(validateData), 'data', event.data), event);
      }
      return { ok: true, event: value as CloudEvent };
    } catch {
      // Only exotic non-JSON values (proxies, throwing getters) get here.
      return {
        ok: false,
        violation: { rule: 'type', field: '(event)', message: 'the event must be a JSON object' },
      };
    }
  }

  return {
    validate,
    piiFields,
    schemas,
    envelopeSchema: deepFreeze(structuredClone(envelope)),
    commonSchema: deepFreeze(structuredClone(common)),
  };
}

function loadSchema(name: string): JsonSchema {
  return JSON.parse(readFileSync(new URL(`${name}.schema.json`, SCHEMA_DIR), 'utf8')) as JsonSchema;
}

// ---------------------------------------------------------------------------------------------
// Money: a JSON number or a decimal string, at most 2 decimals, finite, optionally bounded below.
// ---------------------------------------------------------------------------------------------

interface MoneyBounds {
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
}

const moneyKeyword: KeywordDefinition = {
  keyword: 'pulseMoney',
  // Typed, so Ajv runs it after `type` and `maxLength` (a 10 MB string fails on maxLength first).
  type: ['number', 'string'],
  schemaType: ['boolean', 'object'],
  metaSchema: {
    anyOf: [
      { type: 'boolean' },
      {
        type: 'object',
        additionalProperties: false,
        properties: { minimum: { type: 'number' }, exclusiveMinimum: { type: 'number' } },
      },
    ],
  },
  errors: true,
  compile(schema: boolean | MoneyBounds) {
    const bounds: MoneyBounds = typeof schema === 'object' ? schema : {};
    const { minimum, exclusiveMinimum } = bounds;
    const check: DataValidateFunction = (data: unknown): boolean => {
      let amount: number;
      if (typeof data === 'number') {
        // The shortest decimal representation: 19.999, 1e-7, 1e+21 and NaN all fail.
        if (!MONEY.test(String(data))) return moneyError(check, 'money', 'must be a money amount');
        amount = data;
      } else if (typeof data === 'string') {
        if (!MONEY.test(data)) return moneyError(check, 'money', 'must be a money amount');
        amount = Number(data);
      } else {
        return true; // unreachable: Ajv only calls it for numbers and strings
      }
      if (minimum !== undefined && !(amount >= minimum)) {
        return moneyError(check, 'minimum', `must be a money amount >= ${minimum}`, '>=', minimum);
      }
      if (exclusiveMinimum !== undefined && !(amount > exclusiveMinimum)) {
        return moneyError(
          check,
          'minimum',
          `must be a money amount > ${exclusiveMinimum}`,
          '>',
          exclusiveMinimum,
        );
      }
      return true;
    };
    return check;
  },
};

function moneyError(
  check: DataValidateFunction,
  keyword: 'money' | 'minimum',
  message: string,
  comparison?: string,
  limit?: number,
): false {
  const suffix =
    keyword === 'money'
      ? ' with at most 2 decimals and 15 integer digits: a finite JSON number or a decimal string like "12.30"'
      : '';
  check.errors = [{ keyword, message: message + suffix, params: { money: true, comparison, limit } }];
  return false;
}

// ---------------------------------------------------------------------------------------------
// Violations: the first Ajv error, as a rule, a readable field path and a short message.
// ---------------------------------------------------------------------------------------------

function firstError(fn: ValidateFunction): ErrorObject {
  const errors = fn.errors;
  return errors && errors[0] ? errors[0] : { keyword: 'type', instancePath: '', schemaPath: '', params: {} };
}

function failure(violation: Violation, event: Record<string, unknown>): ValidationResult {
  const id = event.id;
  const type = event.type;
  const result: { ok: false; violation: Violation; eventId?: string; eventType?: string } = {
    ok: false,
    violation,
  };
  if (typeof id === 'string' && id.length <= MAX_ECHO) result.eventId = id;
  if (typeof type === 'string' && type.length <= MAX_ECHO) result.eventType = type;
  return result;
}

function envelopeViolation(error: ErrorObject, event: Record<string, unknown>): Violation {
  if (error.keyword === 'enum' && error.instancePath === '/type') {
    return {
      rule: 'unknown_type',
      field: 'type',
      message: `type must be one of the ${EVENT_TYPES.length} Pulse event types (got ${preview(event.type)})`,
    };
  }
  return violationOf(error, '', event);
}

function violationOf(error: ErrorObject, prefix: string, root: unknown): Violation {
  const params = error.params as Record<string, unknown>;
  let field = fieldPath(prefix, error.instancePath, root);
  if (error.keyword === 'required') field = join(field, String(params.missingProperty));
  else if (error.keyword === 'additionalProperties') field = join(field, String(params.additionalProperty));
  return { rule: error.keyword, field, message: messageOf(error, field) };
}

/** `/lines/0/quantity` under `data` → `data.lines[0].quantity`, walking the value to tell arrays from objects. */
function fieldPath(prefix: string, instancePath: string, root: unknown): string {
  let field = prefix;
  if (instancePath === '') return field;
  let node: unknown = root;
  for (const raw of instancePath.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      field += `[${segment}]`;
      node = node[Number(segment)];
    } else {
      field = join(field, segment);
      node =
        typeof node === 'object' && node !== null && Object.prototype.hasOwnProperty.call(node, segment)
          ? (node as Record<string, unknown>)[segment]
          : undefined;
    }
  }
  return field;
}

function join(field: string, key: string): string {
  const name = key.length > 64 ? `${key.slice(0, 64)}…` : key;
  if (IDENTIFIER.test(name)) return field === '' ? name : `${field}.${name}`;
  return `${field}[${JSON.stringify(name)}]`;
}

function messageOf(error: ErrorObject, field: string): string {
  const params = error.params as Record<string, unknown>;
  const schema = (error.parentSchema ?? {}) as JsonSchema;
  if (params.money === true) return `${field} ${error.message ?? 'must be a money amount'}`;
  switch (error.keyword) {
    case 'required':
      return `${field} is required`;
    case 'additionalProperties':
      return `${field} is not an allowed field`;
    case 'type':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
      return `${field} must be ${expectation(error, schema)}`;
    case 'const':
      return `${field} must be ${JSON.stringify(params.allowedValue)} (got ${preview(error.data)})`;
    case 'enum': {
      const allowed = (params.allowedValues ?? []) as unknown[];
      const description = schema.description;
      const expected =
        allowed.length > 20 && typeof description === 'string'
          ? sentence(description)
          : `one of ${allowed.join(', ')}`;
      return `${field} must be ${expected} (got ${preview(error.data)})`;
    }
    case 'format':
      return params.format === 'date-time'
        ? `${field} must be an RFC 3339 date-time with an offset, e.g. 2024-03-01T10:15:00Z (got ${preview(error.data)})`
        : `${field} must be a ${String(params.format).replace('-', ' ')} (got ${preview(error.data)})`;
    case 'pattern':
      return schema.format === 'date-time'
        ? `${field} must be on the hour with a whole-hour offset, e.g. 2024-03-01T10:00:00Z (got ${preview(error.data)})`
        : `${field} must match ${String(params.pattern)}`;
    case 'minLength':
      return params.limit === 1
        ? `${field} must not be empty`
        : `${field} must have at least ${String(params.limit)} characters`;
    case 'maxLength':
      return `${field} must have at most ${String(params.limit)} characters`;
    case 'minItems':
      return `${field} must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `${field} must have at most ${String(params.limit)} items`;
    default:
      return `${field} is invalid (${error.keyword})`;
  }
}

/** What a schema expects, in words: "an integer > 0", "a number from -1 to 1", "a string". */
function expectation(error: ErrorObject, schema: JsonSchema): string {
  const type = schema.type;
  if (schema.pulseMoney !== undefined) {
    return 'a money amount: a finite JSON number or a decimal string with at most 2 decimals';
  }
  if (type === 'integer' || type === 'number') {
    const noun = type === 'integer' ? 'an integer' : 'a number';
    const min = schema.minimum as number | undefined;
    const max = schema.maximum as number | undefined;
    const exclusiveMin = schema.exclusiveMinimum as number | undefined;
    if (error.keyword === 'maximum' && max === INT32_MAX) return `${noun} <= ${INT32_MAX}`;
    const hasMax = max !== undefined && max !== INT32_MAX;
    if (min !== undefined && hasMax) return `${noun} from ${min} to ${max}`;
    if (min !== undefined) return type === 'integer' && min === 1 ? `${noun} > 0` : `${noun} >= ${min}`;
    if (exclusiveMin !== undefined) return `${noun} > ${exclusiveMin}`;
    if (hasMax) return `${noun} <= ${max}`;
    return noun;
  }
  const types = Array.isArray(type)
    ? (type as string[])
    : [String(type ?? (error.params as JsonSchema).type)];
  const words = types.map((t) => TYPE_WORDS[t] ?? t);
  return words.length > 1
    ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`
    : (words[0] ?? 'valid');
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  object: 'an object',
  array: 'an array',
  boolean: 'a boolean',
  integer: 'an integer',
  number: 'a number',
  null: 'null',
};

function sentence(description: string): string {
  const text = description.endsWith('.') ? description.slice(0, -1) : description;
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function preview(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return kindOf(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' || type === 'undefined' ? type : `a ${type}`;
}

// ---------------------------------------------------------------------------------------------
// Schema metadata
// ---------------------------------------------------------------------------------------------

function collectPii(schema: JsonSchema): PiiFields {
  const drop: string[] = [];
  const tokenise: string[] = [];
  const walk = (node: JsonSchema, path: string): void => {
    const properties = node.properties as Record<string, JsonSchema> | undefined;
    if (properties) {
      for (const [name, property] of Object.entries(properties)) {
        const field = path === '' ? name : `${path}.${name}`;
        if (property['x-pii'] === true) drop.push(field);
        if (property['x-tokenise'] === true) tokenise.push(field);
        walk(property, field);
      }
    }
    const items = node.items as JsonSchema | undefined;
    if (items && typeof items === 'object') walk(items, `${path}[]`);
  };
  walk(schema, '');
  return { drop: Object.freeze(drop), tokenise: Object.freeze(tokenise) };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
