/**
 * The checks at the end of a chaos run: what the DuckDB file holds against what the producers were
 * promised (every acknowledged event stored, none twice), and the KPIs the crashed-and-restarted
 * Pulse serves against a full recompute of a copy of the same file (`pulse backfill`).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadCatalogue } from '../src/kpis/index.js';
import { chaosEnv, PULSE_BIN } from './pulse-node.js';

export interface StoredCheck {
  /** Bronze rows, distinct event ids among them, acknowledged ids missing from bronze, and quarantined ids found in it. */
  readonly rows: number;
  readonly distinctIds: number;
  readonly duplicates: number;
  readonly missing: readonly string[];
}

/** Opens the (stopped) file read-only and compares bronze with the acknowledged ids. */
export async function checkStored(dbPath: string, acknowledged: ReadonlySet<string>): Promise<StoredCheck> {
  const instance = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const counts = await connection.runAndReadAll(
      'SELECT count(*)::BIGINT AS n, count(DISTINCT event_id)::BIGINT AS ids FROM bronze_events',
    );
    const [n, ids] = counts.getRows()[0] as [bigint, bigint];
    const stored = new Set<string>();
    const reader = await connection.runAndReadAll('SELECT event_id FROM bronze_events');
    for (const row of reader.getRows()) stored.add(row[0] as string);
    const missing = [...acknowledged].filter((id) => !stored.has(id));
    return { rows: Number(n), distinctIds: Number(ids), duplicates: Number(n - ids), missing };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Every KPI over an explicit window: overall, by each of its dimensions and as an hourly series. */
export async function kpiAnswers(
  url: string,
  auth: Record<string, string>,
  window: { from: Date; to: Date },
): Promise<Map<string, string>> {
  const answers = new Map<string, string>();
  const range = `from=${window.from.toISOString()}&to=${window.to.toISOString()}`;
  for (const kpi of loadCatalogue().kpis) {
    for (const extra of ['', ...kpi.dimensions.map((d) => `&by=${d}`), '&series=hour']) {
      const response = await fetch(`${url}/v1/kpis/${kpi.id}?${range}${extra}`, { headers: auth });
      const body = (await response.json()) as Record<string, unknown>;
      // How long ago the data was refreshed differs between two processes by nature.
      delete body.lag_ms;
      answers.set(`${kpi.id}${extra}`, `${response.status} ${JSON.stringify(body)}`);
    }
  }
  return answers;
}

/** How many answers carry a value (an empty comparison would prove nothing). */
export function answersWithData(answers: Map<string, string>): number {
  return [...answers.values()].filter(
    (text) => /"value":(?!null)[^,}]/.test(text) && !/"value":"?0(\.0+)?"?[,}]/.test(text),
  ).length;
}

/** The keys whose answers differ (or exist on one side only). */
export function mismatches(served: Map<string, string>, reference: Map<string, string>): string[] {
  const keys = new Set([...served.keys(), ...reference.keys()]);
  return [...keys].filter((key) => served.get(key) !== reference.get(key));
}

/** Waits until the refresh loop has caught up with every committed event (readyz tells both). */
export async function waitForRefresh(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/readyz`);
    const body = (await response.json()) as {
      checks?: { warehouse?: { last_ingest_seq?: string }; refresh?: { watermark?: string | null } };
    };
    const seq = body.checks?.warehouse?.last_ingest_seq;
    if (response.status === 200 && seq !== undefined && body.checks?.refresh?.watermark === seq) return;
    if (Date.now() > deadline) throw new Error(`the refresh did not catch up: ${JSON.stringify(body)}`);
    await sleep(100);
  }
}

/** Copies the stopped file and rebuilds every model on the copy from bronze with `pulse backfill`. */
export function fullRecomputeCopy(dir: string, dbPath: string, copyPath: string): void {
  copyFileSync(dbPath, copyPath);
  if (existsSync(`${dbPath}.wal`)) copyFileSync(`${dbPath}.wal`, `${copyPath}.wal`);
  const result = spawnSync(process.execPath, [PULSE_BIN, 'backfill', '--db', copyPath], {
    cwd: dir,
    env: chaosEnv(),
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (result.status !== 0) throw new Error(`pulse backfill failed (${result.status}): ${result.stderr}`);
}
