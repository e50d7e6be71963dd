import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { PulseError } from '../../errors.js';

/**
 * A mapping turns a foreign export into contract events: a SQL query over the file's rows (the
 * relation `source_rows`, every column as read plus `_row`, its position in the file) whose output
 * rows are events: `seq` (order of delivery), `id` (stable, so a re-read file only yields
 * duplicates), `type`, `time` and `data` (JSON text). NULL fields in `data` count as absent.
 */
export interface Mapping {
  readonly name: string;
  readonly description: string;
  /** Columns the file must have (compared case-sensitively, as the export spells them). */
  readonly columns: readonly string[];
  /** Columns read when present, NULL otherwise. */
  readonly optional: readonly string[];
  /** The query with its helpers expanded. */
  readonly sql: string;
}

const MAPPINGS_DIR = new URL('./mappings/', import.meta.url);
const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Helpers a mapping's SQL may call as `{{ helper('expression') }}`. */
const HELPERS: Record<string, (expression: string) => string> = {
  /** An instant as RFC 3339 in UTC, whatever the session's time zone. */
  rfc3339: (e) => `strftime(timezone('UTC', (${e})::TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%SZ')`,
  /** A country name or code as ISO 3166-1 alpha-2; an unknown name stays as it is (the contract says why). */
  country_code: (e) =>
    `coalesce((SELECT code FROM country_codes WHERE name = lower(trim(${e}))),` +
    ` CASE WHEN regexp_full_match(trim(${e}), '[A-Za-z]{2}') THEN upper(trim(${e})) END, ${e})`,
  /** A decimal as a money string: 2 decimals when exact to the cent, else every digit (the contract refuses it). */
  money: (e) =>
    `CASE WHEN (${e}) IS NULL THEN NULL WHEN (${e}) = round((${e}), 2)` +
    ` THEN round((${e}), 2)::DECIMAL(38, 2)::VARCHAR ELSE (${e})::VARCHAR END`,
};
const HELPER_CALL = /\{\{\s*([a-z0-9_]+)\(\s*(?:'([^']*)'|"([^"]*)")\s*\)\s*\}\}/g;

export function expandMappingSql(text: string): string {
  return text.replace(HELPER_CALL, (all, helper: string, single?: string, double?: string) => {
    const expand = HELPERS[helper];
    if (!expand) throw new Error(`unknown mapping helper ${helper} in ${all}`);
    return expand(single ?? double ?? '');
  });
}

function header(text: string, key: string): string | undefined {
  const match = new RegExp(`^-- ${key}: (.*)$`, 'm').exec(text);
  return match?.[1]?.trim();
}

export function parseMapping(name: string, text: string): Mapping {
  const list = (value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((column) => column.trim())
      .filter((column) => column.length > 0);
  return {
    name,
    description: header(text, 'description') ?? '',
    columns: list(header(text, 'columns')),
    optional: list(header(text, 'optional')),
    sql: expandMappingSql(text.replace(/^--.*$/gm, '')),
  };
}

let builtIn: ReadonlyMap<string, Mapping> | undefined;

/** The mappings shipped with Pulse (`online_retail`, `shopify_orders`), by name. */
export function builtInMappings(): ReadonlyMap<string, Mapping> {
  if (!builtIn) {
    const files = readdirSync(MAPPINGS_DIR).filter((file) => file.endsWith('.sql'));
    builtIn = new Map(
      files.map((file) => {
        const name = basename(file, '.sql');
        return [name, parseMapping(name, readFileSync(new URL(file, MAPPINGS_DIR), 'utf8'))];
      }),
    );
  }
  return builtIn;
}

/** The mapping called `name`, or an error naming the field and the mappings there are. */
export function findMapping(name: string, field = 'mapping'): Mapping {
  const mapping = NAME.test(name) ? builtInMappings().get(name) : undefined;
  if (!mapping) {
    throw new PulseError(
      'PULSE_ERR_USAGE',
      `${field}: no mapping "${name.slice(0, 64)}"; known: ${[...builtInMappings().keys()].join(', ')}`,
      { field },
    );
  }
  return mapping;
}
