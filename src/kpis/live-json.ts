import { lagMs, type KpiAnswer } from './answer.js';

/**
 * A live answer serialised once, with its `lag_ms` left open: the lag is the only part of it that
 * changes between two refreshes, and serialising the rest at every read was the largest cost of
 * `GET /v1/kpis` under load. Keys keep the order of the answer object.
 */
export interface AnswerJson {
  /** The UTF-8 JSON text up to and including `"lag_ms":`. */
  readonly head: Buffer;
  /** The UTF-8 JSON text after the lag's value, up to the closing brace. */
  readonly tail: Buffer;
  readonly newestIngestMs: number | null;
}

export function answerJson(answer: KpiAnswer, newestIngestMs: number | null): AnswerJson {
  const keys = Object.keys(answer);
  const at = keys.indexOf('lag_ms');
  const before = at < 0 ? keys : keys.slice(0, at);
  const after = at < 0 ? [] : keys.slice(at + 1);
  const record = answer as unknown as Record<string, unknown>;
  const open = (names: readonly string[]): string =>
    JSON.stringify(Object.fromEntries(names.map((name) => [name, record[name]]))).slice(1, -1);
  const first = open(before);
  const rest = open(after);
  return {
    head: Buffer.from(`{${first}${first === '' ? '' : ','}"lag_ms":`),
    tail: Buffer.from(`${rest === '' ? '' : ','}${rest}}`),
    newestIngestMs,
  };
}

/**
 * The answers' JSON texts with their lags as of `now`, joined into one buffer between `open` and
 * `close` (an array's brackets, or nothing for one answer): copying bytes kept encoded is cheaper
 * than encoding a string at every read.
 */
export function renderAnswersJson(answers: readonly AnswerJson[], now: Date, open = '', close = ''): Buffer {
  const lags = answers.map((json) => String(lagMs(json.newestIngestMs, now)));
  let length = open.length + close.length + Math.max(0, answers.length - 1);
  answers.forEach((json, i) => (length += json.head.length + (lags[i] as string).length + json.tail.length));
  // One allocation and plain copies: `open`, `close` and the lags are ASCII, one byte a character.
  const body = Buffer.allocUnsafe(length);
  let at = body.write(open, 0, 'latin1');
  answers.forEach((json, i) => {
    if (i > 0) at = body.write(',', at, 'latin1') + at;
    at += json.head.copy(body, at);
    at += body.write(lags[i] as string, at, 'latin1');
    at += json.tail.copy(body, at);
  });
  body.write(close, at, 'latin1');
  return body;
}
