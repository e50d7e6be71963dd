import { existsSync, readFileSync, statSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { PulseError } from '../errors.js';
import { DEMO_TOKEN_KEY, MIN_TOKEN_KEY_LENGTH } from '../privacy/index.js';
import type { Role, StoredKey } from '../security/index.js';

/** Requests per API key per window: 100 a second on average, in bursts as large as a producer needs. */
export const DEFAULT_RATE_PER_KEY = 6_000;
export const DEFAULT_RATE_WINDOW_MS = 60_000;

/** Everything Pulse can be told, after defaults, the config file, the environment and flags. */
export interface PulseConfig {
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly maxBatchEvents: number;
  };
  readonly warehouse: { readonly path: string; readonly memoryLimit: string; readonly threads: number };
  readonly privacy: { readonly tokenKey: string };
  readonly business: { readonly timeZone: string };
  readonly refresh: { readonly debounceMs: number };
  readonly limits: { readonly ratePerKey: number; readonly rateWindowMs: number };
  readonly demo: {
    readonly enabled: boolean;
    readonly historyDays: number;
    readonly historyScale: number;
    readonly ordersPerDay: number;
    readonly seed: number;
  };
  readonly logLevel: string;
  /** API keys given in the config file (hashes only). */
  readonly apiKeys: readonly StoredKey[];
}

/** A configuration is a few hundred bytes; anything near this is a mistake or an attack. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** The file format (snake_case, every key optional). */
const fileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        body_limit_bytes: { type: 'integer', minimum: 1024, maximum: 268435456 },
        max_batch_events: { type: 'integer', minimum: 1, maximum: 1000000 },
      },
    },
    warehouse: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', minLength: 1 },
        memory_limit: { type: 'string', pattern: '^\\d+(\\.\\d+)?\\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$' },
        threads: { type: 'integer', minimum: 1, maximum: 256 },
      },
    },
    privacy: {
      type: 'object',
      additionalProperties: false,
      properties: { token_key: { type: 'string', minLength: MIN_TOKEN_KEY_LENGTH } },
    },
    business: {
      type: 'object',
      additionalProperties: false,
      properties: { time_zone: { type: 'string', minLength: 1 } },
    },
    refresh: {
      type: 'object',
      additionalProperties: false,
      properties: { debounce_ms: { type: 'integer', minimum: 0, maximum: 60000 } },
    },
    demo: {
      type: 'object',
      additionalProperties: false,
      properties: {
        history_days: { type: 'integer', minimum: 0, maximum: 366 },
        history_scale: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        orders_per_day: { type: 'integer', minimum: 1, maximum: 10000000 },
        seed: { type: 'integer' },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        rate_per_key: { type: 'integer', minimum: 1, maximum: 100000000 },
        rate_window_ms: { type: 'integer', minimum: 100, maximum: 86400000 },
      },
    },
    log_level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        keys: {
          type: 'array',
          maxItems: 1000,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'name', 'sha256', 'roles'],
            properties: {
              id: { type: 'string', pattern: '^[a-z0-9]{4,32}$' },
              name: { type: 'string', minLength: 1, maxLength: 128 },
              sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
              roles: {
                type: 'array',
                minItems: 1,
                items: { type: 'string', pattern: '^(ingest|read|admin|seller:[A-Za-z0-9_-]{1,64})$' },
              },
              expires_at: {
                type: 'string',
                pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?(Z|[+-]\\d\\d:\\d\\d)$',
              },
            },
          },
        },
      },
    },
  },
} as const;

export interface ConfigOverrides {
  readonly configFile?: string | undefined;
  readonly demo?: boolean | undefined;
  readonly dbPath?: string | undefined;
  readonly port?: number | undefined;
  readonly host?: string | undefined;
}

/**
 * Builds the configuration: defaults ← pulse.config.yaml (or --config) ← PULSE_* environment ←
 * flags. Every problem is collected and reported together, each naming its field.
 */
export function loadConfig(
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): PulseConfig {
  const problems: string[] = [];
  const file = readConfigFile(overrides.configFile, problems);
  const demo = overrides.demo === true;
  const number = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined || value === '') return undefined;
    if (!/^\d+$/.test(value)) {
      problems.push(`${name} must be a whole number, got "${value}"`);
      return undefined;
    }
    return Number(value);
  };
  const port = overrides.port ?? number('PULSE_PORT', env.PULSE_PORT) ?? file.server?.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`port must be an integer 0–65535, got ${port}`);
  const tokenKey = env.PULSE_TOKEN_KEY ?? file.privacy?.token_key ?? (demo ? DEMO_TOKEN_KEY : undefined);
  if (tokenKey === undefined) {
    problems.push(
      'privacy.token_key is required: set PULSE_TOKEN_KEY or privacy.token_key in the config file (or run with --demo)',
    );
  } else if (tokenKey.length < MIN_TOKEN_KEY_LENGTH) {
    problems.push(`privacy.token_key must be at least ${MIN_TOKEN_KEY_LENGTH} characters`);
  } else if (tokenKey === DEMO_TOKEN_KEY && !demo) {
    problems.push(
      'privacy.token_key is the built-in demo key, which is refused outside --demo: set your own secret',
    );
  }
  const timeZone = env.PULSE_TIME_ZONE ?? file.business?.time_zone ?? 'Europe/Paris';
  if (!isValidTimeZone(timeZone))
    problems.push(`business.time_zone "${timeZone}" is not a known IANA time zone`);
  if (problems.length > 0) {
    throw new PulseError(
      'PULSE_ERR_CONFIG',
      `the configuration is invalid:\n  - ${problems.join('\n  - ')}`,
      { details: problems },
    );
  }
  return {
    server: {
      host: overrides.host ?? env.PULSE_HOST ?? file.server?.host ?? '127.0.0.1',
      port,
      bodyLimitBytes: file.server?.body_limit_bytes ?? 16 * 1024 * 1024,
      maxBatchEvents: file.server?.max_batch_events ?? 20_000,
    },
    warehouse: {
      path:
        overrides.dbPath ??
        env.PULSE_DB ??
        file.warehouse?.path ??
        (demo ? 'pulse-demo.duckdb' : 'pulse.duckdb'),
      memoryLimit: file.warehouse?.memory_limit ?? '2GB',
      threads: file.warehouse?.threads ?? 2,
    },
    privacy: { tokenKey: tokenKey as string },
    business: { timeZone },
    refresh: { debounceMs: file.refresh?.debounce_ms ?? 20 },
    limits: {
      ratePerKey: file.limits?.rate_per_key ?? DEFAULT_RATE_PER_KEY,
      rateWindowMs: file.limits?.rate_window_ms ?? DEFAULT_RATE_WINDOW_MS,
    },
    demo: {
      enabled: demo,
      historyDays: file.demo?.history_days ?? 30,
      historyScale: file.demo?.history_scale ?? 0.01,
      ordersPerDay: file.demo?.orders_per_day ?? 60_000,
      seed: file.demo?.seed ?? 42,
    },
    logLevel: env.PULSE_LOG_LEVEL ?? file.log_level ?? 'info',
    apiKeys: (file.auth?.keys ?? []).map((key) => ({
      id: key.id,
      name: key.name,
      sha256: key.sha256,
      roles: key.roles as Role[],
      expiresAt: key.expires_at ? new Date(key.expires_at) : null,
      revoked: false,
    })),
  };
}

interface ConfigFile {
  server?: { host?: string; port?: number; body_limit_bytes?: number; max_batch_events?: number };
  warehouse?: { path?: string; memory_limit?: string; threads?: number };
  privacy?: { token_key?: string };
  business?: { time_zone?: string };
  refresh?: { debounce_ms?: number };
  limits?: { rate_per_key?: number; rate_window_ms?: number };
  demo?: { history_days?: number; history_scale?: number; orders_per_day?: number; seed?: number };
  log_level?: string;
  auth?: { keys?: { id: string; name: string; sha256: string; roles: string[]; expires_at?: string }[] };
}

let compiled: ValidateFunction | undefined;

/** The file schema, compiled once (compiling costs far more than validating). */
function fileValidator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(fileSchema);
  return compiled;
}

function readConfigFile(path: string | undefined, problems: string[]): ConfigFile {
  const file = path ?? (existsSync('pulse.config.yaml') ? 'pulse.config.yaml' : undefined);
  if (file === undefined) return {};
  let document: unknown;
  try {
    // A device, a folder or a runaway file is refused before it is read (`--config /dev/zero`).
    const stat = statSync(file);
    if (!stat.isFile()) {
      problems.push(`${file}: the configuration file must be a regular file`);
      return {};
    }
    if (stat.size > MAX_CONFIG_BYTES) {
      problems.push(`${file}: the configuration file is larger than ${MAX_CONFIG_BYTES / 1024} KiB`);
      return {};
    }
    // Aliases are refused outright: a configuration has no use for them, and they make YAML bombs.
    document = parse(readFileSync(file, 'utf8'), { maxAliasCount: 0, uniqueKeys: true });
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    problems.push(
      `${file}: ${/Alias resolution is disabled/.test(message) ? 'YAML aliases (*name) are not allowed in the configuration' : message}`,
    );
    return {};
  }
  if (document === null || document === undefined) return {};
  const validate = fileValidator();
  if (!validate(document)) {
    for (const error of validate.errors ?? []) {
      const field = error.instancePath.slice(1).replaceAll('/', '.') || '(root)';
      const extra =
        error.keyword === 'additionalProperties' ? ` "${String(error.params.additionalProperty)}"` : '';
      problems.push(`${file}: ${field} ${error.message ?? 'is invalid'}${extra}`);
    }
    return {};
  }
  return document as ConfigFile;
}

/** True when the IANA zone is known to this runtime. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
