import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Deliver, Source } from '../types.js';
import { DeliveryFailed, loadFile, LoadInterrupted, type FileProgress } from './load-file.js';
import { findMapping, type Mapping } from './mapping.js';
import { MappingReader, type ReaderOptions } from './reader.js';
import type { FileReport } from './report.js';

/** Which mapping reads which files: the first rule whose glob matches the file name wins. */
export interface MappingRule {
  /** A file-name glob: `*` any characters, `?` one character. */
  readonly match: string;
  readonly mapping: string;
}

export interface FilesSourceOptions extends ReaderOptions {
  /** The watched folder; finished files move to `done/` and `failed/` inside it. */
  readonly dir: string;
  readonly mappings?: readonly MappingRule[];
  /** A file is read once its size and modification time have not changed for this long. */
  readonly stableMs?: number;
  /** How often the folder is scanned. */
  readonly pollMs?: number;
  /** Events per delivered (committed) batch. */
  readonly batchEvents?: number;
  readonly onProgress?: (progress: FileProgress) => void;
  /** Called once a file has moved, with its report. */
  readonly onFile?: (report: FileReport, movedTo: string) => void;
  readonly onError?: (error: unknown) => void;
}

/** Names that are still being written: hidden files and the usual partial-download suffixes. */
const IN_PROGRESS = /^\.|\.(part|partial|tmp|crdownload|filepart)$/i;

export function globToRegExp(glob: string): RegExp {
  // Each * becomes a lazy run without backtracking blow-up on short names; names are single path segments.
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Picks the mapping for a file: a rule's, or null (CloudEvents) for JSONL with no rule. */
export function mappingFor(file: string, rules: readonly MappingRule[]): Mapping | null | undefined {
  const name = basename(file);
  const rule = rules.find((r) => globToRegExp(r.match).test(name));
  if (rule) return findMapping(rule.mapping, 'sources.files.mappings');
  return /\.(jsonl|ndjson)$/i.test(name) ? null : undefined;
}

/**
 * Writes the report beside where the file goes, then moves the file: the move is the
 * acknowledgement, made only after every batch of the file was committed.
 */
export function settleFile(path: string, report: FileReport, root = dirname(path)): string {
  const folder = join(root, report.status);
  mkdirSync(folder, { recursive: true });
  let target = join(folder, basename(path));
  if (existsSync(target)) {
    const ext = extname(path);
    const stamp = report.finished_at.replace(/[:.]/g, '-');
    target = join(folder, `${basename(path, ext)}.${stamp}${ext}`);
  }
  writeFileSync(`${target}.report.json`, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(path, target);
  return target;
}

/**
 * The files source: watches a drop folder and loads each complete file (CSV, JSONL, Parquet)
 * through its mapping, one at a time. A file is complete once its size has been stable for
 * `stableMs` (a file renamed into the folder is complete at once, but is given the same wait).
 */
export class FilesSource implements Source {
  readonly kind = 'files';
  readonly #options: FilesSourceOptions;
  readonly #seen = new Map<string, { size: number; mtimeMs: number; since: number }>();
  readonly #abort = new AbortController();
  #reader: MappingReader | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: FilesSourceOptions) {
    this.#options = options;
    // Fail at start on a rule naming no mapping, not when the first file arrives.
    for (const rule of options.mappings ?? []) findMapping(rule.mapping, 'sources.files.mappings');
  }

  async start(deliver: Deliver): Promise<void> {
    mkdirSync(this.#options.dir, { recursive: true });
    this.#reader = await MappingReader.open(this.#options);
    const tick = () => {
      this.#running = this.#scan(deliver)
        .catch((error: unknown) => this.#options.onError?.(error))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#options.pollMs ?? 500);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
    await this.#reader?.close();
    this.#reader = undefined;
  }

  async #scan(deliver: Deliver): Promise<void> {
    const now = Date.now();
    const stableMs = this.#options.stableMs ?? 1000;
    const names = readdirSync(this.#options.dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && !IN_PROGRESS.test(entry.name))
      .map((entry) => entry.name)
      .sort();
    for (const name of [...this.#seen.keys()]) if (!names.includes(name)) this.#seen.delete(name);
    for (const name of names) {
      if (this.#stopped) return;
      const path = join(this.#options.dir, name);
      let stat;
      try {
        stat = statSync(path);
      } catch {
        continue; // moved away meanwhile
      }
      const last = this.#seen.get(name);
      if (!last || last.size !== stat.size || last.mtimeMs !== stat.mtimeMs) {
        this.#seen.set(name, { size: stat.size, mtimeMs: stat.mtimeMs, since: now });
        continue;
      }
      if (now - last.since < stableMs) continue;
      await this.#load(path, deliver);
      this.#seen.delete(name);
    }
  }

  async #load(path: string, deliver: Deliver): Promise<void> {
    let mapping: Mapping | null | undefined;
    try {
      mapping = mappingFor(path, this.#options.mappings ?? []);
    } catch {
      mapping = undefined;
    }
    try {
      const report = await loadFile(path, {
        reader: this.#reader as MappingReader,
        deliver,
        mapping: mapping ?? null,
        batchEvents: this.#options.batchEvents,
        maxLineBytes: this.#options.maxLineBytes,
        onProgress: this.#options.onProgress,
        signal: this.#abort.signal,
      });
      const movedTo = settleFile(path, report);
      this.#options.onFile?.(report, movedTo);
    } catch (error) {
      // Left in place either way: read again (duplicates only) on the next scan or start.
      if (error instanceof LoadInterrupted) return;
      if (error instanceof DeliveryFailed) this.#seen.delete(basename(path));
      throw error;
    }
  }
}
