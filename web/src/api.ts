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
