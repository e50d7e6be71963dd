import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from './query.js';

const MICRO = 1_000_000;

export interface BudgetSpend {
  readonly granted: boolean;
  /** ε spent today after this request (unchanged when refused). */
  readonly spent: number;
  readonly remaining: number;
  /** The next UTC midnight, when the budget starts again. */
  readonly resetsAt: Date;
}

/**
 * The privacy budget ledger, in the warehouse so a restart forgets nothing: a key cannot reset its
 * budget by waiting for a deploy. Spends are serialised in this process (check then add is one
 * step) and kept on their own connection, apart from the ingest writer's transactions.
 */
export class PrivacyBudgetLedger {
  readonly #connection: DuckDBConnection;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(connection: DuckDBConnection) {
    this.#connection = connection;
  }

  /** Spends `epsilon` of `principal`'s budget for today (UTC) if `dailyBudget` allows it. */
  spend(
    principal: string,
    epsilon: number,
    dailyBudget: number,
    now: Date = new Date(),
  ): Promise<BudgetSpend> {
    const next = this.#tail.then(() => this.#spend(principal, epsilon, dailyBudget, now));
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** ε spent today by `principal`. */
  async spent(principal: string, now: Date = new Date()): Promise<number> {
    const rows = await queryRows(
      this.#connection,
      `SELECT spent_micro::VARCHAR AS spent FROM pulse_dp_budget WHERE principal = $principal AND day = $day::DATE`,
      { principal, day: utcDay(now) },
    );
    return rows.length === 0 ? 0 : Number(rows[0]?.spent) / MICRO;
  }

  async #spend(principal: string, epsilon: number, dailyBudget: number, now: Date): Promise<BudgetSpend> {
    const cost = Math.round(epsilon * MICRO);
    const limit = Math.round(dailyBudget * MICRO);
    const before = Math.round((await this.spent(principal, now)) * MICRO);
    const resetsAt = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
    if (before + cost > limit)
      return { granted: false, spent: before / MICRO, remaining: (limit - before) / MICRO, resetsAt };
    await this.#connection.run(
      `INSERT INTO pulse_dp_budget VALUES ($principal, $day::DATE, $cost, now())
       ON CONFLICT (principal, day) DO UPDATE
       SET spent_micro = pulse_dp_budget.spent_micro + EXCLUDED.spent_micro, updated_at = now()`,
      { principal, day: utcDay(now), cost },
    );
    return {
      granted: true,
      spent: (before + cost) / MICRO,
      remaining: (limit - before - cost) / MICRO,
      resetsAt,
    };
  }
}

function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}
