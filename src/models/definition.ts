import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCte } from './changed-keys.js';

export type Materialization = 'incremental' | 'table' | 'view';

/** A SQL model file, parsed: its config header, its SQL template and what it reads. */
export interface ModelDefinition {
  readonly name: string;
  readonly layer: 'silver' | 'gold';
  readonly path: string;
  readonly materialized: Materialization;
  /** Rows of the target sharing these columns with a newly computed row are replaced (delete + insert). */
  readonly uniqueKey: readonly string[];
  /** Rows are inserted in this order so that zone maps prune time filters. */
  readonly orderBy: string | undefined;
  /**
   * A CTE of the incremental SQL listing what changed since the watermark: an incremental run
   * computes it into a temporary table before the rest (see changed-keys.ts).
   */
  readonly changedKeys: string | undefined;
  /**
   * The column holding the ingest sequence of the event each row comes from, for a model whose
   * unique key is that event's own id: a delta row past the watermark then holds a key the table
   * cannot hold yet, so the replace looks only for the others' (and, when there are none, skips
   * reading the table, whose key column would otherwise be scanned whole at every refresh).
   */
  readonly newKeysFrom: string | undefined;
  readonly description: string;
  readonly sql: string;
  /** Models this one reads through `{{ ref('…') }}`. */
  readonly refs: readonly string[];
  /** Tables outside the models read through `{{ source('…') }}`. */
  readonly sources: readonly string[];
  /** The bronze event types the model reads (`event_type = '…'` in its SQL); empty: any. */
  readonly eventTypes: readonly string[];
  /** Hash of the SQL: a change forces a full rebuild of the model and everything downstream. */
  readonly hash: string;
}

const HEADER_LINE = /^--\s*([a-z_]+)\s*:\s*(.*)$/;
const REF = /\{\{\s*ref\(\s*'([a-z0-9_]+)'\s*\)\s*\}\}/g;
const SOURCE = /\{\{\s*source\(\s*'([a-z0-9_]+)'\s*\)\s*\}\}/g;
const EVENT_TYPE = /event_type\s*=\s*'([a-z_.]+)'/g;
const MATERIALIZATIONS: readonly string[] = ['incremental', 'table', 'view'];

export const MODELS_DIRECTORY = fileURLToPath(new URL('.', import.meta.url));

export function parseModel(path: string, text: string, layer: 'silver' | 'gold'): ModelDefinition {
  const name = basename(path, '.sql');
  const header = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = HEADER_LINE.exec(line.trim());
    if (!match) break;
    header.set(match[1] as string, (match[2] as string).trim());
  }
  const materialized = header.get('materialized') ?? 'table';
  if (!MATERIALIZATIONS.includes(materialized)) {
    throw new Error(
      `${path}: materialized must be one of ${MATERIALIZATIONS.join(', ')}, got "${materialized}"`,
    );
  }
  const uniqueKey = (header.get('unique_key') ?? '')
    .split(',')
    .map((column) => column.trim())
    .filter((column) => column.length > 0);
  const changedKeys = header.get('changed_keys');
  if (changedKeys !== undefined && !/^[a-z_][a-z0-9_]*$/.test(changedKeys)) {
    throw new Error(`${path}: changed_keys must name a CTE of the model, got "${changedKeys}"`);
  }
  if (changedKeys !== undefined && !findCte(text, changedKeys)) {
    throw new Error(`${path}: changed_keys names CTE "${changedKeys}", which the model does not define`);
  }
  const newKeysFrom = header.get('new_keys_from');
  if (newKeysFrom !== undefined && !/^[a-z_][a-z0-9_]*$/.test(newKeysFrom)) {
    throw new Error(`${path}: new_keys_from must name a column of the model, got "${newKeysFrom}"`);
  }
  if (newKeysFrom !== undefined && uniqueKey.length === 0) {
    throw new Error(`${path}: new_keys_from needs a unique_key (the id of the event each row comes from)`);
  }
  return {
    name,
    layer,
    path,
    materialized: materialized as Materialization,
    uniqueKey,
    orderBy: header.get('order_by'),
    changedKeys,
    newKeysFrom,
    description: header.get('description') ?? '',
    sql: text,
    refs: unique([...text.matchAll(REF)].map((m) => m[1] as string)),
    sources: unique([...text.matchAll(SOURCE)].map((m) => m[1] as string)),
    eventTypes: unique([...text.matchAll(EVENT_TYPE)].map((m) => m[1] as string)),
    hash: createHash('sha256').update(text).digest('hex').slice(0, 16),
  };
}

/** Every model under `silver/` and `gold/` of a models directory. */
export function loadModels(directory: string = MODELS_DIRECTORY): ModelDefinition[] {
  const models: ModelDefinition[] = [];
  for (const layer of ['silver', 'gold'] as const) {
    const folder = join(directory, layer);
    for (const file of readdirSync(folder).sort()) {
      if (!file.endsWith('.sql')) continue;
      const path = join(folder, file);
      models.push(parseModel(path, readFileSync(path, 'utf8'), layer));
    }
  }
  return models;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
