import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, type Row } from '../warehouse/index.js';

export interface RunRecord {
  readonly id: string;
  readonly trigger: string | null;
  readonly mode: string;
  readonly status: 'success' | 'failed';
  readonly started_at: string;
  readonly finished_at: string | null;
  readonly duration_ms: number | null;
  readonly watermark_from: string | null;
  readonly watermark_to: string | null;
  /** Each model the run worked on, with the rows it wrote (skipped models left out). */
  readonly models: readonly { model: string; mode: string; rows: number; duration_ms: number }[];
  readonly rows: number;
  readonly error: string | null;
  readonly retry_of: string | null;
}

/** An SLA breach as stored in pulse_sla_breaches (src/orchestrator/sla.ts writes them). */
export interface SlaBreachRecord {
  readonly job: string;
  readonly run_id: string | null;
  readonly breached_at: string;
  readonly sla_ms: number;
  readonly actual_ms: number;
  readonly detail: string | null;
}

export interface RunListQuery {
  readonly limit: number;
  readonly status?: 'success' | 'failed';
  readonly trigger?: string;
}

const COLUMNS = `run_id, trigger, mode, status, strftime(started_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS started_at,
  strftime(finished_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS finished_at, duration_ms,
  watermark_from::VARCHAR AS watermark_from, watermark_to::VARCHAR AS watermark_to, models, error, retry_of`;

/** The model runs recorded in the warehouse (pulse_runs) and the SLA breaches, newest first. */
export class RunHistory {
  readonly #connection: DuckDBConnection;
  readonly #pendingBreaches: () => Promise<void>;

  /** `pendingBreaches` resolves once the breaches recorded so far are written (SlaMonitor.flush). */
  constructor(connection: DuckDBConnection, pendingBreaches: () => Promise<void> = async () => undefined) {
    this.#connection = connection;
    this.#pendingBreaches = pendingBreaches;
  }

  async list(query: RunListQuery): Promise<RunRecord[]> {
    const rows = await queryRows(
      this.#connection,
      `SELECT ${COLUMNS} FROM pulse_runs
       WHERE ($status::VARCHAR IS NULL OR status = $status::VARCHAR) AND ($trigger::VARCHAR IS NULL OR trigger = $trigger::VARCHAR)
       ORDER BY started_at DESC, run_id LIMIT $limit::INTEGER`,
      { status: query.status ?? null, trigger: query.trigger ?? null, limit: query.limit } as never,
    );
    return rows.map(toRecord);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const rows = await queryRows(this.#connection, `SELECT ${COLUMNS} FROM pulse_runs WHERE run_id = $id`, {
      id,
    });
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** The latest SLA breaches, newest first. */
  async breaches(limit: number): Promise<SlaBreachRecord[]> {
    await this.#pendingBreaches();
    const rows = await queryRows(
      this.#connection,
      `SELECT job, run_id, strftime(breached_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS breached_at,
              sla_ms, actual_ms, detail
       FROM pulse_sla_breaches ORDER BY breached_at DESC, job LIMIT $limit::INTEGER`,
      { limit } as never,
    );
    return rows.map((row) => ({
      job: String(row.job),
      run_id: row.run_id === null ? null : String(row.run_id),
      breached_at: String(row.breached_at),
      sla_ms: Number(row.sla_ms),
      actual_ms: Math.round(Number(row.actual_ms) * 10) / 10,
      detail: row.detail === null ? null : String(row.detail),
    }));
  }
}

function toRecord(row: Row): RunRecord {
  const models = row.models
    ? (JSON.parse(String(row.models)) as { model: string; mode: string; rows: number; durationMs: number }[])
        .filter((model) => model.mode !== 'skipped')
        .map((model) => ({
          model: model.model,
          mode: model.mode,
          rows: model.rows,
          duration_ms: Math.round(model.durationMs * 10) / 10,
        }))
    : [];
  return {
    id: String(row.run_id),
    trigger: row.trigger === null ? null : String(row.trigger),
    mode: String(row.mode),
    status: row.status as RunRecord['status'],
    started_at: String(row.started_at),
    finished_at: row.finished_at === null ? null : String(row.finished_at),
    duration_ms: row.duration_ms === null ? null : Math.round(Number(row.duration_ms) * 10) / 10,
    watermark_from: row.watermark_from === null ? null : String(row.watermark_from),
    watermark_to: row.watermark_to === null ? null : String(row.watermark_to),
    models,
    rows: models.reduce((sum, model) => sum + model.rows, 0),
    error: row.error === null ? null : String(row.error),
    retry_of: row.retry_of === null ? null : String(row.retry_of),
  };
}
