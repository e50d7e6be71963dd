import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { PulseError } from '../errors.js';
import { queryRows } from '../warehouse/index.js';
import type { ModelDefinition } from './definition.js';
import { downstreamOf, orderModels } from './graph.js';
import { renderModel } from './template.js';
import { materializeChangedKeys } from './changed-keys.js';
import { businessTimeColumns, minutesOf } from './changed-minutes.js';

/** Tables the models may read with `{{ source('…') }}`: the warehouse's landing zone. */
export const SOURCES = ['bronze_events'] as const;

export interface RunOptions {
  /** Rebuild every model from scratch (the reference path, and `pulse backfill`). */
  readonly full?: boolean;
  /** Only these models and what is downstream of them. */
  readonly select?: readonly string[];
  /** What asked for the run (recorded in the run history): refresh, manual, backfill, retry, a job. */
  readonly trigger?: string;
  /**
   * Read bronze only up to this ingest sequence instead of all of it: a retry reproduces the
   * watermark range of the run it retries, whatever arrived since.
   */
  readonly upTo?: bigint;
  /** The failed run this one retries. */
  readonly retryOf?: string;
  /** Told about each model as it runs (OpenLineage); a throw fails the run like a SQL error. */
  readonly observer?: RunObserver;
}

/** Follows a run model by model; the run's transaction commits only after every model finished. */
export interface RunObserver {
  modelStarted(run: RunIdentity, model: ModelDefinition): void | Promise<void>;
  modelFinished(run: RunIdentity, model: ModelDefinition, result: ModelRunResult): void | Promise<void>;
  /** After COMMIT: what modelFinished reported is now visible. */
  runCommitted(run: RunIdentity, result: RunResult): void;
  /** After ROLLBACK: nothing of the run is visible, even the models that finished. */
  runFailed(run: RunIdentity, error: unknown): void;
}

export interface RunIdentity {
  readonly runId: string;
  readonly trigger: string;
  readonly startedAt: Date;
  readonly watermarkFrom: bigint | null;
  readonly watermarkTo: bigint | null;
}

export interface ModelRunResult {
  readonly model: string;
  readonly mode: 'full' | 'incremental' | 'view' | 'skipped';
  /** Rows written (for a full build: the table's rows; incremental: the rows recomputed). */
  readonly rows: number;
  readonly durationMs: number;
}

export interface RunResult {
  readonly runId: string;
  readonly status: 'success' | 'skipped';
  readonly watermarkFrom: bigint | null;
  readonly watermarkTo: bigint;
  readonly models: readonly ModelRunResult[];
  readonly durationMs: number;
  /** Time spent reading watermarks and catalog before the first model, and in COMMIT. */
  readonly setupMs: number;
  readonly commitMs: number;
  /**
   * For each tracked model the run rewrote incrementally: the minutes (epoch ms) of the business
   * times of its old and new rows. A tracked model written in full is absent here: all changed.
   */
  readonly changedMinutes: ReadonlyMap<string, readonly number[]>;
}

/** Told of every run that committed, whatever started it (refresh, backfill, retry). */
export type CommitListener = (result: RunResult) => void;

interface ModelState {
  readonly watermark: bigint;
  readonly hash: string;
}

const DELTA_TABLE = 'pulse_delta';

/**
 * Runs the SQL models in dependency order, all in one transaction, so readers see either the
 * previous state of every table or the new one. Incremental models recompute only the rows
 * touched by events past their watermark; the watermarks move in the same transaction.
 */
export class ModelRunner {
  readonly #connection: DuckDBConnection;
  readonly models: readonly ModelDefinition[];
  /** Follows every run that does not bring its own observer (OpenLineage emission). */
  observer: RunObserver | undefined;
  /**
   * The tables and views that exist, as of the last run that committed: the catalog lookup costs
   * more than many a model's delta. A run that fails forgets it (its DDL rolled back), so the next
   * run reads the catalog again; a relation dropped behind the runner's back fails a run the same way.
   */
  #relations: Set<string> | undefined;
  /** Models whose changed minutes a run reports, and their business-time columns once read. */
  readonly #tracked = new Map<string, readonly string[] | undefined>();
  readonly #commitListeners = new Set<CommitListener>();

  constructor(connection: DuckDBConnection, models: readonly ModelDefinition[]) {
    this.#connection = connection;
    this.models = orderModels(models, SOURCES);
  }

  /** Report the changed minutes of these models in each run's result (the live minute buckets). */
  trackChangedMinutes(models: Iterable<string>): void {
    for (const model of models) if (!this.#tracked.has(model)) this.#tracked.set(model, undefined);
  }

  onCommit(listener: CommitListener): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  async run(options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const runId = randomUUID();
    const startedAt = new Date();
    const connection = this.#connection;
    const selected = options.select ? this.#selection(options.select) : undefined;
    const trigger = options.trigger ?? (options.full ? 'manual' : 'refresh');
    const identity: { -readonly [K in keyof RunIdentity]: RunIdentity[K] } = {
      runId,
      trigger,
      startedAt,
      watermarkFrom: null,
      watermarkTo: null,
    };
    const observer = options.observer ?? this.observer;
    await connection.run('BEGIN TRANSACTION');
    try {
      const states = await this.#states();
      const existing = this.#relations ?? (await this.#existingRelations());
      this.#relations = undefined;
      const stale = new Set(
        this.models
          .filter((model) => {
            const state = states.get(model.name);
            return options.full || !state || state.hash !== model.hash || !existing.has(model.name);
          })
          .map((model) => model.name),
      );
      const rebuild = downstreamOf(this.models, stale);
      const lowest = [...states.values()].reduce<bigint | null>(
        (min, state) => (min === null || state.watermark < min ? state.watermark : min),
        null,
      );
      identity.watermarkFrom = lowest;
      const arrived = await this.#arrivedSince(lowest ?? -1n);
      const changedTypes = arrived.types;
      const hi = options.upTo ?? arrived.hi;
      identity.watermarkTo = hi;
      const written = new Map<string, number>();
      const states_: { model: string; hash: string }[] = [];
      const results: ModelRunResult[] = [];
      const changedMinutes = new Map<string, readonly number[]>();
      const setupMs = performance.now() - started;
      for (const model of this.models) {
        if (selected && !selected.has(model.name)) continue;
        const modelStarted = performance.now();
        const state = states.get(model.name);
        const full = rebuild.has(model.name);
        const upstreamWrote = model.refs.some((ref) => (written.get(ref) ?? 0) > 0);
        if (
          !full &&
          state &&
          (state.watermark >= hi || !(upstreamWrote || this.#sourceChanged(model, changedTypes)))
        ) {
          // Nothing it reads changed since its watermark: its delta is empty, so only the watermark moves.
          if (state.watermark < hi) states_.push({ model: model.name, hash: model.hash });
          results.push({ model: model.name, mode: 'skipped', rows: 0, durationMs: 0 });
          continue;
        }
        const lo = full || !state ? -1n : state.watermark;
        await observer?.modelStarted(identity, model);
        const { mode, rows, minutes } = await this.#materialize(
          model,
          full,
          lo,
          hi,
          options.upTo !== undefined,
        );
        if (minutes) changedMinutes.set(model.name, minutes);
        written.set(model.name, mode === 'view' ? (upstreamWrote ? 1 : 0) : rows);
        states_.push({ model: model.name, hash: model.hash });
        const modelResult = { model: model.name, mode, rows, durationMs: performance.now() - modelStarted };
        results.push(modelResult);
        await observer?.modelFinished(identity, model, modelResult);
      }
      await this.#saveStates(states_, states, hi);
      const worked = results.some((result) => result.mode !== 'skipped');
      if (worked) {
        await connection.run(
          `INSERT INTO pulse_runs (run_id, started_at, finished_at, mode, status, watermark_from, watermark_to, models, error, trigger, retry_of, duration_ms)
           VALUES ($id, $started, $finished, $mode, 'success', $from, $to, $models, NULL, $trigger, $retryOf, $duration)`,
          {
            id: runId,
            started: startedAt.toISOString(),
            // Not now(): inside the run's transaction DuckDB answers the time the transaction began.
            finished: new Date().toISOString(),
            mode: options.full ? 'full' : 'incremental',
            from: lowest === null ? null : lowest.toString(),
            to: hi.toString(),
            models: JSON.stringify(results),
            trigger,
            retryOf: options.retryOf ?? null,
            duration: performance.now() - started,
          } as never,
        );
      }
      const commitStarted = performance.now();
      await connection.run('COMMIT');
      this.#relations = new Set([
        ...existing,
        ...results.filter((r) => r.mode !== 'skipped').map((r) => r.model),
      ]);
      const result: RunResult = {
        setupMs,
        commitMs: performance.now() - commitStarted,
        runId,
        status: worked ? 'success' : 'skipped',
        watermarkFrom: lowest,
        watermarkTo: hi,
        models: results,
        durationMs: performance.now() - started,
        changedMinutes,
      };
      observer?.runCommitted(identity, result);
      for (const listener of this.#commitListeners) listener(result);
      return result;
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => undefined);
      // A column list read inside the failed transaction may describe a table that was rolled back.
      for (const model of this.#tracked.keys()) this.#tracked.set(model, undefined);
      await this.#recordFailure(identity, options, performance.now() - started, error);
      observer?.runFailed(identity, error);
      throw error;
    }
  }

  /**
   * Runs again the watermark range of a failed run: the same bronze rows, so the same result as
   * if it had not failed. Idempotent: once the range is applied a retry has nothing left to do.
   */
  async retry(runId: string, options: Pick<RunOptions, 'observer'> = {}): Promise<RunResult> {
    const rows = await queryRows(
      this.#connection,
      `SELECT status, mode, watermark_to::VARCHAR AS watermark_to FROM pulse_runs WHERE run_id = $id`,
      { id: runId },
    );
    const failed = rows[0];
    if (!failed) throw new PulseError('PULSE_ERR_NOT_FOUND', `no run "${runId}"`, { field: 'RUN_ID' });
    if (failed.status !== 'failed') {
      throw new PulseError(
        'PULSE_ERR_USAGE',
        `run "${runId}" did not fail (its status is ${String(failed.status)})`,
        {
          field: 'RUN_ID',
        },
      );
    }
    if (failed.watermark_to === null) {
      throw new PulseError(
        'PULSE_ERR_USAGE',
        `run "${runId}" failed before it read its watermark range: run the models instead`,
        {
          field: 'RUN_ID',
        },
      );
    }
    return this.run({
      ...options,
      full: failed.mode === 'full',
      upTo: BigInt(String(failed.watermark_to)),
      trigger: 'retry',
      retryOf: runId,
    });
  }

  #selection(names: readonly string[]): Set<string> {
    const unknown = names.filter((name) => !this.models.some((model) => model.name === name));
    if (unknown.length > 0) throw new Error(`unknown model(s): ${unknown.join(', ')}`);
    return downstreamOf(this.models, new Set(names));
  }

  async #materialize(
    model: ModelDefinition,
    full: boolean,
    lo: bigint,
    hi: bigint,
    bounded: boolean,
  ): Promise<{ mode: ModelRunResult['mode']; rows: number; minutes?: number[] }> {
    const connection = this.#connection;
    // A bounded run reads bronze only up to hi (a retry); otherwise the transaction's snapshot is the bound.
    const resolve = (name: string): string =>
      bounded && (SOURCES as readonly string[]).includes(name)
        ? `(SELECT * FROM ${name} WHERE ingest_seq <= ${hi.toString()})`
        : name;
    const render = (incremental: boolean): string =>
      renderModel(model.sql, { incremental, lo, hi, self: model.name, resolve });
    const order = model.orderBy ? ` ORDER BY ${model.orderBy}` : '';
    if (model.materialized === 'view') {
      if (full) await connection.run(`CREATE OR REPLACE VIEW ${model.name} AS ${render(false)}`);
      return { mode: 'view', rows: 0 };
    }
    if (full || model.materialized === 'table') {
      const rows = await createTableAs(
        connection,
        `CREATE OR REPLACE TABLE ${model.name} AS SELECT * FROM (${render(false)})${order}`,
      );
      if (this.#tracked.has(model.name)) this.#tracked.set(model.name, undefined);
      return { mode: 'full', rows };
    }
    const tracked = this.#tracked.has(model.name);
    const delta = model.changedKeys
      ? await materializeChangedKeys(connection, render(true), model.changedKeys, model.name)
      : render(true);
    if (model.uniqueKey.length === 0 && !tracked) {
      // Append-only: the new rows go straight in.
      const inserted = await connection.run(`INSERT INTO ${model.name} SELECT * FROM (${delta})${order}`);
      return { mode: 'incremental', rows: inserted.rowsChanged };
    }
    const changed = await createTableAs(
      connection,
      `CREATE OR REPLACE TEMP TABLE ${DELTA_TABLE} AS ${delta}`,
    );
    // Most runs touch no row of most models: the delete and insert would find nothing to do.
    if (changed === 0) return { mode: 'incremental', rows: 0, ...(tracked ? { minutes: [] } : {}) };
    const columns = tracked ? await this.#timeColumns(model.name) : [];
    const minutes = new Set(tracked ? await minutesOf(connection, DELTA_TABLE, columns) : []);
    if (model.uniqueKey.length > 0) {
      const match = model.uniqueKey.map((column) => `${model.name}.${column} = d.${column}`).join(' AND ');
      const existing = model.newKeysFrom
        ? `(SELECT * FROM ${DELTA_TABLE} WHERE ${model.newKeysFrom} <= ${lo.toString()})`
        : DELTA_TABLE;
      if (tracked && columns.length > 0) {
        // The old versions' minutes too: a row that moved, or left a measure, changed them. Read
        // by a semi join before the delete, not with DELETE … RETURNING: DuckDB fetches every
        // column of each deleted row for it (fact_order, 3,586 rows: 370 ms, against 7 ms here).
        const old = `(SELECT ${model.name}.* FROM ${model.name} SEMI JOIN ${existing} d ON ${match})`;
        for (const minute of await minutesOf(connection, old, columns)) minutes.add(minute);
      }
      await connection.run(`DELETE FROM ${model.name} USING ${existing} d WHERE ${match}`);
    }
    const inserted = await connection.run(`INSERT INTO ${model.name} SELECT * FROM ${DELTA_TABLE}${order}`);
    const rows = inserted.rowsChanged;
    return { mode: 'incremental', rows, ...(tracked ? { minutes: [...minutes].sort((a, b) => a - b) } : {}) };
  }

  async #timeColumns(model: string): Promise<readonly string[]> {
    const known = this.#tracked.get(model);
    if (known) return known;
    const columns = await businessTimeColumns(this.#connection, model);
    this.#tracked.set(model, columns);
    return columns;
  }

  /**
   * Moves the watermarks. An UPDATE of the models whose SQL did not change: INSERT OR REPLACE costs
   * several times more on DuckDB and runs on every refresh.
   */
  async #saveStates(
    saved: readonly { model: string; hash: string }[],
    before: ReadonlyMap<string, ModelState>,
    hi: bigint,
  ): Promise<void> {
    const moved = saved.filter((entry) => before.get(entry.model)?.hash === entry.hash);
    const replaced = saved.filter((entry) => before.get(entry.model)?.hash !== entry.hash);
    if (moved.length > 0) {
      const params: Record<string, string> = { hi: hi.toString() };
      moved.forEach((entry, i) => (params[`m${i}`] = entry.model));
      await this.#connection.run(
        `UPDATE pulse_model_state SET watermark = $hi::BIGINT, updated_at = now()
         WHERE model IN (${moved.map((_, i) => `$m${i}`).join(', ')})`,
        params,
      );
    }
    if (replaced.length > 0) {
      const values = replaced.map((_, i) => `($m${i}, $hi, $h${i}, now())`).join(', ');
      const params: Record<string, string> = { hi: hi.toString() };
      replaced.forEach((entry, i) => {
        params[`m${i}`] = entry.model;
        params[`h${i}`] = entry.hash;
      });
      await this.#connection.run(`INSERT OR REPLACE INTO pulse_model_state VALUES ${values}`, params);
    }
  }

  /**
   * What bronze received after `lo`: the event types, and the highest sequence (the run's high
   * watermark; `lo` when nothing arrived, as every sequence up to it is already in bronze). One
   * scan that zone maps keep to the new rows: an unfiltered max(ingest_seq) read the whole column
   * at every run.
   */
  async #arrivedSince(lo: bigint): Promise<{ types: Set<string>; hi: bigint }> {
    const rows = await queryRows(
      this.#connection,
      `SELECT event_type, max(ingest_seq)::VARCHAR AS hi FROM bronze_events
       WHERE ingest_seq > $lo::BIGINT GROUP BY event_type`,
      { lo: lo.toString() },
    );
    let hi = lo < 0n ? 0n : lo;
    for (const row of rows) {
      const seq = BigInt(String(row.hi));
      if (seq > hi) hi = seq;
    }
    return { types: new Set(rows.map((row) => String(row.event_type))), hi };
  }

  #sourceChanged(model: ModelDefinition, changedTypes: ReadonlySet<string>): boolean {
    if (model.sources.length === 0) return false;
    if (model.eventTypes.length === 0) return changedTypes.size > 0;
    return model.eventTypes.some((type) => changedTypes.has(type));
  }

  async #states(): Promise<Map<string, ModelState>> {
    const rows = await queryRows(
      this.#connection,
      `SELECT model, watermark::VARCHAR AS watermark, sql_hash FROM pulse_model_state`,
    );
    return new Map(
      rows.map((row) => [
        String(row.model),
        { watermark: BigInt(String(row.watermark)), hash: String(row.sql_hash) },
      ]),
    );
  }

  async #existingRelations(): Promise<Set<string>> {
    const rows = await queryRows(
      this.#connection,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_catalog = current_database()`,
    );
    return new Set(rows.map((row) => String(row.table_name)));
  }

  async #recordFailure(
    run: RunIdentity,
    options: RunOptions,
    durationMs: number,
    error: unknown,
  ): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    await this.#connection
      .run(
        `INSERT INTO pulse_runs (run_id, started_at, finished_at, mode, status, watermark_from, watermark_to, models, error, trigger, retry_of, duration_ms)
         VALUES ($id, $started, now(), $mode, 'failed', $from, $to, NULL, $error, $trigger, $retryOf, $duration)`,
        {
          id: run.runId,
          started: run.startedAt.toISOString(),
          mode: options.full ? 'full' : 'incremental',
          from: run.watermarkFrom === null ? null : run.watermarkFrom.toString(),
          to: run.watermarkTo === null ? null : run.watermarkTo.toString(),
          error: message.slice(0, 4000),
          trigger: run.trigger,
          retryOf: options.retryOf ?? null,
          duration: durationMs,
        } as never,
      )
      .catch(() => undefined);
  }
}

/** Runs a CREATE TABLE … AS and returns the rows it wrote (DuckDB answers with their count). */
async function createTableAs(connection: DuckDBConnection, sql: string): Promise<number> {
  const reader = await connection.runAndReadAll(sql);
  const count = reader.getRows()[0]?.[0];
  return Number(count ?? 0);
}
