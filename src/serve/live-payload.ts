import type { LiveValue } from '../kpis/index.js';

/** The pushed form of a live value: the numbers and their freshness, without the static definition. */
export function livePayload(value: LiveValue, lagMs: number | null): Record<string, unknown> {
  const { definition: _definition, lineage: _lineage, ...answer } = value.answer;
  return { ...answer, window_name: value.window, by: value.by, lag_ms: lagMs };
}

export function lagOf(value: LiveValue, now: Date): number | null {
  return value.newestIngestMs === null ? null : Math.max(0, now.getTime() - value.newestIngestMs);
}
