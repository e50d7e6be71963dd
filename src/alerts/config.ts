import { Ajv } from 'ajv';
import type { ObjectStoreConfig } from './object-store.js';
import { parseSeasonalBands, seasonalBandsSchema, type SeasonalBand } from './seasonal.js';

/**
 * The `alerts:` and `scorecards:` sections of pulse.config.yaml: channels, rules and the
 * distribution schedule. Validated here, where they are used; durations are written `90s`, `2m`,
 * `1h` or as milliseconds.
 */
export type ChannelConfig =
  | { readonly name: string; readonly type: 'slack' | 'teams'; readonly url: string }
  | { readonly name: string; readonly type: 'webhook'; readonly url: string; readonly secret: string }
  | {
      readonly name: string;
      readonly type: 'email';
      readonly smtp: {
        readonly host: string;
        readonly port: number;
        readonly secure: boolean;
        readonly user?: string;
        readonly pass?: string;
      };
      readonly from: string;
      readonly to: readonly string[];
    };

export type AlertCondition =
  | { readonly type: 'band' }
  | { readonly type: 'above' | 'below'; readonly threshold: number }
  | { readonly type: 'outside'; readonly low: number; readonly high: number }
  /** Relative change against the same window one week earlier, e.g. -0.2 = a 20 % drop. */
  | { readonly type: 'change_vs_last_week'; readonly below?: number; readonly above?: number }
  /**
   * Outside the 80 % band of the seasonal-naive forecast of the window: the same window one season
   * earlier (a day for the 1h window, a week for 24h), ± z·σ of its seasonal differences.
   */
  | { readonly type: 'outside_forecast' };

export interface AlertRuleConfig {
  readonly id: string;
  readonly kpi: string;
  readonly window: 'today' | '1h' | '24h';
  /** Confines the rule to one dimension value, e.g. `{ channel: mobile }`. */
  readonly filter?: { readonly dimension: string; readonly value: string };
  readonly condition: AlertCondition;
  readonly severity: 'warn' | 'critical';
  readonly minVolume: number;
  readonly forMs: number;
  readonly cooldownMs: number;
  /** How far back inside the band a value must come before a firing alert resolves (fraction of the threshold). */
  readonly hysteresis: number;
  readonly channels: readonly string[];
}

export interface AlertsConfig {
  readonly enabled: boolean;
  /** How often pending alerts are re-checked between refreshes (for-durations end on time). */
  readonly evaluateEveryMs: number;
  readonly channels: readonly ChannelConfig[];
  /** The rules the catalogue's tolerance bands give, one per KPI, with these settings. */
  readonly bandRules: {
    readonly enabled: boolean;
    readonly window: 'today' | '1h' | '24h';
    readonly minVolume: number;
    readonly forMs: number;
    readonly cooldownMs: number;
    readonly hysteresis: number;
    readonly channels: readonly string[];
  };
  readonly rules: readonly AlertRuleConfig[];
  /** Bands that replace the catalogue's at some times (band rules and `band` conditions). */
  readonly seasonalBands: readonly SeasonalBand[];
  readonly delivery: { readonly attempts: number; readonly backoffMs: number; readonly timeoutMs: number };
}

export interface ScorecardsConfig {
  /** Folder the PDFs are written to (`<dir>/<date>/scorecard-<region>-<date>.pdf`). */
  readonly dir: string;
  readonly regions: readonly string[];
  /** Local time (business time zone) of the daily run, `HH:MM`; null: on demand only. */
  readonly dailyAt: string | null;
  /** The e-mail channel that sends the PDFs, and to whom. */
  readonly email: { readonly channel: string; readonly to: readonly string[] } | null;
  /** Channels (Slack/Teams) that get the morning status summary. */
  readonly statusChannels: readonly string[];
  /** An S3-compatible bucket each PDF is also copied to. */
  readonly s3: ObjectStoreConfig | null;
}

const DURATION = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^\\d+(ms|s|m|h)$' },
  ],
};
const NAME = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' };
const HTTP_URL = { type: 'string', pattern: '^https?://', maxLength: 2048 };
const WINDOW = { enum: ['today', '1h', '24h'] };
const CHANNEL_LIST = { type: 'array', maxItems: 32, items: NAME };

const alertsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    evaluate_every: DURATION,
    channels: {
      type: 'array',
      maxItems: 64,
      items: {
        type: 'object',
        required: ['name', 'type'],
        properties: { type: { enum: ['slack', 'teams', 'webhook', 'email'] } },
        oneOf: [
          {
            additionalProperties: false,
            required: ['url'],
            properties: { name: NAME, type: { enum: ['slack', 'teams'] }, url: HTTP_URL },
          },
          {
            additionalProperties: false,
            required: ['url', 'secret'],
            properties: {
              name: NAME,
              type: { const: 'webhook' },
              url: HTTP_URL,
              secret: { type: 'string', minLength: 16, maxLength: 512 },
            },
          },
          {
            additionalProperties: false,
            required: ['smtp', 'from', 'to'],
            properties: {
              name: NAME,
              type: { const: 'email' },
              smtp: {
                type: 'object',
                additionalProperties: false,
                required: ['host', 'port'],
                properties: {
                  host: { type: 'string', minLength: 1, maxLength: 255 },
                  port: { type: 'integer', minimum: 1, maximum: 65535 },
                  secure: { type: 'boolean' },
                  user: { type: 'string', maxLength: 255 },
                  pass: { type: 'string', maxLength: 1024 },
                },
              },
              from: { type: 'string', minLength: 3, maxLength: 320 },
              to: {
                type: 'array',
                minItems: 1,
                maxItems: 100,
                items: { type: 'string', pattern: '^[^\\s@]+@[^\\s@]+$' },
              },
            },
          },
        ],
      },
    },
    band_rules: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        window: WINDOW,
        min_volume: { type: 'number', minimum: 0 },
        for: DURATION,
        cooldown: DURATION,
        hysteresis: { type: 'number', minimum: 0, maximum: 1 },
        channels: CHANNEL_LIST,
      },
    },
    rules: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'kpi', 'condition'],
        properties: {
          id: NAME,
          kpi: NAME,
          window: WINDOW,
          filter: {
            type: 'object',
            minProperties: 1,
            maxProperties: 1,
            propertyNames: { enum: ['channel', 'brand', 'country', 'seller', 'category'] },
            additionalProperties: { type: 'string', minLength: 1, maxLength: 128 },
          },
          condition: {
            enum: ['band', 'above', 'below', 'outside', 'change_vs_last_week', 'outside_forecast'],
          },
          threshold: { type: 'number' },
          low: { type: 'number' },
          high: { type: 'number' },
          change_below: { type: 'number', minimum: -1 },
          change_above: { type: 'number', minimum: -1 },
          severity: { enum: ['warn', 'critical'] },
          min_volume: { type: 'number', minimum: 0 },
          for: DURATION,
          cooldown: DURATION,
          hysteresis: { type: 'number', minimum: 0, maximum: 1 },
          channels: CHANNEL_LIST,
        },
      },
    },
    seasonal_bands: seasonalBandsSchema,
    delivery: {
      type: 'object',
      additionalProperties: false,
      properties: {
        attempts: { type: 'integer', minimum: 1, maximum: 20 },
        backoff: DURATION,
        timeout: DURATION,
      },
    },
  },
} as const;

const scorecardsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dir: { type: 'string', minLength: 1, maxLength: 4096 },
    regions: {
      type: 'array',
      maxItems: 250,
      items: { type: 'string', pattern: '^[A-Z]{2}$' },
    },
    daily_at: { anyOf: [{ type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }, { type: 'null' }] },
    email: {
      type: 'object',
      additionalProperties: false,
      required: ['channel'],
      properties: {
        channel: NAME,
        to: { type: 'array', maxItems: 100, items: { type: 'string', pattern: '^[^\\s@]+@[^\\s@]+$' } },
      },
    },
    status_channels: CHANNEL_LIST,
    s3: {
      type: 'object',
      additionalProperties: false,
      required: ['endpoint', 'bucket', 'access_key_id', 'secret_access_key'],
      properties: {
        endpoint: HTTP_URL,
        bucket: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' },
        region: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' },
        prefix: { type: 'string', maxLength: 512, pattern: '^[^\\\\]*$' },
        access_key_id: { type: 'string', minLength: 1, maxLength: 256 },
        secret_access_key: { type: 'string', minLength: 1, maxLength: 512 },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateAlerts = ajv.compile(alertsSchema);
const validateScorecards = ajv.compile(scorecardsSchema);

/** `90s` → 90,000; a bare number is milliseconds. */
export function parseDuration(value: string | number | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  if (typeof value === 'number') return value;
  const match = /^(\d+)(ms|s|m|h)$/.exec(value);
  if (!match) throw new Error(`not a duration: ${value}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

function schemaProblems(section: string, errors: typeof validateAlerts.errors): string[] {
  // oneOf reports every branch; the most useful message is the deepest one.
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const error of errors ?? []) {
    if (error.keyword === 'oneOf' || error.keyword === 'anyOf') continue;
    const field = `${section}${error.instancePath.replaceAll('/', '.')}`;
    const extra =
      error.keyword === 'additionalProperties' ? ` "${String(error.params.additionalProperty)}"` : '';
    const text = `${field} ${error.message ?? 'is invalid'}${extra}`;
    if (!seen.has(text)) problems.push(text);
    seen.add(text);
  }
  return problems.slice(0, 20);
}

interface RawRule {
  id: string;
  kpi: string;
  window?: 'today' | '1h' | '24h';
  filter?: Record<string, string>;
  condition: 'band' | 'above' | 'below' | 'outside' | 'change_vs_last_week' | 'outside_forecast';
  threshold?: number;
  low?: number;
  high?: number;
  change_below?: number;
  change_above?: number;
  severity?: 'warn' | 'critical';
  min_volume?: number;
  for?: string | number;
  cooldown?: string | number;
  hysteresis?: number;
  channels?: string[];
}

interface RawAlerts {
  enabled?: boolean;
  evaluate_every?: string | number;
  channels?: (Record<string, unknown> & { name: string; type: string })[];
  band_rules?: {
    enabled?: boolean;
    window?: 'today' | '1h' | '24h';
    min_volume?: number;
    for?: string | number;
    cooldown?: string | number;
    hysteresis?: number;
    channels?: string[];
  };
  rules?: RawRule[];
  seasonal_bands?: unknown;
  delivery?: { attempts?: number; backoff?: string | number; timeout?: string | number };
}

export const DEFAULT_ALERTS: AlertsConfig = {
  enabled: false,
  evaluateEveryMs: 1_000,
  channels: [],
  bandRules: {
    enabled: true,
    window: 'today',
    minVolume: 0,
    forMs: 60_000,
    cooldownMs: 30 * 60_000,
    hysteresis: 0.02,
    channels: [],
  },
  rules: [],
  seasonalBands: [],
  delivery: { attempts: 5, backoffMs: 500, timeoutMs: 5_000 },
};

/** Validates the `alerts:` section; problems are pushed, each naming its field. */
export function parseAlertsConfig(raw: unknown, problems: string[]): AlertsConfig {
  if (raw === undefined || raw === null) return DEFAULT_ALERTS;
  if (!validateAlerts(raw)) {
    problems.push(...schemaProblems('alerts', validateAlerts.errors));
    return DEFAULT_ALERTS;
  }
  const file = raw as RawAlerts;
  const channels = (file.channels ?? []).map((c) => channelOf(c));
  const names = new Set<string>();
  channels.forEach((channel, i) => {
    if (names.has(channel.name)) problems.push(`alerts.channels.${i}.name "${channel.name}" is used twice`);
    names.add(channel.name);
  });
  const checkChannels = (field: string, list: readonly string[]): void => {
    for (const name of list)
      if (!names.has(name))
        problems.push(`${field} names channel "${name}", which is not in alerts.channels`);
  };
  const band = file.band_rules ?? {};
  const bandRules = {
    enabled: band.enabled ?? true,
    window: band.window ?? DEFAULT_ALERTS.bandRules.window,
    minVolume: band.min_volume ?? 0,
    forMs: parseDuration(band.for, DEFAULT_ALERTS.bandRules.forMs),
    cooldownMs: parseDuration(band.cooldown, DEFAULT_ALERTS.bandRules.cooldownMs),
    hysteresis: band.hysteresis ?? DEFAULT_ALERTS.bandRules.hysteresis,
    channels: band.channels ?? channels.filter((c) => c.type !== 'email').map((c) => c.name),
  };
  checkChannels('alerts.band_rules.channels', bandRules.channels);
  const ids = new Set<string>();
  const rules = (file.rules ?? []).map((rule, i): AlertRuleConfig => {
    const field = `alerts.rules.${i}`;
    if (ids.has(rule.id)) problems.push(`${field}.id "${rule.id}" is used twice`);
    ids.add(rule.id);
    const ruleChannels = rule.channels ?? bandRules.channels;
    checkChannels(`${field}.channels`, ruleChannels);
    const [dimension, value] = Object.entries(rule.filter ?? {})[0] ?? [];
    return {
      id: rule.id,
      kpi: rule.kpi,
      window: rule.window ?? 'today',
      ...(dimension !== undefined && value !== undefined ? { filter: { dimension, value } } : {}),
      condition: conditionOf(rule, field, problems),
      severity: rule.severity ?? 'warn',
      minVolume: rule.min_volume ?? 0,
      forMs: parseDuration(rule.for, 0),
      cooldownMs: parseDuration(rule.cooldown, DEFAULT_ALERTS.bandRules.cooldownMs),
      hysteresis: rule.hysteresis ?? DEFAULT_ALERTS.bandRules.hysteresis,
      channels: ruleChannels,
    };
  });
  return {
    enabled: file.enabled ?? true,
    evaluateEveryMs: parseDuration(file.evaluate_every, DEFAULT_ALERTS.evaluateEveryMs),
    channels,
    bandRules,
    rules,
    seasonalBands: parseSeasonalBands(file.seasonal_bands, problems),
    delivery: {
      attempts: file.delivery?.attempts ?? DEFAULT_ALERTS.delivery.attempts,
      backoffMs: parseDuration(file.delivery?.backoff, DEFAULT_ALERTS.delivery.backoffMs),
      timeoutMs: parseDuration(file.delivery?.timeout, DEFAULT_ALERTS.delivery.timeoutMs),
    },
  };
}

function channelOf(raw: Record<string, unknown> & { name: string; type: string }): ChannelConfig {
  if (raw.type === 'email') {
    const smtp = raw.smtp as { host: string; port: number; secure?: boolean; user?: string; pass?: string };
    return {
      name: raw.name,
      type: 'email',
      smtp: { ...smtp, secure: smtp.secure ?? false },
      from: raw.from as string,
      to: raw.to as string[],
    };
  }
  if (raw.type === 'webhook')
    return { name: raw.name, type: 'webhook', url: raw.url as string, secret: raw.secret as string };
  return { name: raw.name, type: raw.type as 'slack' | 'teams', url: raw.url as string };
}

function conditionOf(rule: RawRule, field: string, problems: string[]): AlertCondition {
  const need = (key: 'threshold' | 'low' | 'high'): number => {
    const value = rule[key];
    if (value === undefined) problems.push(`${field}.${key} is required for condition "${rule.condition}"`);
    return value ?? 0;
  };
  switch (rule.condition) {
    case 'band':
      return { type: 'band' };
    case 'above':
    case 'below':
      return { type: rule.condition, threshold: need('threshold') };
    case 'outside': {
      const low = need('low');
      const high = need('high');
      if (low >= high) problems.push(`${field}.low must be below ${field}.high`);
      return { type: 'outside', low, high };
    }
    case 'change_vs_last_week':
      if (rule.change_below === undefined && rule.change_above === undefined)
        problems.push(`${field} needs change_below or change_above for condition "change_vs_last_week"`);
      return {
        type: 'change_vs_last_week',
        ...(rule.change_below !== undefined ? { below: rule.change_below } : {}),
        ...(rule.change_above !== undefined ? { above: rule.change_above } : {}),
      };
    case 'outside_forecast':
      if (rule.window === undefined || rule.window === 'today')
        problems.push(
          `${field}.window: condition "outside_forecast" needs window 1h (forecast by hour) or 24h (by day)`,
        );
      if (rule.filter)
        problems.push(`${field}.filter: condition "outside_forecast" forecasts the whole KPI, not one slice`);
      return { type: 'outside_forecast' };
  }
}

export const DEFAULT_SCORECARDS: ScorecardsConfig = {
  dir: 'scorecards',
  regions: [],
  dailyAt: null,
  email: null,
  statusChannels: [],
  s3: null,
};

export function parseScorecardsConfig(
  raw: unknown,
  problems: string[],
  alerts: AlertsConfig,
): ScorecardsConfig {
  if (raw === undefined || raw === null) return DEFAULT_SCORECARDS;
  if (!validateScorecards(raw)) {
    problems.push(...schemaProblems('scorecards', validateScorecards.errors));
    return DEFAULT_SCORECARDS;
  }
  const file = raw as {
    dir?: string;
    regions?: string[];
    daily_at?: string | null;
    email?: { channel: string; to?: string[] };
    status_channels?: string[];
    s3?: {
      endpoint: string;
      bucket: string;
      region?: string;
      prefix?: string;
      access_key_id: string;
      secret_access_key: string;
    };
  };
  const byName = new Map(alerts.channels.map((c) => [c.name, c]));
  let email: ScorecardsConfig['email'] = null;
  if (file.email) {
    const channel = byName.get(file.email.channel);
    if (channel?.type !== 'email')
      problems.push(
        `scorecards.email.channel "${file.email.channel}" is not an email channel in alerts.channels`,
      );
    email = {
      channel: file.email.channel,
      to: file.email.to ?? (channel?.type === 'email' ? channel.to : []),
    };
  }
  const statusChannels = file.status_channels ?? [];
  for (const name of statusChannels) {
    const type = byName.get(name)?.type;
    if (type !== 'slack' && type !== 'teams')
      problems.push(`scorecards.status_channels names "${name}", which is not a slack or teams channel`);
  }
  return {
    dir: file.dir ?? DEFAULT_SCORECARDS.dir,
    regions: file.regions ?? [],
    dailyAt: file.daily_at ?? null,
    email,
    statusChannels,
    s3: file.s3
      ? {
          endpoint: file.s3.endpoint,
          bucket: file.s3.bucket,
          region: file.s3.region ?? 'us-east-1',
          prefix: file.s3.prefix ?? '',
          accessKeyId: file.s3.access_key_id,
          secretAccessKey: file.s3.secret_access_key,
        }
      : null,
  };
}
