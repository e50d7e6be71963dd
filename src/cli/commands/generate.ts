/**
 * `pulse generate`: seeded synthetic traffic, written as NDJSON (a file or stdout) or posted to a
 * running Pulse.
 */
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { PulseError } from '../../errors.js';
import {
  generateEvents,
  postEvents,
  writeNdjson,
  writeNdjsonFile,
  eventsEndpoint,
} from '../../generator/index.js';
import type { GeneratorOptions } from '../../generator/index.js';
import type { CloudEvent } from '../../contracts/types.js';

export const GENERATE_USAGE = `pulse generate --days N [--from YYYY-MM-DD] [--rate ORDERS_PER_DAY] [--seed S]
    [--late 0.01] [--duplicates 0.005] [--invalid 0.002] [--time-zone Europe/Paris]
    [--out FILE.ndjson | --post URL] [--batch 1000] [--concurrency 4]
  Seeded synthetic traffic (same seed and flags, same events): NDJSON to FILE (or stdout), or posted to
  URL/v1/events. --from defaults to N days before today (UTC midnight).`;

const DAY = 86_400_000;

export interface GenerateIo {
  stdout?: Writable;
  stderr?: Writable & { isTTY?: boolean };
  /** The clock, for the default --from (default Date.now). */
  now?: () => number;
}

/** What each flag takes, for the errors on values that start with a dash. */
const VALUE_RULES: Readonly<Record<string, string>> = {
  '--days': 'it must be a positive integer',
  '--from': 'it must be a date YYYY-MM-DD',
  '--rate': 'it must be a positive number of orders per day',
  '--seed': 'it must be a non-negative integer',
  '--late': 'it must be a share between 0 and 1',
  '--duplicates': 'it must be a share between 0 and 1',
  '--invalid': 'it must be a share between 0 and 1',
  '--batch': 'it must be a positive integer',
  '--concurrency': 'it must be a positive integer',
  '--out': 'a file name must not start with a dash (use ./-name)',
  '--post': 'it must be an http(s) URL',
  '--time-zone': 'it must be an IANA time zone',
};

function usage(message: string, field: string): PulseError {
  return new PulseError('PULSE_ERR_USAGE', message, { field });
}

function integerFlag(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    const kind = min >= 1 ? 'a positive integer' : 'a non-negative integer';
    throw usage(
      `--${name} must be ${kind}${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got "${value}"`,
      `--${name}`,
    );
  }
  return n;
}

function shareFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^(\d+(\.\d*)?|\.\d+)(e-?\d+)?$/i.test(value) || !(n >= 0 && n <= 1)) {
    throw usage(`--${name} must be a share between 0 and 1, got "${value}"`, `--${name}`);
  }
  return n;
}

function dateFlag(value: string): number {
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
    Number.isNaN(ms) ||
    new Date(ms).toISOString().slice(0, 10) !== value
  ) {
    throw usage(`--from must be a date YYYY-MM-DD, got "${value}"`, '--from');
  }
  return ms;
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export interface GeneratePlan {
  from: number;
  to: number;
  days: number;
  options: GeneratorOptions & { seed: number; ordersPerDay: number };
  out: string | undefined;
  post: string | undefined;
  batch: number;
  concurrency: number;
}

/** The flags of `pulse generate`; throws PULSE_ERR_USAGE naming the flag. */
export function parseGenerateArgs(argv: string[], now: number): GeneratePlan | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        days: { type: 'string' },
        from: { type: 'string' },
        rate: { type: 'string' },
        seed: { type: 'string' },
        late: { type: 'string' },
        duplicates: { type: 'string' },
        invalid: { type: 'string' },
        'time-zone': { type: 'string' },
        out: { type: 'string' },
        post: { type: 'string' },
        batch: { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    const message = (error as Error).message;
    // "--rate -5": parseArgs refuses a value that starts with a dash; judge it as the value it is.
    const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(message);
    const flag = ambiguous?.[1];
    if (flag !== undefined) {
      const value = argv[argv.indexOf(flag) + 1] ?? '';
      throw usage(`${flag} got "${value}": ${VALUE_RULES[flag] ?? 'a value that is not valid'}`, flag);
    }
    // e.g. "Unknown option '--dayz'", "Option '--days <value>' argument missing".
    throw usage(message.replace(/\. To specify a positional argument.*$/s, ''), '(argv)');
  }
  if (values.help === true) return 'help';
  if (values.days === undefined) throw usage('--days is required (the number of days to generate)', '--days');
  const days = integerFlag('days', values.days, 1, 1, 3660);
  let rate = 60_000;
  if (values.rate !== undefined) {
    rate = Number(values.rate);
    if (!/^\d+(\.\d+)?$/.test(values.rate) || !(rate > 0) || rate > 1e8) {
      throw usage(
        `--rate must be a positive number of orders per day (at most 1e8), got "${values.rate}"`,
        '--rate',
      );
    }
  }
  const seed = integerFlag('seed', values.seed, 1, 0, Number.MAX_SAFE_INTEGER);
  const lateShare = shareFlag('late', values.late, 0.01);
  const duplicateShare = shareFlag('duplicates', values.duplicates, 0.005);
  const invalidShare = shareFlag('invalid', values.invalid, 0.002);
  if (lateShare + duplicateShare + invalidShare >= 1) {
    throw usage('--late, --duplicates and --invalid must add up to less than 1', '--late');
  }
  const timeZone = values['time-zone'] ?? 'Europe/Paris';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw usage(
      `--time-zone must be an IANA time zone such as Europe/Paris, got "${timeZone}"`,
      '--time-zone',
    );
  }
  const today = Math.floor(now / DAY) * DAY;
  const from = values.from !== undefined ? dateFlag(values.from) : today - days * DAY;
  if (values.out !== undefined && values.post !== undefined) {
    throw usage('--out and --post cannot be used together', '--out');
  }
  if (values.out !== undefined && values.out.length === 0)
    throw usage('--out must be a file path, got ""', '--out');
  if (values.post !== undefined) {
    try {
      eventsEndpoint(values.post);
    } catch {
      throw usage(`--post must be the http(s) URL of a running Pulse, got "${values.post}"`, '--post');
    }
  }
  const batch = integerFlag('batch', values.batch, 1000, 1, 100_000);
  const concurrency = integerFlag('concurrency', values.concurrency, 4, 1, 64);
  return {
    from,
    to: from + days * DAY,
    days,
    options: { seed, ordersPerDay: rate, lateShare, duplicateShare, invalidShare, timeZone },
    out: values.out,
    post: values.post,
    batch,
    concurrency,
  };
}

/** Runs `pulse generate`; returns the exit code (0 done, 1 failed, 2 bad command line). */
export async function runGenerate(argv: string[], io: GenerateIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let plan: GeneratePlan | 'help';
  try {
    plan = parseGenerateArgs(argv, (io.now ?? Date.now)());
  } catch (error) {
    if (error instanceof PulseError) {
      stderr.write(`pulse generate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (plan === 'help') {
    stdout.write(`${GENERATE_USAGE}\n`);
    return 0;
  }
  const { from, to, options } = plan;

  // Count and locate the events as they go by, for the progress line.
  let count = 0;
  let lastTime = '';
  const source = generateEvents(new Date(from), new Date(to), options);
  function* tracked(): Generator<CloudEvent> {
    for (const event of source) {
      count++;
      lastTime = event.time ?? lastTime;
      yield event;
    }
  }
  const started = performance.now();
  const tty = stderr.isTTY === true;
  let lastPrint = started;
  const progress = (): void => {
    if (!tty) return;
    const t = performance.now();
    if (t - lastPrint < 1000) return;
    lastPrint = t;
    const done = lastTime ? Math.min(1, Math.max(0, (Date.parse(lastTime) - from) / (to - from))) : 0;
    const rate = count / ((t - started) / 1000);
    stderr.write(
      `\r\x1b[Kpulse generate: ${formatCount(count)} events, ${formatCount(rate)} events/s, ${(done * 100).toFixed(1)} % (${lastTime.slice(0, 16)})`,
    );
  };

  const target = plan.post !== undefined ? plan.post : plan.out !== undefined ? plan.out : 'stdout';
  try {
    if (plan.post !== undefined) {
      await postEvents(tracked(), {
        url: plan.post,
        batchSize: plan.batch,
        concurrency: plan.concurrency,
        onProgress: progress,
      });
    } else if (plan.out !== undefined) {
      await writeNdjsonFile(tracked(), plan.out, { onProgress: progress });
    } else {
      await writeNdjson(tracked(), stdout, { onProgress: progress });
    }
  } catch (error) {
    if (tty) stderr.write('\r\x1b[K');
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    stderr.write(
      `pulse generate: ${error instanceof Error ? error.message : String(error)} (after ${formatCount(count)} events)\n`,
    );
    return 1;
  }
  const seconds = (performance.now() - started) / 1000;
  if (tty) stderr.write('\r\x1b[K');
  stderr.write(
    `pulse generate: ${formatCount(count)} events from ${new Date(from).toISOString().slice(0, 10)} to ${new Date(to).toISOString().slice(0, 10)} ` +
      `(seed ${options.seed}, ${formatCount(options.ordersPerDay)} orders/day) ${plan.post !== undefined ? 'posted to' : 'written to'} ${target} ` +
      `in ${seconds.toFixed(1)} s (${formatCount(count / Math.max(seconds, 1e-3))} events/s)\n`,
  );
  return 0;
}
