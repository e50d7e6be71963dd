/** A half-open interval of business time: from inclusive, to exclusive. */
export interface TimeWindow {
  readonly from: Date;
  readonly to: Date;
}

export const NAMED_WINDOWS = ['today', '1h', '24h'] as const;
export type NamedWindow = (typeof NAMED_WINDOWS)[number];

const HOUR_MS = 3_600_000;

export function resolveNamedWindow(name: NamedWindow, now: Date, timeZone: string): TimeWindow {
  switch (name) {
    case '1h':
      return { from: new Date(now.getTime() - HOUR_MS), to: now };
    case '24h':
      return { from: new Date(now.getTime() - 24 * HOUR_MS), to: now };
    case 'today':
      return { from: startOfBusinessDay(now, timeZone), to: now };
  }
}

/** Midnight of `instant`'s calendar day in `timeZone`, as a UTC instant (DST-safe). */
export function startOfBusinessDay(instant: Date, timeZone: string): Date {
  const parts = localParts(instant, timeZone);
  const guess = Date.UTC(parts.year, parts.month - 1, parts.day);
  // The offset can differ between midnight and `instant` on a DST day: correct with the offset at the guess.
  const offsetAtGuess = offsetMs(new Date(guess), timeZone);
  const candidate = guess - offsetAtGuess;
  return new Date(candidate - (offsetMs(new Date(candidate), timeZone) - offsetAtGuess));
}

/** The UTC offset of `timeZone` at `instant`, in milliseconds (Paris in winter: +3,600,000). */
export function offsetMs(instant: Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(
  instant: Date,
  timeZone: string,
): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number> {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const values: Record<string, number> = {};
  for (const part of formatter.formatToParts(instant)) {
    if (part.type !== 'literal') values[part.type] = Number(part.value);
  }
  return values as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;
}
