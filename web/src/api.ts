/** The API key lives in sessionStorage: gone when the tab closes, never in a cookie or the URL bar. */
const KEY_STORAGE = 'pulse.apiKey';

export const getKey = (): string | null => sessionStorage.getItem(KEY_STORAGE);
export const setKey = (key: string | null): void => {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
};

export interface Bands {
  readonly basis: 'absolute' | 'change_vs_last_week';
  readonly warn: number;
  readonly critical: number;
}

export interface KpiAnswer {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly window: { readonly from: string; readonly to: string };
  readonly value: string | number | null;
  readonly revenue_share?: number | null;
  readonly breakdown?: readonly { key: string | null; value: string | number | null }[];
  readonly series?: readonly { ts: string; value: string | number | null }[];
  readonly as_of: string | null;
  readonly lag_ms: number | null;
  readonly definition_version: number;
  readonly quality: string;
  readonly definition?: {
    readonly description: string;
    readonly owner: string;
    readonly direction: 'higher_is_better' | 'lower_is_better';
    readonly bands: Bands;
    readonly cadence: string;
    readonly dimensions: readonly string[];
  };
  readonly lineage?: { readonly inputs: readonly string[] };
}

export interface Me {
  readonly key_id: string;
  readonly name: string | null;
  readonly roles: readonly string[];
  readonly seller_id: string | null;
}

export interface ForecastAnswer {
  readonly grain: string;
  readonly points: readonly { ts: string; value: number; lower: number; upper: number }[];
}

export interface RecordsPage {
  readonly rows: readonly Record<string, string | number | boolean | null>[];
  readonly next_offset: number | null;
}

export interface KpiComment {
  readonly id: string;
  readonly author: string;
  readonly body: string;
  readonly created_at: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  const key = getKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(path, { ...init, headers });
  const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!response.ok) throw new ApiError(response.status, body.error?.message ?? `HTTP ${response.status}`);
  return body as T;
}

export const query = (params: Record<string, string | number | undefined>): string => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};

/** A live value pushed by /v1/stream. */
export type LiveUpdate = KpiAnswer & { readonly window_name: string; readonly by: string | null };

/**
 * Follows the SSE feed of today's totals. EventSource cannot set headers, so the key goes in
 * `access_token` (the API accepts it on the stream routes only).
 */
export function followLive(
  onUpdate: (update: LiveUpdate) => void,
  onState: (open: boolean) => void,
): () => void {
  const key = getKey() ?? '';
  const source = new EventSource(`/v1/stream${query({ window: 'today', access_token: key })}`);
  source.addEventListener('kpi', (event) => {
    const update = JSON.parse((event as MessageEvent<string>).data) as LiveUpdate;
    if (update.by === null && update.window_name === 'today') onUpdate(update);
  });
  source.onopen = () => onState(true);
  source.onerror = () => onState(false);
  return () => source.close();
}

/** The roles a page needs: `admin` may do anything; sellers see their own KPIs only. */
export const canRead = (me: Me): boolean => me.roles.some((role) => role === 'read' || role === 'admin');
export const isAdmin = (me: Me): boolean => me.roles.includes('admin');

// ---- Quality (GET /v1/quality) ----------------------------------------------------------------

export type Sample = Readonly<Record<string, unknown>>;

export interface RuleVerdict {
  readonly rule: string;
  readonly table: string;
  readonly kind: string;
  readonly severity: 'warn' | 'error';
  readonly status: 'pass' | 'fail' | 'not_evaluated';
  readonly checked: number;
  readonly failed: number;
  readonly failing_sample: readonly Sample[];
  readonly at: string;
  readonly measure?: Readonly<Record<string, number | null>>;
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
  readonly failing_sample: readonly Sample[];
}

export interface KpiHold {
  readonly since: string;
  readonly rules: readonly { rule: string; table: string; failed: number }[];
}

export interface QualityReport {
  readonly enabled: boolean;
  readonly rules: number;
  readonly holds: Readonly<Record<string, KpiHold>>;
  readonly current: readonly RuleVerdict[];
  readonly scorecard: readonly ScorecardRow[];
}

// ---- Lineage (GET /v1/lineage) ----------------------------------------------------------------

export interface LineageNode {
  readonly id: string;
  readonly kind: 'contract_field' | 'bronze_field' | 'column' | 'kpi' | 'measure' | 'component';
  readonly dataset: string;
  readonly field: string;
  readonly layer?: 'bronze' | 'silver' | 'gold' | 'contract' | 'kpi';
  readonly type?: string;
  readonly description?: string;
}

export interface LineageEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: 'direct' | 'indirect';
}

export interface GlossaryTerm {
  readonly term: string;
  readonly id: string;
  readonly kind: 'kpi' | 'measure' | 'component';
  readonly definition: string;
  readonly unit?: string;
  readonly owner?: string;
  readonly contractFields: readonly string[];
}

export interface LineageGraphData {
  readonly nodes: readonly LineageNode[];
  readonly edges: readonly LineageEdge[];
  readonly models: readonly { from: string; to: string }[];
  readonly glossary: readonly GlossaryTerm[];
}

export interface ImpactAnswer {
  readonly node: LineageNode | { readonly id: string; readonly kind: 'dataset' };
  readonly direction: 'upstream' | 'downstream';
  readonly nodes: readonly LineageNode[];
  readonly kpis: readonly string[];
  readonly contractFields: readonly string[];
  readonly edges: readonly LineageEdge[];
}

// ---- Quarantine (GET /v1/quarantine, POST /v1/quarantine/replay) --------------------------------

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
  readonly payload: unknown;
}

export interface QuarantinePage {
  readonly entries: readonly QuarantineEntry[];
  readonly next_after: string | null;
}

export interface EventFix {
  readonly set?: Readonly<Record<string, unknown>>;
  readonly rename?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

export interface ReplayResult {
  readonly remediation_id: string;
  readonly accepted: number;
  readonly duplicates: number;
  readonly failed: number;
  readonly outcomes: readonly {
    id: number;
    event_id: string | null;
    outcome: 'accepted' | 'duplicate' | 'failed';
    rule?: string;
    field?: string;
    message?: string;
  }[];
}

// ---- Runs (GET /v1/runs, /v1/runs/{id}, /v1/sla-breaches) ---------------------------------------

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
  readonly models: readonly { model: string; mode: string; rows: number; duration_ms: number }[];
  readonly rows: number;
  readonly error: string | null;
  readonly retry_of: string | null;
}

export interface SlaBreach {
  readonly job: string;
  readonly run_id: string | null;
  readonly breached_at: string;
  readonly sla_ms: number;
  readonly actual_ms: number;
  readonly detail: string | null;
}
