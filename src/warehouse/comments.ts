import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from './query.js';

export interface KpiComment {
  readonly id: string;
  readonly kpi_id: string;
  readonly author: string;
  readonly body: string;
  readonly created_at: string;
}

/** Stores a comment on a KPI; the author is the name of the key that wrote it. */
export async function insertKpiComment(
  connection: DuckDBConnection,
  comment: { kpiId: string; author: string; keyId: string; body: string },
): Promise<KpiComment> {
  const id = randomUUID();
  const rows = await queryRows(
    connection,
    `INSERT INTO pulse_kpi_comments VALUES ($id, $kpi, $author, $key, $body, now())
     RETURNING epoch_ms(created_at) AS created_ms`,
    { id, kpi: comment.kpiId, author: comment.author, key: comment.keyId, body: comment.body },
  );
  return {
    id,
    kpi_id: comment.kpiId,
    author: comment.author,
    body: comment.body,
    created_at: new Date(Number(rows[0]?.created_ms)).toISOString(),
  };
}

/** The newest comments on a KPI first. */
export async function listKpiComments(
  connection: DuckDBConnection,
  kpiId: string,
  limit: number,
): Promise<KpiComment[]> {
  const rows = await queryRows(
    connection,
    `SELECT comment_id, author, body, epoch_ms(created_at) AS created_ms
     FROM pulse_kpi_comments WHERE kpi_id = $kpi ORDER BY created_at DESC, comment_id LIMIT ${limit}`,
    { kpi: kpiId },
  );
  return rows.map((row) => ({
    id: String(row.comment_id),
    kpi_id: kpiId,
    author: String(row.author),
    body: String(row.body),
    created_at: new Date(Number(row.created_ms)).toISOString(),
  }));
}
