/** One forecast bucket: the point estimate and a band around it. */
export interface ForecastPoint {
  readonly ts: string;
  readonly value: number;
  readonly lower: number;
  readonly upper: number;
}

/** Buckets per season for each grain: a day of hours, a week of days. */
export const FORECAST_SEASONS = { hour: 24, day: 7 } as const;
export type ForecastGrain = keyof typeof FORECAST_SEASONS;
export const FORECAST_GRAINS = Object.keys(FORECAST_SEASONS) as ForecastGrain[];

/** z for a two-sided 80 % band under normal errors. */
export const Z_80 = 1.2816;

/**
 * Seasonal-naive forecast: the bucket one season ahead repeats the bucket one season back
 * (yₜ₊ₕ = yₜ₊ₕ₋ₛ, and for h > s the forecast of that bucket again). The band is ± z·σ·√k, with
 * σ the root mean square of the in-sample seasonal differences yₜ − yₜ₋ₛ and k the number of
 * seasons ahead: an honest, explainable baseline that says how wrong it has been.
 *
 * `history` is the series up to now, oldest first, one value per bucket (null: no data, read as 0
 * for additive measures is the caller's choice; nulls here are skipped in σ and carried as 0).
 */
export function seasonalNaive(
  history: readonly (number | null)[],
  season: number,
  horizon: number,
): { values: { value: number; lower: number; upper: number }[]; sigma: number | null } {
  if (!Number.isInteger(season) || season < 1) throw new RangeError('season must be a positive integer');
  if (history.length < season) return { values: [], sigma: null };
  let squares = 0;
  let count = 0;
  for (let t = season; t < history.length; t += 1) {
    const now = history[t];
    const before = history[t - season];
    if (now === null || now === undefined || before === null || before === undefined) continue;
    squares += (now - before) ** 2;
    count += 1;
  }
  const sigma = count === 0 ? null : Math.sqrt(squares / count);
  const last = history.slice(history.length - season).map((v) => v ?? 0);
  const values = [];
  for (let h = 1; h <= horizon; h += 1) {
    const value = last[(h - 1) % season] as number;
    const seasonsAhead = Math.ceil(h / season);
    const spread = sigma === null ? 0 : Z_80 * sigma * Math.sqrt(seasonsAhead);
    values.push({ value, lower: value - spread, upper: value + spread });
  }
  return { values, sigma };
}

/** What `forecastKpi` needs from the engine: a dense series over an explicit window. */
export interface SeriesSource {
  readonly timeZone: string;
  series(
    id: string,
    request: { from: string; to: string; series: ForecastGrain; seller?: string | undefined },
  ): Promise<readonly { ts: string; value: string | number | null }[]>;
}

const HOUR_MS = 3_600_000;
/** Seasons of history the band's σ is measured on. */
const HISTORY_SEASONS = { hour: 7, day: 4 } as const;

/**
 * The forecast of a KPI's next `horizon` buckets from its complete buckets so far (the bucket
 * under way is left out: half an hour is not an hour). History: 7 days of hours, or 4 weeks of days.
 */
export async function forecastKpi(
  source: SeriesSource,
  id: string,
  options: { grain: ForecastGrain; horizon: number; now: Date; seller?: string | undefined },
  startOfDay: (instant: Date, timeZone: string) => Date,
): Promise<{
  grain: ForecastGrain;
  season: number;
  sigma: number | null;
  history: { from: string; to: string };
  points: ForecastPoint[];
}> {
  const { grain, horizon, now } = options;
  const season = FORECAST_SEASONS[grain];
  const to =
    grain === 'hour'
      ? new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS)
      : startOfDay(now, source.timeZone);
  const span = HISTORY_SEASONS[grain] * season;
  const from =
    grain === 'hour'
      ? new Date(to.getTime() - span * HOUR_MS)
      : startOfDay(new Date(to.getTime() - span * 24 * HOUR_MS + 12 * HOUR_MS), source.timeZone);
  const series = await source.series(id, {
    from: from.toISOString(),
    to: to.toISOString(),
    series: grain,
    seller: options.seller,
  });
  const history = series.map((point) => (point.value === null ? null : Number(point.value)));
  const { values, sigma } = seasonalNaive(history, season, horizon);
  const starts: Date[] = [];
  let next = to;
  for (let h = 0; h < values.length; h += 1) {
    starts.push(next);
    next =
      grain === 'hour'
        ? new Date(next.getTime() + HOUR_MS)
        : startOfDay(new Date(next.getTime() + 26 * HOUR_MS), source.timeZone);
  }
  return {
    grain,
    season,
    sigma,
    history: { from: from.toISOString(), to: to.toISOString() },
    points: values.map((v, i) => ({ ts: (starts[i] as Date).toISOString(), ...v })),
  };
}
