import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, type Row } from '../warehouse/index.js';
import type { DeliveryRecord } from './dispatcher.js';

/** One recorded transition of an alert (what GET /v1/alerts lists). */
export interface AlertEventRecord {
  readonly id: string;
  readonly at: Date;
  readonly rule_id: string;
  readonly alert_key: string;
  readonly kpi: string;
  readonly transition: string;
  readonly level: string | null;
  readonly value: string | null;
  readonly as_of: string | null;
  readonly notice: unknown;
}

export interface AlertQuery {
  readonly limit: number;
  readonly rule?: string | undefined;
  readonly kpi?: string | undefined;
  readonly transition?: string | undefined;
  readonly since?: Date | undefined;
}

/**
 * The alert history and the delivery log, in the warehouse. Writes go through one chain on their
 * own connection, so they never wait on ingest and never interleave; a failed write is reported to
 * `onError` and dropped, because the log must not stop alerts from being delivered.
 */
export class AlertLog {
  readonly #connection: DuckDBConnection;
  readonly #onError: (error: unknown) => void;
  #chain: Promise<void> = Promise.resolve();

  constructor(connection: DuckDBConnection, onError: (error: unknown) => void) {
    this.#connection = connection;
    this.#onError = onError;
  }

  event(record: AlertEventRecord): void {
    this.#write(
      `INSERT INTO alert_events VALUES ($id, $at::TIMESTAMPTZ, $rule, $key, $kpi, $transition, $level, $value, $as_of::TIMESTAMPTZ, $notice)`,
      {
        id: record.id,
        at: record.at.toISOString(),
        rule: record.rule_id,
        key: record.alert_key,
        kpi: record.kpi,
        transition: record.transition,
        level: record.level,
        value: record.value,
        as_of: record.as_of,
        notice: JSON.stringify(record.notice),
      },
    );
  }

  delivery(record: DeliveryRecord): void {
    this.#write(
      `INSERT INTO alert_deliveries VALUES ($id, $kind, $channel, $attempt, $outcome, $status, $error, $at::TIMESTAMPTZ, $duration)`,
      {
        id: record.message_id,
        kind: record.kind,
        channel: record.channel,
        attempt: record.attempt,
        outcome: record.outcome,
        status: record.status,
        error: record.error,
        at: record.at.toISOString(),
        duration: record.duration_ms,
      },
    );
  }

  /** Resolves when every write queued so far is done. */
  flushed(): Promise<void> {
    return this.#chain;
  }

  async list(query: AlertQuery): Promise<Row[]> {
    await this.flushed();
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: query.limit };
    const filters: [keyof AlertQuery, string, string | number | undefined][] = [
      ['rule', 'rule_id = $rule', query.rule],
      ['kpi', 'kpi = $kpi', query.kpi],
      ['transition', 'transition = $transition', query.transition],
      ['since', 'occurred_at >= $since::TIMESTAMPTZ', query.since?.toISOString()],
    ];
    for (const [name, condition, value] of filters) {
      if (value === undefined) continue;
      where.push(condition);
      params[name] = value;
    }
    return queryRows(
      this.#connection,
      `SELECT e.id, strftime(e.occurred_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS "at", e.rule_id, e.alert_key, e.kpi, e.transition,
              e.level, e.value, strftime(e.as_of, '%Y-%m-%dT%H:%M:%S.%gZ') AS as_of, e.notice,
              coalesce((SELECT to_json(list({channel: d.channel, attempt: d.attempt, outcome: d.outcome,
                                             status: d.status, error: d.error,
                                             "at": strftime(d.attempted_at, '%Y-%m-%dT%H:%M:%S.%gZ')}
                                            ORDER BY d.attempted_at, d.attempt))::VARCHAR
                        FROM alert_deliveries d WHERE d.message_id = e.id), '[]') AS deliveries
       FROM alert_events e
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY e.occurred_at DESC, e.id
       LIMIT $limit`,
      params,
    );
  }

  async deliveries(limit: number): Promise<Row[]> {
    await this.flushed();
    return queryRows(
      this.#connection,
      `SELECT message_id, kind, channel, attempt, outcome, status, error,
              strftime(attempted_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS "at", duration_ms
       FROM alert_deliveries ORDER BY attempted_at DESC LIMIT $limit`,
      { limit },
    );
  }

  #write(sql: string, params: Record<string, string | number | null>): void {
    this.#chain = this.#chain
      .then(() => this.#connection.run(sql, params as never))
      .then(
        () => undefined,
        (error: unknown) => this.#onError(error),
      );
  }
}
