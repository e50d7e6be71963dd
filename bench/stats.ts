/**
 * Statistics and formatting for the benchmarks: medians, percentiles and min–max summaries, and the
 * number formats the report uses. Pure functions, no I/O.
 */

/** A figure over several runs: the median, the extremes and how many runs it summarises. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

function sorted(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
}

/**
 * The p-th percentile (0–100) by linear interpolation between the closest ranks (the "R-7" rule of
 * R and NumPy's default). NaN for an empty list.
 */
export function percentile(values: readonly number[], p: number): number {
  const s = sorted(values);
  if (s.length === 0) return Number.NaN;
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = s[lo] as number;
  const b = s[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function summarise(values: readonly number[]): Summary {
  const s = sorted(values);
  return {
    median: median(s),
    min: s[0] ?? Number.NaN,
    max: s[s.length - 1] ?? Number.NaN,
    n: s.length,
  };
}

/** 123456.7 → "123,457"; with digits, "1,234.57". */
export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Events (or requests) per second, rounded to a readable precision: "61,234 ev/s". */
export function formatRate(value: number, unit = 'ev/s'): string {
  return `${formatNumber(value)} ${unit}`;
}

/** Milliseconds with a precision that suits their size: 0.84 ms, 12.3 ms, 1,234 ms. */
export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${formatNumber(value, digits)} ms`;
}

export function formatPercent(value: number): string {
  return `${formatNumber(value)} %`;
}

export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return formatNumber(value);
  return value < 0.1 ? value.toFixed(3) : value.toFixed(2);
}

export function formatMiB(bytes: number): string {
  return Number.isFinite(bytes) ? `${formatNumber(bytes / 1024 / 1024)} MiB` : 'n/a';
}

/** "median (min–max, n=5)" with the given formatter; its unit, if any, is printed once, after the median. */
export function formatSummary(summary: Summary, format: (value: number) => string): string {
  if (summary.n === 0) return 'n/a';
  const bare = (value: number): string => format(value).replace(/\s+\S+$/, '');
  return `${format(summary.median)} (${bare(summary.min)}–${bare(summary.max)}, n=${summary.n})`;
}

/** Sums counters by key: {"500": 1} + {"500": 2, "413": 1} → {"500": 3, "413": 1}. */
export function mergeCounts(counts: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const count of counts)
    for (const [key, n] of Object.entries(count)) total[key] = (total[key] ?? 0) + n;
  return total;
}
