import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';

export type QualityEventKind = 'rule_failed' | 'rule_recovered' | 'kpi_held' | 'kpi_released';

/** An alert: what changed, about which rule or KPI. Alert channels (Slack, Teams) subscribe to these. */
export interface QualityEvent {
  readonly id: string;
  readonly at: string;
  readonly kind: QualityEventKind;
  readonly rule: string | null;
  readonly kpi: string | null;
  readonly table: string | null;
  readonly severity: 'warn' | 'error' | null;
  readonly failed: number | null;
  /** Rule failures: a bounded sample of failing keys. KPI holds: the rules holding it. */
  readonly detail: unknown;
}

export type QualityListener = (event: QualityEvent) => void;

/**
 * The typed hook for quality alerts: each event is stored in `quality_events`, then handed to
 * every subscriber. A subscriber that throws does not stop the others, nor the pass.
 */
export class QualityAlerts {
  readonly #listeners = new Set<QualityListener>();
  readonly #connection: DuckDBConnection;

  constructor(connection: DuckDBConnection) {
    this.#connection = connection;
  }

  subscribe(listener: QualityListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async raise(events: readonly Omit<QualityEvent, 'id'>[]): Promise<void> {
    if (events.length === 0) return;
    const stored = events.map((event) => ({ id: randomUUID(), ...event }));
    const values = stored.map(
      (_, i) => `($i${i}, $a${i}, $k${i}, $r${i}, $p${i}, $t${i}, $s${i}, $f${i}, $d${i})`,
    );
    const params: Record<string, string | null> = {};
    stored.forEach((event, i) => {
      params[`i${i}`] = event.id;
      params[`a${i}`] = event.at;
      params[`k${i}`] = event.kind;
      params[`r${i}`] = event.rule;
      params[`p${i}`] = event.kpi;
      params[`t${i}`] = event.table;
      params[`s${i}`] = event.severity;
      params[`f${i}`] = event.failed === null ? null : String(event.failed);
      params[`d${i}`] = JSON.stringify(event.detail ?? null);
    });
    await this.#connection.run(
      `INSERT INTO quality_events VALUES ${values.map((v) => v.replace(/\$f(\d+)/, '$f$1::BIGINT')).join(', ')}`,
      params as never,
    );
    for (const event of stored)
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch {
          // An alert channel's failure is its own; the quality pass goes on.
        }
      }
  }
}
