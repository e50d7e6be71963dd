import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { openPipeline, type Pipeline } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { PulseError } from '../../errors.js';
import {
  checkFix,
  listQuarantine,
  readScorecard,
  type EventFix,
  type QuarantineFilter,
} from '../../quality/index.js';
import { parseFlags } from '../args.js';

export const QUALITY_USAGE = `pulse quality [--run] [--table T] [--rule ID] [--severity warn|error] [--day YYYY-MM-DD] [--json] [--db FILE] [--config FILE]
  The quality scorecard: pass rate per rule, table and day. --run refreshes the models and runs every rule first.`;

export const REMEDIATE_USAGE = `pulse remediate --list | --id N… | --type T --rule R --field F [--from TS --to TS]
    [--rename FROM=TO…] [--convert PATH=number|integer|string|trim|upper|lower…] [--map PATH=JSON-OBJECT…]
    [--set PATH=JSON…] [--remove PATH…] [--payload FILE] [--json] [--db FILE]
  Lists open quarantined events, or corrects them (PATH like data.lines[*].quantity) and replays them
  through the contracts into the warehouse. Stop Pulse first: the warehouse file is opened here.`;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

async function withPipeline<T>(
  db: string | undefined,
  config: string | undefined,
  work: (p: Pipeline) => Promise<T>,
): Promise<T> {
  const loaded = loadConfig({ configFile: config, dbPath: db });
  const pipeline = await openPipeline({
    dbPath: loaded.warehouse.path,
    tokenKey: loaded.privacy.tokenKey,
    timeZone: loaded.business.timeZone,
    qualityEnabled: loaded.quality.enabled,
  });
  try {
    return await work(pipeline);
  } finally {
    await pipeline.close();
  }
}

export async function runQuality(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    run: { type: 'boolean', default: false },
    table: { type: 'string' },
    rule: { type: 'string' },
    severity: { type: 'string' },
    day: { type: 'string' },
    json: { type: 'boolean', default: false },
    db: { type: 'string' },
    config: { type: 'string' },
  });
  if (values.severity !== undefined && values.severity !== 'warn' && values.severity !== 'error')
    throw new PulseError('PULSE_ERR_USAGE', `--severity must be warn or error, got "${values.severity}"`, {
      field: '--severity',
    });
  if (values.day !== undefined && !DAY.test(values.day))
    throw new PulseError('PULSE_ERR_USAGE', `--day must be YYYY-MM-DD, got "${values.day}"`, {
      field: '--day',
    });
  return withPipeline(values.db, values.config, async (pipeline) => {
    const rules = pipeline.quality.runner?.rules ?? [];
    if (values.table !== undefined && !rules.some((r) => r.table === values.table))
      throw new PulseError('PULSE_ERR_USAGE', `--table: no quality rule on table "${values.table}"`, {
        field: '--table',
      });
    if (values.rule !== undefined && !rules.some((r) => r.id === values.rule))
      throw new PulseError('PULSE_ERR_USAGE', `--rule: no quality rule "${values.rule}"`, {
        field: '--rule',
      });
    if (values.run) {
      pipeline.quality.runner?.requestFull();
      await pipeline.loop.refresh();
      if (pipeline.quality.lastError) throw pipeline.quality.lastError;
      await pipeline.quality.runner?.scorecard.flush();
    }
    const rows = await readScorecard(pipeline.warehouse.reader, values);
    const holds = Object.fromEntries(pipeline.quality.gate.holds);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ scorecard: rows, ...(values.run ? { holds } : {}) }, null, 2)}\n`,
      );
      return 0;
    }
    process.stdout.write(
      `${'DAY'.padEnd(11)}${'SEV'.padEnd(6)}${'STATUS'.padEnd(7)}${'PASS RATE'.padStart(10)}${'FAILED'.padStart(9)}  RULE\n`,
    );
    for (const row of rows) {
      const rate = row.pass_rate === null ? '-' : `${(row.pass_rate * 100).toFixed(2)}%`;
      process.stdout.write(
        `${row.day.padEnd(11)}${row.severity.padEnd(6)}${row.last_status.padEnd(7)}${rate.padStart(10)}${String(row.failed).padStart(9)}  ${row.rule}\n`,
      );
    }
    if (values.run)
      for (const [kpi, hold] of Object.entries(holds))
        process.stdout.write(`HELD ${kpi}: ${hold.rules.map((r) => r.rule).join(', ')}\n`);
    return rows.some((row) => row.last_status === 'fail' && row.severity === 'error') ? 1 : 0;
  });
}

function pairs(values: string[] | undefined, flag: string): [string, string][] {
  return (values ?? []).map((value) => {
    const at = value.indexOf('=');
    if (at <= 0)
      throw new PulseError('PULSE_ERR_USAGE', `${flag} takes PATH=VALUE, got "${value}"`, { field: flag });
    return [value.slice(0, at), value.slice(at + 1)];
  });
}

export async function runRemediate(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    list: { type: 'boolean', default: false },
    id: { type: 'string', multiple: true },
    type: { type: 'string' },
    rule: { type: 'string' },
    field: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    set: { type: 'string', multiple: true },
    rename: { type: 'string', multiple: true },
    convert: { type: 'string', multiple: true },
    map: { type: 'string', multiple: true },
    remove: { type: 'string', multiple: true },
    payload: { type: 'string' },
    json: { type: 'boolean', default: false },
    db: { type: 'string' },
    config: { type: 'string' },
  });
  const ids = (values.id ?? []).map((id) => {
    if (!/^\d{1,18}$/.test(id))
      throw new PulseError('PULSE_ERR_USAGE', `--id must be a quarantine id, got "${id}"`, { field: '--id' });
    return Number(id);
  });
  for (const flag of ['from', 'to'] as const)
    if (values[flag] !== undefined && Number.isNaN(Date.parse(values[flag] as string)))
      throw new PulseError('PULSE_ERR_USAGE', `--${flag} must be an RFC 3339 time`, { field: `--${flag}` });
  const filter: QuarantineFilter = {
    type: values.type,
    rule: values.rule,
    field: values.field,
    from: values.from,
    to: values.to,
    status: 'open',
    ...(ids.length > 0 ? { ids } : {}),
  };
  const set = Object.fromEntries(
    pairs(values.set, '--set').map(([path, text]) => {
      try {
        return [path, JSON.parse(text) as unknown];
      } catch {
        return [path, text];
      }
    }),
  );
  const fix: EventFix = {
    set,
    rename: Object.fromEntries(pairs(values.rename, '--rename')),
    convert: Object.fromEntries(pairs(values.convert, '--convert')) as EventFix['convert'],
    map: Object.fromEntries(
      pairs(values.map, '--map').map(([path, text]) => {
        try {
          return [path, JSON.parse(text) as Record<string, unknown>];
        } catch {
          throw new PulseError('PULSE_ERR_USAGE', `--map ${path}= takes a JSON object, got "${text}"`, {
            field: '--map',
          });
        }
      }),
    ),
    remove: values.remove ?? [],
  };
  try {
    checkFix(fix);
  } catch (error) {
    const message = (error as Error).message;
    const op = /^(convert|map) /.exec(message)?.[1];
    // "convert "data.x": …" reads as "--convert "data.x": …" on the command line.
    throw new PulseError('PULSE_ERR_USAGE', op ? `--${message}` : message, {
      field: op ? `--${op}` : '--set',
    });
  }
  let payload: unknown;
  if (values.payload !== undefined) {
    if (ids.length !== 1)
      throw new PulseError('PULSE_ERR_USAGE', '--payload replaces one event: give exactly one --id', {
        field: '--payload',
      });
    try {
      payload = JSON.parse(readFileSync(values.payload, 'utf8'));
    } catch (error) {
      throw new PulseError('PULSE_ERR_USAGE', `--payload: ${(error as Error).message}`, {
        field: '--payload',
      });
    }
  }
  const narrowed = ids.length > 0 || values.type || values.rule || values.field || values.from || values.to;
  if (!values.list && !narrowed)
    throw new PulseError(
      'PULSE_ERR_USAGE',
      'give --list, or the events to replay (--id, --type, --rule, --field, --from/--to)',
      { field: '--id' },
    );
  return withPipeline(values.db, values.config, async (pipeline) => {
    const connection = pipeline.quality.remediator.connection;
    const entries = await listQuarantine(connection, filter, 1_001);
    if (values.list) {
      if (values.json) process.stdout.write(`${JSON.stringify(entries.slice(0, 1_000), null, 2)}\n`);
      else
        for (const e of entries.slice(0, 1_000))
          process.stdout.write(
            `${String(e.id).padStart(6)}  ${(e.event_type ?? '-').padEnd(22)} ${e.field.padEnd(28)} ${e.message}\n`,
          );
      return 0;
    }
    if (entries.length > 1_000)
      throw new PulseError('PULSE_ERR_USAGE', 'more than 1000 open entries match: narrow the selection', {
        field: '--id',
      });
    if (entries.length === 0)
      throw new PulseError('PULSE_ERR_USAGE', 'no open quarantine entry matches', { field: '--id' });
    const result = await pipeline.quality.remediator.replay({
      entries,
      fix: payload === undefined ? fix : undefined,
      payload,
      by: `cli:${userInfo().username}`,
    });
    await pipeline.loop.refresh();
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      for (const o of result.outcomes)
        process.stdout.write(
          `${String(o.id).padStart(6)}  ${o.outcome.padEnd(9)} ${o.field ? `${o.field}: ${o.message}` : ''}\n`,
        );
      process.stdout.write(
        `${result.accepted} accepted, ${result.duplicates} duplicates, ${result.failed} still failing\n`,
      );
    }
    return result.failed > 0 ? 1 : 0;
  });
}
