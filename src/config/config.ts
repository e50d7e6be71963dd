import { existsSync, readFileSync, statSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import {
  DEFAULT_ALERTS,
  DEFAULT_SCORECARDS,
  parseAlertsConfig,
  parseScorecardsConfig,
  type AlertsConfig,
  type ScorecardsConfig,
} from '../alerts/config.js';
import { PulseError } from '../errors.js';
import { DEMO_TOKEN_KEY, MIN_TOKEN_KEY_LENGTH } from '../privacy/index.js';
import { builtInMappings } from '../sources/files/mapping.js';
import { DEFAULT_JWT_ALGORITHMS, type JwtConfig, type Role, type StoredKey } from '../security/index.js';
import { DEFAULT_DP, type DpConfig } from '../privacy/dp-config.js';
import { DEFAULT_CHECKPOINT_THRESHOLD } from '../warehouse/defaults.js';

/** Requests per API key per window: 100 a second on average, in bursts as large as a producer needs. */
export const DEFAULT_RATE_PER_KEY = 6_000;
export const DEFAULT_RATE_WINDOW_MS = 60_000;
/** The event loop ahead of DuckDB's and the workers' threads (src/serve/thread-priority.ts). */
export const DEFAULT_BACKGROUND_NICE = 10;

/** A configuration is a few hundred bytes; anything near this is a mistake or an attack. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Everything Pulse can be told, after defaults, the config file, the environment and flags. */
export interface PulseConfig {
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly maxBatchEvents: number;
    /** Nice steps below the event loop for every other thread (`pulse start`); 0 leaves them as they are. */
    readonly backgroundNice: number;
  };
  readonly warehouse: {
    readonly path: string;
    /** DuckDB's cap; unset, each command picks (`DEFAULT_MEMORY_LIMIT`, `BACKFILL_MEMORY_LIMIT`). */
    readonly memoryLimit: string | undefined;
    /** DuckDB's threads; unset, each command picks (`servingThreads`, `batchThreads`). */
    readonly threads: number | undefined;
    /** WAL size at which DuckDB checkpoints (a checkpoint holds up the commits behind it). */
    readonly checkpointThreshold: string;
  };
  readonly privacy: { readonly tokenKey: string };
  readonly business: { readonly timeZone: string };
  readonly refresh: { readonly debounceMs: number };
  readonly limits: { readonly ratePerKey: number; readonly rateWindowMs: number };
  /** Quality rules after each refresh, and the publish gate that holds KPIs on failing error rules. */
  readonly quality: { readonly enabled: boolean };
  readonly demo: {
    readonly enabled: boolean;
    readonly historyDays: number;
    readonly historyScale: number;
    readonly ordersPerDay: number;
    readonly seed: number;
  };
  readonly sources: {
    /** The watched drop folder, when configured: `pulse start` then reads it. */
    readonly files?: FilesConfig;
    readonly nats: NatsConfig;
  };
  readonly gateway: GatewayConfig;
  readonly logLevel: string;
  /** API keys given in the config file (hashes only). */
  readonly apiKeys: readonly StoredKey[];
  /** Where gold tables and KPI values are published for BI tools (absent: not published). */
  readonly publish: {
    readonly postgres?: {
      readonly url: string;
      readonly schema: string;
      readonly sellerRoles: Readonly<Record<string, string>>;
      readonly retryMaxMs: number;
      readonly minIntervalMs: number;
    };
  };
  readonly alerts: AlertsConfig;
  readonly scorecards: ScorecardsConfig;
  /** OpenLineage emission (off unless a file or URL is given). */
  readonly lineage: {
    readonly file: string | undefined;
    readonly url: string | undefined;
    readonly namespace: string;
  };
  readonly orchestrator: {
    /** Every commit must be visible within this many ms (undefined: no SLA). */
    readonly refreshSlaMs: number | undefined;
    /** Waits before each retry of a failed refresh. */
    readonly retryBackoffMs: readonly number[];
    readonly jobs: readonly {
      name: string;
      kpis: readonly string[];
      everyMs: number;
      slaMs: number | undefined;
    }[];
  };
  /** Bearer JWTs verified against a JWKS; off when absent. */
  readonly jwt: JwtConfig | undefined;
  /** Differential privacy of the customer-behaviour breakdowns. */
  readonly dp: DpConfig;
  /** OTLP/HTTP trace export; off when absent. */
  readonly telemetry: { readonly otlpEndpoint: string | undefined };
}

/** `sources.files`: a drop folder read by `pulse start`, and the mapping rules `pulse load` uses too. */
export interface FilesConfig {
  readonly dir: string;
  /** First match wins: a file-name glob and the mapping that reads such files. */
  readonly mappings: readonly { readonly match: string; readonly mapping: string }[];
  /** A file is read once its size has not changed for this long. */
  readonly stableMs: number;
  readonly pollMs: number;
  readonly batchEvents: number;
  /** The longest line (CSV) or event (JSONL) accepted, in bytes. */
  readonly maxLineBytes: number;
}

/** The JetStream stream a worker consumes (`pulse worker`) and gateways publish to (`pulse gateway`). */
export interface NatsConfig {
  readonly servers: readonly string[];
  readonly stream: string;
  readonly subjects: readonly string[];
  readonly durable: string;
  readonly batch: number;
  readonly maxAckPending: number;
  readonly ackWaitMs: number;
  readonly nakDelayMs: number;
  readonly createStream: boolean;
  readonly replicas: number;
}

export interface GatewayConfig {
  /** Events are published to `<subject_prefix>.<event type>`; the stream's subjects must cover it. */
  readonly subjectPrefix: string;
  /** How long a publish may wait for JetStream's ack before the producer is answered 503. */
  readonly publishTimeoutMs: number;
}

const BYTE_SIZE = '^\\d+(\\.\\d+)?\\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$';
const NATS_NAME = '^[A-Za-z0-9_-]{1,64}$';
const NATS_SUBJECT = '^[A-Za-z0-9_*-]+(\\.[A-Za-z0-9_*-]+)*(\\.>)?$|^>$';

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
        background_nice: { type: 'integer', minimum: 0, maximum: 19 },
      },
    },
    warehouse: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', minLength: 1 },
        memory_limit: { type: 'string', pattern: BYTE_SIZE },
        threads: { type: 'integer', minimum: 1, maximum: 256 },
        checkpoint_threshold: { type: 'string', pattern: BYTE_SIZE },
      },
    },
    privacy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        token_key: { type: 'string', minLength: MIN_TOKEN_KEY_LENGTH },
        dp: {
          type: 'object',
          additionalProperties: false,
          properties: {
            epsilon_per_query: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
            daily_budget_per_key: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
            min_cell_count: { type: 'integer', minimum: 0, maximum: 1000000 },
            exact_roles: { type: 'array', items: { enum: ['admin', 'read'] }, uniqueItems: true },
          },
        },
      },
    },
    telemetry: {
      type: 'object',
      additionalProperties: false,
      properties: { otlp_endpoint: { type: 'string', pattern: '^https?://', maxLength: 2048 } },
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
    quality: {
      type: 'object',
      additionalProperties: false,
      properties: { enabled: { type: 'boolean' } },
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
    sources: {
      type: 'object',
      additionalProperties: false,
      properties: {
        files: {
          type: 'object',
          additionalProperties: false,
          required: ['dir'],
          properties: {
            dir: { type: 'string', minLength: 1, maxLength: 4096 },
            mappings: {
              type: 'array',
              maxItems: 100,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['match', 'mapping'],
                properties: {
                  match: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^/\\\\]+$' },
                  mapping: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' },
                },
              },
            },
            stable_ms: { type: 'integer', minimum: 0, maximum: 3600000 },
            poll_ms: { type: 'integer', minimum: 10, maximum: 600000 },
            batch_events: { type: 'integer', minimum: 1, maximum: 100000 },
            max_line_bytes: { type: 'integer', minimum: 1024, maximum: 268435456 },
          },
        },
        nats: {
          type: 'object',
          additionalProperties: false,
          properties: {
            servers: {
              type: 'array',
              minItems: 1,
              maxItems: 32,
              items: { type: 'string', pattern: '^(nats|tls|ws|wss)://[^\\s]+$' },
            },
            stream: { type: 'string', pattern: NATS_NAME },
            subjects: {
              type: 'array',
              minItems: 1,
              maxItems: 64,
              items: { type: 'string', maxLength: 256, pattern: NATS_SUBJECT },
            },
            durable: { type: 'string', pattern: NATS_NAME },
            batch: { type: 'integer', minimum: 1, maximum: 10000 },
            max_ack_pending: { type: 'integer', minimum: 1, maximum: 1000000 },
            ack_wait_ms: { type: 'integer', minimum: 1000, maximum: 3600000 },
            nak_delay_ms: { type: 'integer', minimum: 0, maximum: 600000 },
            create_stream: { type: 'boolean' },
            replicas: { type: 'integer', minimum: 1, maximum: 5 },
          },
        },
      },
    },
    gateway: {
      type: 'object',
      additionalProperties: false,
      properties: {
        subject_prefix: { type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' },
        publish_timeout_ms: { type: 'integer', minimum: 100, maximum: 120000 },
      },
    },
    lineage: {
      type: 'object',
      additionalProperties: false,
      properties: {
        openlineage_file: { type: 'string', minLength: 1, maxLength: 4096 },
        openlineage_url: { type: 'string', pattern: '^https?://[^\\s]{1,2000}$' },
        namespace: { type: 'string', pattern: '^[A-Za-z0-9_.:/-]{1,128}$' },
      },
    },
    orchestrator: {
      type: 'object',
      additionalProperties: false,
      properties: {
        refresh_sla_ms: { type: 'integer', minimum: 1, maximum: 86400000 },
        retry_backoff_ms: {
          type: 'array',
          maxItems: 10,
          items: { type: 'integer', minimum: 0, maximum: 600000 },
        },
        jobs: {
          type: 'array',
          maxItems: 100,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'every'],
            properties: {
              name: { type: 'string', pattern: '^[a-z0-9_-]{1,64}$' },
              kpis: { type: 'array', maxItems: 100, items: { type: 'string', pattern: '^[a-z0-9_]{1,64}$' } },
              every: { type: 'string', pattern: '^PT(\\d+H)?(\\d+M)?(\\d+S)?$' },
              sla_ms: { type: 'integer', minimum: 1, maximum: 86400000 },
            },
          },
        },
      },
    },
    publish: {
      type: 'object',
      additionalProperties: false,
      properties: {
        postgres: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { type: 'string', pattern: '^postgres(ql)?://' },
            schema: { type: 'string', pattern: '^[a-z_][a-z0-9_]{0,62}$' },
            seller_roles: {
              type: 'object',
              maxProperties: 10000,
              propertyNames: { pattern: '^[a-z_][a-z0-9_]{0,62}$' },
              additionalProperties: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
            },
            retry_max_ms: { type: 'integer', minimum: 100, maximum: 600000 },
            min_interval_ms: { type: 'integer', minimum: 0, maximum: 600000 },
          },
        },
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
    // Checked in detail by the alerts module, which names each field.
    alerts: { type: 'object' },
    scorecards: { type: 'object' },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        jwt: {
          type: 'object',
          additionalProperties: false,
          required: ['issuer', 'audience'],
          properties: {
            jwks_url: { type: 'string', pattern: '^https?://', maxLength: 2048 },
            jwks_file: { type: 'string', minLength: 1 },
            issuer: { type: 'string', minLength: 1 },
            audience: { type: 'string', minLength: 1 },
            roles_claim: { type: 'string', minLength: 1, maxLength: 128 },
            seller_claim: { type: 'string', minLength: 1, maxLength: 128 },
            algorithms: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { enum: DEFAULT_JWT_ALGORITHMS },
            },
            clock_tolerance_s: { type: 'integer', minimum: 0, maximum: 300 },
          },
        },
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
  /** `pulse gateway` validates but never tokenises: it runs without the token key. */
  readonly withoutTokenKey?: boolean | undefined;
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
  const backgroundNice =
    number('PULSE_BACKGROUND_NICE', env.PULSE_BACKGROUND_NICE) ??
    file.server?.background_nice ??
    DEFAULT_BACKGROUND_NICE;
  if (backgroundNice > 19) problems.push(`PULSE_BACKGROUND_NICE must be 0–19, got ${backgroundNice}`);
  const tokenKey = env.PULSE_TOKEN_KEY ?? file.privacy?.token_key ?? (demo ? DEMO_TOKEN_KEY : undefined);
  if (tokenKey === undefined) {
    if (!overrides.withoutTokenKey)
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
  const known = [...builtInMappings().keys()];
  for (const [i, rule] of (file.sources?.files?.mappings ?? []).entries()) {
    if (!known.includes(rule.mapping))
      problems.push(
        `sources.files.mappings.${i}.mapping: no mapping "${rule.mapping}"; known: ${known.join(', ')}`,
      );
  }
  const qualityEnv = env.PULSE_QUALITY_ENABLED;
  if (qualityEnv !== undefined && qualityEnv !== 'true' && qualityEnv !== 'false')
    problems.push(`PULSE_QUALITY_ENABLED must be true or false, got "${qualityEnv}"`);
  for (const job of file.orchestrator?.jobs ?? []) {
    if (job.every === 'PT' || durationMs(job.every) < 1000) {
      problems.push(`orchestrator.jobs.${job.name}.every must be at least PT1S, got "${job.every}"`);
    }
  }
  const timeZone = env.PULSE_TIME_ZONE ?? file.business?.time_zone ?? 'Europe/Paris';
  if (!isValidTimeZone(timeZone))
    problems.push(`business.time_zone "${timeZone}" is not a known IANA time zone`);
  const martsUrl = env.PULSE_PUBLISH_POSTGRES_URL ?? file.publish?.postgres?.url;
  if (martsUrl !== undefined && !/^postgres(ql)?:\/\//.test(martsUrl))
    problems.push(`publish.postgres.url must start with postgres:// or postgresql://`);
  const martsSchema = env.PULSE_PUBLISH_POSTGRES_SCHEMA ?? file.publish?.postgres?.schema ?? 'pulse_marts';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(martsSchema))
    problems.push(`publish.postgres.schema must be a lower-case identifier, got "${martsSchema}"`);
  const alerts = file.alerts === undefined ? DEFAULT_ALERTS : parseAlertsConfig(file.alerts, problems);
  const scorecards =
    file.scorecards === undefined
      ? DEFAULT_SCORECARDS
      : parseScorecardsConfig(file.scorecards, problems, alerts);
  const nats = natsConfig(file.sources?.nats ?? {}, env, problems);
  const jwtFile = file.auth?.jwt;
  if (jwtFile && (jwtFile.jwks_url === undefined) === (jwtFile.jwks_file === undefined))
    problems.push('auth.jwt needs exactly one of jwks_url or jwks_file');
  if (jwtFile?.jwks_file !== undefined) checkJwksFile(jwtFile.jwks_file, problems);
  const dpFile = file.privacy?.dp ?? {};
  const dp: DpConfig = {
    epsilonPerQuery: dpFile.epsilon_per_query ?? DEFAULT_DP.epsilonPerQuery,
    dailyBudgetPerKey: dpFile.daily_budget_per_key ?? DEFAULT_DP.dailyBudgetPerKey,
    minCellCount: dpFile.min_cell_count ?? DEFAULT_DP.minCellCount,
    exactRoles: (dpFile.exact_roles as DpConfig['exactRoles'] | undefined) ?? DEFAULT_DP.exactRoles,
  };
  if (dp.epsilonPerQuery > dp.dailyBudgetPerKey)
    problems.push('privacy.dp.epsilon_per_query must not exceed privacy.dp.daily_budget_per_key');
  const otlpEndpoint = env.PULSE_OTLP_ENDPOINT || file.telemetry?.otlp_endpoint;
  if (otlpEndpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(otlpEndpoint))
    problems.push(`telemetry.otlp_endpoint must be an http(s) URL, got "${otlpEndpoint}"`);
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
      backgroundNice,
    },
    warehouse: {
      path:
        overrides.dbPath ??
        env.PULSE_DB ??
        file.warehouse?.path ??
        (demo ? 'pulse-demo.duckdb' : 'pulse.duckdb'),
      memoryLimit: file.warehouse?.memory_limit,
      threads: file.warehouse?.threads,
      checkpointThreshold: file.warehouse?.checkpoint_threshold ?? DEFAULT_CHECKPOINT_THRESHOLD,
    },
    privacy: { tokenKey: tokenKey ?? '' },
    business: { timeZone },
    refresh: { debounceMs: file.refresh?.debounce_ms ?? 20 },
    limits: {
      ratePerKey: file.limits?.rate_per_key ?? DEFAULT_RATE_PER_KEY,
      rateWindowMs: file.limits?.rate_window_ms ?? DEFAULT_RATE_WINDOW_MS,
    },
    quality: {
      enabled: qualityEnv === undefined ? (file.quality?.enabled ?? true) : qualityEnv === 'true',
    },
    demo: {
      enabled: demo,
      historyDays: file.demo?.history_days ?? 30,
      historyScale: file.demo?.history_scale ?? 0.01,
      ordersPerDay: file.demo?.orders_per_day ?? 60_000,
      seed: file.demo?.seed ?? 42,
    },
    sources: { nats, ...(file.sources?.files ? { files: filesConfig(file.sources.files) } : {}) },
    gateway: {
      subjectPrefix: file.gateway?.subject_prefix ?? 'pulse.events',
      publishTimeoutMs: file.gateway?.publish_timeout_ms ?? 5_000,
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
    publish:
      martsUrl === undefined
        ? {}
        : {
            postgres: {
              url: martsUrl,
              schema: martsSchema,
              sellerRoles: file.publish?.postgres?.seller_roles ?? {},
              retryMaxMs: file.publish?.postgres?.retry_max_ms ?? 30_000,
              minIntervalMs: file.publish?.postgres?.min_interval_ms ?? 200,
            },
          },
    alerts,
    scorecards,
    lineage: {
      file: env.PULSE_OPENLINEAGE_FILE ?? file.lineage?.openlineage_file,
      url: env.PULSE_OPENLINEAGE_URL ?? file.lineage?.openlineage_url,
      namespace: file.lineage?.namespace ?? 'pulse',
    },
    orchestrator: {
      refreshSlaMs: file.orchestrator?.refresh_sla_ms,
      retryBackoffMs: file.orchestrator?.retry_backoff_ms ?? [200, 1000, 5000],
      jobs: (file.orchestrator?.jobs ?? []).map((job) => ({
        name: job.name,
        kpis: job.kpis ?? [],
        everyMs: durationMs(job.every),
        slaMs: job.sla_ms,
      })),
    },
    jwt: jwtFile
      ? {
          ...(jwtFile.jwks_url !== undefined ? { jwksUrl: jwtFile.jwks_url } : {}),
          ...(jwtFile.jwks_file !== undefined ? { jwksFile: jwtFile.jwks_file } : {}),
          issuer: jwtFile.issuer,
          audience: jwtFile.audience,
          rolesClaim: jwtFile.roles_claim ?? 'roles',
          ...(jwtFile.seller_claim !== undefined ? { sellerClaim: jwtFile.seller_claim } : {}),
          algorithms: jwtFile.algorithms ?? DEFAULT_JWT_ALGORITHMS,
          clockToleranceS: jwtFile.clock_tolerance_s ?? 5,
        }
      : undefined,
    dp,
    telemetry: { otlpEndpoint },
  };
}

/** `PT2M`, `PT1H30M`, `PT45S` → ms (the schema has checked the shape). */
function durationMs(iso: string): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso);
  const [hours, minutes, seconds] = [match?.[1], match?.[2], match?.[3]].map((part) => Number(part ?? 0));
  return ((hours ?? 0) * 3600 + (minutes ?? 0) * 60 + (seconds ?? 0)) * 1000;
}

interface ConfigFile {
  server?: {
    host?: string;
    port?: number;
    body_limit_bytes?: number;
    max_batch_events?: number;
    background_nice?: number;
  };
  warehouse?: { path?: string; memory_limit?: string; threads?: number; checkpoint_threshold?: string };
  privacy?: {
    token_key?: string;
    dp?: {
      epsilon_per_query?: number;
      daily_budget_per_key?: number;
      min_cell_count?: number;
      exact_roles?: string[];
    };
  };
  telemetry?: { otlp_endpoint?: string };
  business?: { time_zone?: string };
  refresh?: { debounce_ms?: number };
  limits?: { rate_per_key?: number; rate_window_ms?: number };
  quality?: { enabled?: boolean };
  demo?: { history_days?: number; history_scale?: number; orders_per_day?: number; seed?: number };
  sources?: { files?: FilesConfigFile; nats?: NatsFile };
  gateway?: { subject_prefix?: string; publish_timeout_ms?: number };
  log_level?: string;
  publish?: {
    postgres?: {
      url: string;
      schema?: string;
      seller_roles?: Record<string, string>;
      retry_max_ms?: number;
      min_interval_ms?: number;
    };
  };
  lineage?: { openlineage_file?: string; openlineage_url?: string; namespace?: string };
  orchestrator?: {
    refresh_sla_ms?: number;
    retry_backoff_ms?: number[];
    jobs?: { name: string; kpis?: string[]; every: string; sla_ms?: number }[];
  };
  auth?: {
    jwt?: {
      jwks_url?: string;
      jwks_file?: string;
      issuer: string;
      audience: string;
      roles_claim?: string;
      seller_claim?: string;
      algorithms?: string[];
      clock_tolerance_s?: number;
    };
    keys?: { id: string; name: string; sha256: string; roles: string[]; expires_at?: string }[];
  };
  alerts?: unknown;
  scorecards?: unknown;
}

interface FilesConfigFile {
  dir: string;
  mappings?: { match: string; mapping: string }[];
  stable_ms?: number;
  poll_ms?: number;
  batch_events?: number;
  max_line_bytes?: number;
}

function filesConfig(file: FilesConfigFile): FilesConfig {
  return {
    dir: file.dir,
    mappings: file.mappings ?? [],
    stableMs: file.stable_ms ?? 1000,
    pollMs: file.poll_ms ?? 500,
    batchEvents: file.batch_events ?? 5000,
    maxLineBytes: file.max_line_bytes ?? 1024 * 1024,
  };
}

interface NatsFile {
  servers?: string[];
  stream?: string;
  subjects?: string[];
  durable?: string;
  batch?: number;
  max_ack_pending?: number;
  ack_wait_ms?: number;
  nak_delay_ms?: number;
  create_stream?: boolean;
  replicas?: number;
}

/** `sources.nats` with its defaults; PULSE_NATS_SERVERS (comma-separated) overrides the servers. */
function natsConfig(file: NatsFile, env: NodeJS.ProcessEnv, problems: string[]): NatsConfig {
  let servers = file.servers ?? ['nats://127.0.0.1:4222'];
  if (env.PULSE_NATS_SERVERS !== undefined && env.PULSE_NATS_SERVERS !== '') {
    servers = env.PULSE_NATS_SERVERS.split(',').map((server) => server.trim());
    const bad = servers.find((server) => !/^(nats|tls|ws|wss):\/\/\S+$/.test(server));
    if (bad !== undefined)
      problems.push(`PULSE_NATS_SERVERS: "${bad}" is not a server URL like nats://host:4222`);
  }
  const batch = file.batch ?? 500;
  const maxAckPending = file.max_ack_pending ?? Math.max(2_000, batch * 4);
  if (maxAckPending < batch)
    problems.push(
      `sources.nats.max_ack_pending (${maxAckPending}) must be at least sources.nats.batch (${batch})`,
    );
  return {
    servers,
    stream: file.stream ?? 'PULSE_EVENTS',
    subjects: file.subjects ?? ['pulse.events.>'],
    durable: file.durable ?? 'pulse-worker',
    batch,
    maxAckPending,
    ackWaitMs: file.ack_wait_ms ?? 30_000,
    nakDelayMs: file.nak_delay_ms ?? 1_000,
    createStream: file.create_stream ?? true,
    replicas: file.replicas ?? 1,
  };
}

let compiled: ValidateFunction | undefined;

/** The file schema, compiled once (compiling costs far more than validating). */
function fileValidator(): ValidateFunction {
  // verbose: each error carries the value it refused (`unquotedScalarHint`).
  compiled ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile(fileSchema);
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
        error.keyword === 'additionalProperties'
          ? ` "${String(error.params.additionalProperty)}"`
          : unquotedScalarHint(error);
      problems.push(`${file}: ${field} ${error.message ?? 'is invalid'}${extra}`);
    }
    return {};
  }
  return document as ConfigFile;
}

/**
 * A string field that YAML read as a number or boolean (an id of digits, `12e3`, `true`): the fix
 * is quotes, which the schema's "must be string" does not say.
 */
function unquotedScalarHint(error: ErrorObject): string {
  if (error.keyword !== 'type' || !String(error.params.type).includes('string')) return '';
  const value: unknown = error.data;
  if (typeof value !== 'number' && typeof value !== 'boolean') return '';
  // 12e345678901 reads as Infinity: naming that value would only puzzle.
  const read = typeof value === 'number' && !Number.isFinite(value) ? 'it' : String(value);
  return ` (YAML read ${read} as a ${typeof value}: put the value in quotes)`;
}

/** A local JWKS must be a JSON object with a `keys` array: said at start, not at the first request. */
function checkJwksFile(path: string, problems: string[]): void {
  if (!existsSync(path)) {
    problems.push(`auth.jwt.jwks_file "${path}" does not exist`);
    return;
  }
  try {
    const document = JSON.parse(readFileSync(path, 'utf8')) as { keys?: unknown };
    if (!Array.isArray(document.keys) || document.keys.length === 0)
      problems.push(`auth.jwt.jwks_file "${path}" has no "keys" array of JSON Web Keys`);
  } catch (error) {
    problems.push(`auth.jwt.jwks_file "${path}" is not JSON: ${(error as Error).message}`);
  }
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
