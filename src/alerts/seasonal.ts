/**
 * Seasonal tolerance bands: the governed bands of a KPI, replaced at some times by others, e.g. a
 * lower conversion floor at night and on Sundays, or a wider net-revenue band in the week of Black
 * Friday. Times are read in the business time zone. The first matching entry wins; when none
 * matches, the catalogue's bands apply.
 */

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface SeasonalBand {
  readonly kpi: string;
  /** Shown beside the band in alerts, e.g. "weekend". */
  readonly label: string;
  readonly days: readonly Weekday[] | null;
  /** Local hours [from, to); from > to wraps past midnight (22 → 6). */
  readonly hours: { readonly from: number; readonly to: number } | null;
  /** Local calendar dates, both included. */
  readonly dates: { readonly from: string; readonly to: string } | null;
  readonly warn: number;
  readonly critical: number;
}

const DATE = { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$' };
const HOUR = { type: 'integer', minimum: 0, maximum: 24 };

/** The JSON Schema of `alerts.seasonal_bands`. */
export const seasonalBandsSchema = {
  type: 'array',
  maxItems: 500,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['kpi', 'warn', 'critical'],
    properties: {
      kpi: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
      label: { type: 'string', minLength: 1, maxLength: 64 },
      days: { type: 'array', minItems: 1, maxItems: 7, uniqueItems: true, items: { enum: WEEKDAYS } },
      hours: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to'],
        properties: { from: HOUR, to: HOUR },
      },
      dates: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to'],
        properties: { from: DATE, to: DATE },
      },
      warn: { type: 'number' },
      critical: { type: 'number' },
    },
  },
} as const;

interface RawSeasonalBand {
  kpi: string;
  label?: string;
  days?: Weekday[];
  hours?: { from: number; to: number };
  dates?: { from: string; to: string };
  warn: number;
  critical: number;
}

/** Reads a schema-valid `alerts.seasonal_bands`; problems name their field. */
export function parseSeasonalBands(raw: unknown, problems: string[]): SeasonalBand[] {
  return ((raw ?? []) as RawSeasonalBand[]).map((entry, i) => {
    const field = `alerts.seasonal_bands.${i}`;
    if (entry.hours && entry.hours.from === entry.hours.to)
      problems.push(`${field}.hours: from and to are both ${entry.hours.from}, an empty range`);
    if (entry.dates && entry.dates.from > entry.dates.to)
      problems.push(`${field}.dates.from ${entry.dates.from} is after dates.to ${entry.dates.to}`);
    const parts = [
      entry.days ? entry.days.join('/') : null,
      entry.hours ? `${entry.hours.from}h–${entry.hours.to}h` : null,
      entry.dates ? `${entry.dates.from}..${entry.dates.to}` : null,
    ].filter((p) => p !== null);
    return {
      kpi: entry.kpi,
      label: entry.label ?? (parts.length > 0 ? parts.join(' ') : 'always'),
      days: entry.days ?? null,
      hours: entry.hours ?? null,
      dates: entry.dates ?? null,
      warn: entry.warn,
      critical: entry.critical,
    };
  });
}

/** An instant as the business reads it: its local date, weekday and hour. */
export interface LocalTime {
  readonly date: string;
  readonly weekday: Weekday;
  readonly hour: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

export function localTime(instant: number, timeZone: string): LocalTime {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, format);
  }
  const part = (type: string): string =>
    format.formatToParts(instant).find((p) => p.type === type)?.value ?? '';
  return {
    date: `${part('year')}-${part('month')}-${part('day')}`,
    weekday: part('weekday').toLowerCase() as Weekday,
    hour: Number(part('hour')),
  };
}

export function seasonMatches(band: SeasonalBand, at: LocalTime): boolean {
  if (band.days && !band.days.includes(at.weekday)) return false;
  if (band.dates && (at.date < band.dates.from || at.date > band.dates.to)) return false;
  if (band.hours) {
    const { from, to } = band.hours;
    const inside = from < to ? at.hour >= from && at.hour < to : at.hour >= from || at.hour < to;
    if (!inside) return false;
  }
  return true;
}

/** The seasonal band of a KPI in force at `at`, if any. */
export function seasonAt(bands: readonly SeasonalBand[], at: LocalTime): SeasonalBand | undefined {
  return bands.find((band) => seasonMatches(band, at));
}
