import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { PulseError } from '../../errors.js';
import type { Deliver, SourceItem } from '../types.js';
import { readLines } from './lines.js';
import type { Mapping } from './mapping.js';
import type { MappedRow, MappingReader, TabularFormat } from './reader.js';
import { ReportTally, type FileReport } from './report.js';

export type FileFormat = TabularFormat;

/** Progress of one file: `done` of `total` units (events, or bytes for CloudEvents JSONL). */
export interface FileProgress {
  readonly file: string;
  readonly done: number;
  readonly total: number;
  readonly unit: 'events' | 'bytes';
}

export interface LoadFileOptions {
  readonly reader: MappingReader;
  readonly deliver: Deliver;
  /** The mapping, or null for CloudEvents JSONL (one event per line). */
  readonly mapping: Mapping | null;
  readonly batchEvents?: number;
  readonly maxLineBytes?: number;
  readonly onProgress?: (progress: FileProgress) => void;
  /** Checked between batches: a stopped load leaves the file where it is (re-reading it only finds duplicates). */
  readonly signal?: AbortSignal;
}

const FORMATS: Record<string, FileFormat> = {
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

export function formatOf(path: string): FileFormat | undefined {
  return FORMATS[extname(path).toLowerCase()];
}

/** Thrown when a stop interrupts a file: it is neither done nor failed. */
export class LoadInterrupted extends Error {
  constructor() {
    super('stopped before the file was finished');
    this.name = 'LoadInterrupted';
  }
}

/** The pipeline could not commit a batch: not the file's fault, so it stays where it is. */
export class DeliveryFailed extends Error {
  constructor(cause: unknown) {
    super(`a batch could not be committed: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'DeliveryFailed';
  }
}

async function deliverBatch(
  options: LoadFileOptions,
  items: SourceItem[],
  tally: ReportTally,
): Promise<void> {
  if (options.signal?.aborted) throw new LoadInterrupted();
  let receipt;
  try {
    receipt = await options.deliver(items, { sourceKind: 'files' });
  } catch (error) {
    throw new DeliveryFailed(error);
  }
  tally.add(receipt, items.length);
}

/**
 * Reads one file and delivers its events in batches, each awaited (committed) before the next is
 * read, so memory stays bounded and an interrupted file is safe to read again. Never throws for
 * bad input: the report says what went wrong, with what was accepted before it.
 */
export async function loadFile(path: string, options: LoadFileOptions): Promise<FileReport> {
  const started = new Date();
  const tally = new ReportTally();
  const format = formatOf(path);
  // Counted as the file is read, so a failed file's report still says how far it got.
  const read = { rows: 0 };
  let error: FileReport['error'] = null;
  try {
    if (!format) {
      throw new PulseError(
        'PULSE_ERR_FILE_FORMAT',
        `"${extname(path) || basename(path)}" is not a format Pulse reads: use .csv, .jsonl, .ndjson or .parquet`,
        { field: 'file' },
      );
    }
    checkContent(path, format);
    if (options.mapping === null && format !== 'jsonl') {
      throw new PulseError(
        'PULSE_ERR_FILE_NO_MAPPING',
        `a ${format.toUpperCase()} file needs a mapping (--mapping NAME or sources.files.mappings)`,
        { field: 'mapping' },
      );
    }
    if (options.mapping === null) await loadCloudEvents(path, options, tally, read);
    else await loadMapped(path, format as TabularFormat, options.mapping, options, tally, read);
    if (read.rows === 0)
      throw new PulseError('PULSE_ERR_FILE_EMPTY', 'the file has no rows', { field: 'file' });
  } catch (caught) {
    if (caught instanceof LoadInterrupted || caught instanceof DeliveryFailed) throw caught;
    error =
      caught instanceof PulseError
        ? { code: caught.code, message: caught.message, ...(caught.field ? { field: caught.field } : {}) }
        : { code: 'PULSE_ERR_FILE_UNREADABLE', message: (caught as Error).message ?? String(caught) };
  } finally {
    await options.reader.clear().catch(() => undefined);
  }
  const finished = new Date();
  const duration = finished.getTime() - started.getTime();
  return {
    file: basename(path),
    status: error ? 'failed' : 'done',
    format: format ?? 'unknown',
    mapping: options.mapping?.name ?? null,
    rows_read: read.rows,
    events: tally.events,
    accepted: tally.accepted,
    duplicates: tally.duplicates,
    quarantined: tally.quarantined,
    quarantined_by_reason: tally.byReason,
    quarantined_events: tally.reasons,
    error,
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_ms: duration,
    rows_per_second: duration > 0 ? Math.round((read.rows * 1000) / duration) : read.rows,
  };
}

/** An empty file, or binary bytes in a text format, fail before anything is read. */
function checkContent(path: string, format: FileFormat): void {
  if (statSync(path).size === 0)
    throw new PulseError('PULSE_ERR_FILE_EMPTY', 'the file is empty (0 bytes)', { field: 'file' });
  if (format === 'parquet') return;
  const head = Buffer.alloc(64 * 1024);
  const fd = openSync(path, 'r');
  try {
    const read = readSync(fd, head, 0, head.length, 0);
    if (head.subarray(0, read).includes(0)) {
      throw new PulseError(
        'PULSE_ERR_FILE_FORMAT',
        `the file has binary content (NUL bytes): it is not ${format === 'csv' ? 'CSV' : 'JSONL'} text`,
        { field: 'file' },
      );
    }
  } finally {
    closeSync(fd);
  }
}

async function loadMapped(
  path: string,
  format: TabularFormat,
  mapping: Mapping,
  options: LoadFileOptions,
  tally: ReportTally,
  read: { rows: number },
): Promise<void> {
  const { rows, events } = await options.reader.map(path, format, mapping);
  read.rows = rows;
  const source = `/pulse/files/${mapping.name}`;
  for await (const batch of options.reader.events(options.batchEvents ?? 5000)) {
    await deliverBatch(
      options,
      batch.map((row) => toItem(row, source)),
      tally,
    );
    options.onProgress?.({ file: basename(path), done: tally.events, total: events, unit: 'events' });
  }
}

function toItem(row: MappedRow, source: string): SourceItem {
  let data: unknown;
  try {
    data = row.data === null ? undefined : withoutNulls(JSON.parse(row.data));
  } catch (error) {
    return {
      kind: 'unparseable',
      text: row.data ?? '',
      message: `mapping output is not JSON: ${(error as Error).message}`,
    };
  }
  const event: Record<string, unknown> = { specversion: '1.0', id: row.id, source, type: row.type, data };
  if (row.time !== null) event.time = row.time;
  return { kind: 'value', value: withoutNulls(event) };
}

/** A mapping's NULL means "absent": the contract then says which required field is missing. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== null) out[key] = withoutNulls(item);
  return out;
}

async function loadCloudEvents(
  path: string,
  options: LoadFileOptions,
  tally: ReportTally,
  read: { rows: number },
): Promise<void> {
  const total = statSync(path).size;
  const size = options.batchEvents ?? 5000;
  let bytes = 0;
  let batch: SourceItem[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await deliverBatch(options, batch, tally);
    batch = [];
    options.onProgress?.({ file: basename(path), done: bytes, total, unit: 'bytes' });
  };
  for await (const { line, lineNo } of readLines(
    path,
    options.maxLineBytes ?? 1024 * 1024,
    (b) => (bytes = b),
  )) {
    if (line.trim().length === 0) continue;
    read.rows += 1;
    try {
      batch.push({ kind: 'value', value: JSON.parse(line) });
    } catch (error) {
      batch.push({
        kind: 'unparseable',
        text: line,
        message: `line ${lineNo} is not valid JSON: ${(error as Error).message}`,
      });
    }
    if (batch.length >= size) await flush();
  }
  await flush();
}
