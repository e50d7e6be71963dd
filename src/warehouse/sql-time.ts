/**
 * The start of the UTC minute of a TIMESTAMPTZ expression, in epoch microseconds, by integer
 * arithmetic. `date_trunc('minute', ts)` on a TIMESTAMPTZ goes through the calendar of the
 * session's time zone and costs about nine times as much (11.6 against 1.3 ms over 36,000 rows
 * here); a model run and a publication compute it for every row they write. Floored from the
 * microseconds (`epoch_ms` rounds a time just before 1970 towards zero), so a time before 1970
 * falls in its own minute too. NULL stays NULL.
 */
function minuteStartMicros(expression: string): string {
  return `(epoch_us(${expression}) - ((epoch_us(${expression}) % 60000000) + 60000000) % 60000000)`;
}

/** The start of the UTC minute of a TIMESTAMPTZ expression, as epoch milliseconds. */
export function minuteStartMs(expression: string): string {
  return `(${minuteStartMicros(expression)} // 1000)`;
}

/** The start of the UTC minute of a TIMESTAMPTZ expression: what `date_trunc('minute', ts)` answers in UTC. */
export function minuteStart(expression: string): string {
  return `make_timestamptz(${minuteStartMicros(expression)})`;
}
