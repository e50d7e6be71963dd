/**
 * Pulse data contracts (DESIGN.md §8): the event types, the CloudEvents validator built on the JSON
 * Schemas in `schemas/`, the PII field list derived from them, and the ISO code lists.
 */
export * from './types.js';
export { createContractValidator, CONTRACT_RULES } from './validator.js';
export type { ContractValidator, ContractRule, PiiFields } from './validator.js';
export { CURRENCY_CODES, COUNTRY_CODES, isCurrencyCode, isCountryCode } from './iso.js';
export type { CurrencyCode, CountryCode } from './iso.js';
export { avroSchemaFor, avroSchemas, createAvroCodec } from './avro.js';
export type { AvroCodec, AvroSchema } from './avro.js';
