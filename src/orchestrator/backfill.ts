import type { DuckDBConnection } from '@duckdb/node-api';
import type { ModelRunner, RunResult } from '../models/index.js';
import { queryRows } from '../warehouse/index.js';

export interface BackfillPlan {
  /** Bronze up to this sequence holds everything before `from`: the full rebuild reads that. */
  readonly start: bigint;
  /** One step per business day: bronze up to this sequence holds everything before its end. */
  readonly days: readonly { readonly day: string; readonly upTo: bigint }[];
}

export type BackfillProgress = (done: number, total: number, label: string, result: RunResult) => void;

/**
 * Plans a backfill of the business days [from, to): each day's bound is the highest ingest
 * sequence of an event whose business time is before the day's end (so late events count on
 * the day they were ingested in order), never decreasing.
 */
export async function planBackfill(
  connection: DuckDBConnection,
  from: string,
  to: string,
  timeZone: string,
): Promise<BackfillPlan> {
  const bound = async (day: string): Promise<bigint> => {
    const rows = await queryRows(
      connection,
      `SELECT coalesce(max(ingest_seq), 0)::VARCHAR AS seq FROM bronze_events
       WHERE coalesce(event_time, ingested_at) < timezone($tz, $day::DATE::TIMESTAMP)`,
      { tz: timeZone, day },
    );
    return BigInt(String(rows[0]?.seq ?? '0'));
  };
  const start = await bound(from);
  const days: { day: string; upTo: bigint }[] = [];
  let previous = start;
  for (let day = from; day < to; day = nextDay(day)) {
    const upTo = await bound(nextDay(day));
    previous = upTo > previous ? upTo : previous;
    days.push({ day, upTo: previous });
  }
  return { start, days };
}

/**
 * Rebuilds every model from bronze as it stood before `from`, then replays one business day per
 * run (each committed and recorded with trigger `backfill`), so an interrupted backfill keeps the
 * days it finished and the models end exactly where an incremental history would.
 */
export async function runBackfill(
  runner: ModelRunner,
  plan: BackfillPlan,
  progress: BackfillProgress,
): Promise<RunResult[]> {
  const total = plan.days.length + 1;
  const results: RunResult[] = [];
  const first = await runner.run({ full: true, upTo: plan.start, trigger: 'backfill' });
  results.push(first);
  progress(1, total, 'rebuild before the first day', first);
  for (const [i, step] of plan.days.entries()) {
    const result = await runner.run({ upTo: step.upTo, trigger: 'backfill' });
    results.push(result);
    progress(i + 2, total, step.day, result);
  }
  return results;
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}
