import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ContractValidator, EventType } from '../contracts/index.js';
import { protectData, type Tokeniser } from '../privacy/index.js';
import { queryRows, type BronzeWriter, type Row } from '../warehouse/index.js';
import { applyFix, type EventFix } from './fix.js';

export interface QuarantineFilter {
  readonly type?: string | undefined;
  readonly rule?: string | undefined;
  readonly field?: string | undefined;
  readonly status?: 'open' | 'remediated' | 'duplicate' | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  /** Only entries with a quarantine id above this (the page cursor). */
  readonly after?: number | undefined;
  readonly ids?: readonly number[] | undefined;
}

export interface QuarantineEntry {
  readonly id: number;
  readonly received_at: string;
  readonly source_kind: string;
  readonly event_id: string | null;
  readonly event_type: string | null;
  readonly rule: string;
  readonly field: string;
  readonly message: string;
  readonly status: string;
  readonly updated_at: string | null;
  readonly updated_by: string | null;
  /** The event as quarantined: personal data already redacted or tokenised. */
  readonly payload: unknown;
}

const ISO = `'%Y-%m-%dT%H:%M:%S.%gZ'`;

/** Quarantined events, current reason first (a failed replay records a new one), oldest first. */
export async function listQuarantine(
  connection: DuckDBConnection,
  filter: QuarantineFilter,
  limit: number,
): Promise<QuarantineEntry[]> {
  const where: string[] = [];
  const params: Record<string, string> = {};
  const add = (sql: string, name: string, value: string | undefined) => {
    if (value === undefined) return;
    where.push(sql);
    params[name] = value;
  };
  add('q.event_type = $type', 'type', filter.type);
  add('coalesce(s.rule, q.rule) = $rule', 'rule', filter.rule);
  add('coalesce(s.field, q.field) = $field', 'field', filter.field);
  add(`coalesce(s.status, 'open') = $status`, 'status', filter.status);
  add('q.received_at >= $from::TIMESTAMPTZ', 'from', filter.from);
  add('q.received_at < $to::TIMESTAMPTZ', 'to', filter.to);
  add('q.quarantine_id > $after::BIGINT', 'after', filter.after?.toString());
  if (filter.ids)
    where.push(`q.quarantine_id IN (${filter.ids.map((id) => Math.trunc(id)).join(', ') || 'NULL'})`);
  const rows = await queryRows(
    connection,
    `SELECT q.quarantine_id::VARCHAR AS id, strftime(q.received_at AT TIME ZONE 'UTC', ${ISO}) AS received_at,
            q.source_kind, q.event_id, q.event_type, coalesce(s.rule, q.rule) AS rule,
            coalesce(s.field, q.field) AS field, coalesce(s.message, q.message) AS message,
            coalesce(s.status, 'open') AS status,
            strftime(s.updated_at AT TIME ZONE 'UTC', ${ISO}) AS updated_at, s.updated_by, q.payload
     FROM quarantine q LEFT JOIN quarantine_state s USING (quarantine_id)
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY q.quarantine_id LIMIT ${Math.trunc(limit)}`,
    params,
  );
  return rows.map(toEntry);
}

function toEntry(row: Row): QuarantineEntry {
  let payload: unknown;
  try {
    payload = JSON.parse(String(row.payload));
  } catch {
    payload = String(row.payload);
  }
  return {
    id: Number(row.id),
    received_at: String(row.received_at),
    source_kind: String(row.source_kind),
    event_id: row.event_id === null ? null : String(row.event_id),
    event_type: row.event_type === null ? null : String(row.event_type),
    rule: String(row.rule),
    field: String(row.field),
    message: String(row.message),
    status: String(row.status),
    updated_at: row.updated_at === null ? null : String(row.updated_at),
    updated_by: row.updated_by === null ? null : String(row.updated_by),
    payload,
  };
}

/** What to replay: some entries, each corrected by a mapping or (one entry) replaced by a payload. */
export interface ReplayRequest {
  readonly entries: readonly QuarantineEntry[];
  readonly fix?: EventFix | undefined;
  readonly payload?: unknown;
  /** Who fixed it: the API key id (or `cli:<user>`). */
  readonly by: string;
}

export interface ReplayOutcome {
  readonly id: number;
  readonly event_id: string | null;
  readonly outcome: 'accepted' | 'duplicate' | 'failed';
  readonly rule?: string;
  readonly field?: string;
  readonly message?: string;
}

export interface ReplayResult {
  readonly remediation_id: string;
  readonly accepted: number;
  readonly duplicates: number;
  readonly failed: number;
  readonly outcomes: readonly ReplayOutcome[];
}

/**
 * Replays corrected quarantined events through the same contracts and the same bronze writer as
 * any source. Quarantined payloads were stored with personal data removed and the customer id
 * already replaced by its token: the token is kept as is (never tokenised twice) and stands in
 * for the id while the contract is checked. Entries are never deleted: a passing one is marked
 * remediated, a failing one keeps its new reason; every attempt is recorded with who made it.
 */
export class Remediator {
  readonly #connection: DuckDBConnection;
  readonly #validator: ContractValidator;
  readonly #tokeniser: Tokeniser;
  readonly #writer: BronzeWriter;
  /** Replays run one at a time: each records its outcome in a transaction on this connection. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(deps: {
    connection: DuckDBConnection;
    validator: ContractValidator;
    tokeniser: Tokeniser;
    writer: BronzeWriter;
  }) {
    this.#connection = deps.connection;
    this.#validator = deps.validator;
    this.#tokeniser = deps.tokeniser;
    this.#writer = deps.writer;
  }

  get connection(): DuckDBConnection {
    return this.#connection;
  }

  replay(request: ReplayRequest): Promise<ReplayResult> {
    const next = this.#chain.then(() => this.#replay(request));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #replay(input: ReplayRequest): Promise<ReplayResult> {
    const remediationId = randomUUID();
    const outcomes: ReplayOutcome[] = [];
    // A concurrent replay may have settled some entries since they were listed: never replay twice.
    const settled =
      input.entries.length === 0
        ? []
        : await queryRows(
            this.#connection,
            `SELECT quarantine_id::VARCHAR AS id FROM quarantine_state WHERE status <> 'open' AND quarantine_id IN (${input.entries.map((e) => Math.trunc(e.id)).join(', ')})`,
          );
    const done = new Set(settled.map((row) => Number(row.id)));
    const request = { ...input, entries: input.entries.filter((entry) => !done.has(entry.id)) };
    const staged: {
      entry: QuarantineEntry;
      id: string;
      type: string;
      source: string;
      time: string | null;
      data: string;
    }[] = [];
    for (const entry of request.entries) {
      const corrected =
        request.payload !== undefined ? request.payload : applyFix(entry.payload, request.fix ?? {});
      const checked = this.#check(corrected);
      if (checked.ok) staged.push({ entry, ...checked.event });
      else outcomes.push({ id: entry.id, event_id: entry.event_id, outcome: 'failed', ...checked.violation });
    }
    if (staged.length > 0) {
      const committed = await this.#writer.submit({
        batchId: `replay-${remediationId}`,
        sourceKind: 'replay',
        receivedAt: new Date(),
        events: staged.map(({ id, type, source, time, data }) => ({ id, type, source, time, data })),
        quarantined: [],
      });
      const duplicates = new Set(committed.duplicateIds);
      for (const item of staged)
        outcomes.push({
          id: item.entry.id,
          event_id: item.id,
          outcome: duplicates.has(item.id) ? 'duplicate' : 'accepted',
        });
    }
    outcomes.sort((a, b) => a.id - b.id);
    await this.#record(remediationId, request, outcomes);
    return {
      remediation_id: remediationId,
      accepted: outcomes.filter((o) => o.outcome === 'accepted').length,
      duplicates: outcomes.filter((o) => o.outcome === 'duplicate').length,
      failed: outcomes.filter((o) => o.outcome === 'failed').length,
      outcomes,
    };
  }

  #check(
    value: unknown,
  ):
    | { ok: true; event: { id: string; type: string; source: string; time: string | null; data: string } }
    | { ok: false; violation: { rule: string; field: string; message: string } } {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return {
        ok: false,
        violation: { rule: 'type', field: '(event)', message: 'the event must be a JSON object' },
      };
    const event = structuredClone(value) as Record<string, unknown>;
    const type = typeof event.type === 'string' ? (event.type as EventType) : undefined;
    const policy = type ? this.#validator.piiFields.get(type) : undefined;
    const data = event.data;
    let token: string | undefined;
    if (policy && typeof data === 'object' && data !== null && !Array.isArray(data)) {
      const fields = data as Record<string, unknown>;
      for (const field of policy.drop) if (fields[field] === '[redacted]') delete fields[field];
      const tokenised = policy.tokenise[0];
      if (tokenised && fields[tokenised] === undefined && typeof fields.customer_token === 'string') {
        token = fields.customer_token;
        fields[tokenised] = token;
      }
      delete fields.customer_token;
    }
    const result = this.#validator.validate(event);
    if (!result.ok) return { ok: false, violation: result.violation };
    const protectedData = protectData(
      result.event.data as Record<string, unknown>,
      policy ?? { drop: [], tokenise: [] },
      this.#tokeniser,
    );
    if (token !== undefined) protectedData.customer_token = token;
    return {
      ok: true,
      event: {
        id: result.event.id,
        type: result.event.type,
        source: result.event.source,
        time: result.event.time ?? null,
        data: JSON.stringify(protectedData),
      },
    };
  }

  async #record(
    remediationId: string,
    request: ReplayRequest,
    outcomes: readonly ReplayOutcome[],
  ): Promise<void> {
    if (outcomes.length === 0) return;
    const fix = JSON.stringify(request.payload !== undefined ? { payload: 'replaced' } : (request.fix ?? {}));
    const connection = this.#connection;
    await connection.run('BEGIN TRANSACTION');
    try {
      for (const outcome of outcomes) {
        const status =
          outcome.outcome === 'accepted'
            ? 'remediated'
            : outcome.outcome === 'duplicate'
              ? 'duplicate'
              : 'open';
        const entry = request.entries.find((e) => e.id === outcome.id) as QuarantineEntry;
        const params = {
          id: String(outcome.id),
          status,
          rule: outcome.rule ?? entry.rule,
          field: outcome.field ?? entry.field,
          message:
            outcome.message ??
            (outcome.outcome === 'failed' ? entry.message : `replayed: ${outcome.outcome}`),
          event: outcome.event_id,
          by: request.by,
        };
        await connection.run(
          `INSERT OR REPLACE INTO quarantine_state VALUES ($id::BIGINT, $status, $rule, $field, $message, $event, now(), $by)`,
          params as never,
        );
        await connection.run(
          `INSERT INTO quarantine_remediations VALUES ($rid, $id::BIGINT, now(), $by, $fix, $outcome, $rule, $field, $message, $event)`,
          {
            rid: remediationId,
            id: params.id,
            by: params.by,
            fix,
            outcome: outcome.outcome,
            rule: params.rule,
            field: params.field,
            message: params.message,
            event: params.event,
          } as never,
        );
      }
      await connection.run('COMMIT');
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}
