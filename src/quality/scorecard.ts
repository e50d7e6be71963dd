import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, type Row } from '../warehouse/index.js';
import type { RuleState } from './runner.js';

interface Tally {
  ruleId: string;
  table: string;
  kind: string;
  severity: string;
  day: string;
  checked: number;
  failed: number;
  evaluations: number;
  failedEvaluations: number;
  lastStatus: string;
  lastRunAt: string;
  lastFailedAt: string | null;
  sample: string | null;
}

/** Passes are tallied in memory and written at most this often (and after every full pass). */
const FLUSH_EVERY_MS = 5_000;

/**
 * Pass rates per rule, table and business day, in `quality_scorecard`. Incremental passes run
 * after every refresh, so their tallies are merged in memory and upserted in one statement.
 */
export class Scorecard {
  readonly #connection: DuckDBConnection;
  readonly #day: Intl.DateTimeFormat;
  #pending = new Map<string, Tally>();
  #flushedAt = 0;
  /** Flushes run one at a time: the refresh loop and API readers both flush. */
  #chain: Promise<void> = Promise.resolve();

  constructor(connection: DuckDBConnection, timeZone: string) {
    this.#connection = connection;
    this.#day = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
  }

  add(state: RuleState, now: Date): void {
    if (state.status === 'not_evaluated') return;
    const day = this.#day.format(now);
    const key = `${state.rule.id}|${day}`;
    const tally = this.#pending.get(key) ?? {
      ruleId: state.rule.id,
      table: state.rule.table,
      kind: state.rule.kind,
      severity: state.rule.severity,
      day,
      checked: 0,
      failed: 0,
      evaluations: 0,
      failedEvaluations: 0,
      lastStatus: 'pass',
      lastRunAt: now.toISOString(),
      lastFailedAt: null,
      sample: null,
    };
    tally.checked += state.checked;
    tally.failed += state.failed;
    tally.evaluations += 1;
    tally.lastStatus = state.status;
    tally.lastRunAt = now.toISOString();
    if (state.status === 'fail') {
      tally.failedEvaluations += 1;
      tally.lastFailedAt = now.toISOString();
      tally.sample = JSON.stringify(state.sample);
    }
    this.#pending.set(key, tally);
  }

  async flushIfDue(now: Date): Promise<void> {
    if (now.getTime() - this.#flushedAt >= FLUSH_EVERY_MS || this.#flushedAt > now.getTime())
      await this.flush(now);
  }

  flush(now: Date = new Date()): Promise<void> {
    const next = this.#chain.then(() => this.#flush(now));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #flush(now: Date): Promise<void> {
    this.#flushedAt = now.getTime();
    const tallies = [...this.#pending.values()];
    if (tallies.length === 0) return;
    this.#pending = new Map();
    const params: Record<string, string | null> = {};
    const values = tallies.map((t, i) => {
      Object.assign(params, {
        [`r${i}`]: t.ruleId,
        [`t${i}`]: t.table,
        [`k${i}`]: t.kind,
        [`s${i}`]: t.severity,
        [`d${i}`]: t.day,
        [`c${i}`]: String(t.checked),
        [`f${i}`]: String(t.failed),
        [`e${i}`]: String(t.evaluations),
        [`x${i}`]: String(t.failedEvaluations),
        [`l${i}`]: t.lastStatus,
        [`a${i}`]: t.lastRunAt,
        [`z${i}`]: t.lastFailedAt,
        [`p${i}`]: t.sample,
      });
      return `($r${i}, $t${i}, $k${i}, $s${i}, $d${i}::DATE, $c${i}::BIGINT, $f${i}::BIGINT, $e${i}::BIGINT, $x${i}::BIGINT, $l${i}, $a${i}::TIMESTAMPTZ, $z${i}::TIMESTAMPTZ, $p${i})`;
    });
    await this.#connection.run(
      `INSERT INTO quality_scorecard VALUES ${values.join(', ')}
       ON CONFLICT (rule_id, day) DO UPDATE SET
         checked = checked + excluded.checked,
         failed = failed + excluded.failed,
         evaluations = evaluations + excluded.evaluations,
         failed_evaluations = failed_evaluations + excluded.failed_evaluations,
         last_status = excluded.last_status,
         last_run_at = excluded.last_run_at,
         last_failed_at = coalesce(excluded.last_failed_at, last_failed_at),
         sample = coalesce(excluded.sample, sample)`,
      params as never,
    );
  }
}

export interface ScorecardFilter {
  readonly table?: string | undefined;
  readonly rule?: string | undefined;
  readonly severity?: string | undefined;
  readonly day?: string | undefined;
}

export interface ScorecardRow {
  readonly rule: string;
  readonly table: string;
  readonly kind: string;
  readonly severity: string;
  readonly day: string;
  readonly checked: number;
  readonly failed: number;
  readonly pass_rate: number | null;
  readonly evaluations: number;
  readonly failed_evaluations: number;
  readonly last_status: string;
  readonly last_run_at: string;
  readonly last_failed_at: string | null;
  readonly failing_sample: readonly Record<string, unknown>[];
}

/** The stored scorecard, filtered; newest day first, then by rule. */
export async function readScorecard(
  connection: DuckDBConnection,
  filter: ScorecardFilter,
  limit = 1_000,
): Promise<ScorecardRow[]> {
  const where: string[] = [];
  const params: Record<string, string> = {};
  const add = (sql: string, name: string, value: string | undefined) => {
    if (value === undefined || value === '') return;
    where.push(sql);
    params[name] = value;
  };
  add('table_name = $table', 'table', filter.table);
  add('rule_id = $rule', 'rule', filter.rule);
  add('severity = $severity', 'severity', filter.severity);
  add('day = $day::DATE', 'day', filter.day);
  const rows = await queryRows(
    connection,
    `SELECT rule_id, table_name, kind, severity, strftime(day, '%Y-%m-%d') AS day, checked::VARCHAR AS checked,
            failed::VARCHAR AS failed, evaluations::VARCHAR AS evaluations,
            failed_evaluations::VARCHAR AS failed_evaluations, last_status,
            strftime(last_run_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS last_run_at,
            strftime(last_failed_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS last_failed_at, sample
     FROM quality_scorecard ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY day DESC, rule_id LIMIT ${limit}`,
    params,
  );
  return rows.map(toScorecardRow);
}

function toScorecardRow(row: Row): ScorecardRow {
  const checked = Number(row.checked);
  const failed = Number(row.failed);
  return {
    rule: String(row.rule_id),
    table: String(row.table_name),
    kind: String(row.kind),
    severity: String(row.severity),
    day: String(row.day),
    checked,
    failed,
    pass_rate: checked === 0 ? null : (checked - failed) / checked,
    evaluations: Number(row.evaluations),
    failed_evaluations: Number(row.failed_evaluations),
    last_status: String(row.last_status),
    last_run_at: String(row.last_run_at),
    last_failed_at: row.last_failed_at === null ? null : String(row.last_failed_at),
    failing_sample: row.sample === null ? [] : (JSON.parse(String(row.sample)) as Record<string, unknown>[]),
  };
}
