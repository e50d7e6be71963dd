import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseGenerateArgs } from '../../src/cli/commands/generate.js';
import { startConfig } from '../../src/cli/commands/start.js';
import { loadConfig } from '../../src/config/index.js';
import { PulseError } from '../../src/errors.js';

/**
 * Hostile command lines and configuration files: whatever comes in, the CLI either runs or stops
 * with exit 2 and a message naming the flag or field, never a crash or a stack trace. The many cases
 * go through the parsers in-process; a sample goes through the real `pulse` as a child process.
 * (Case counts are reported in BENCHMARKS.md, "Fuzz".)
 */
export const CASES = { start: 1500, generate: 1500, configFile: 600, childProcess: 6 } as const;

const BIN = fileURLToPath(new URL('../../../bin/pulse.js', import.meta.url));
const TOKEN = 'fuzz-token-key-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'pulse-fuzz-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const START_FLAGS = ['--demo', '--db', '--port', '--host', '--config'];
const GENERATE_FLAGS = [
  '--days',
  '--from',
  '--rate',
  '--seed',
  '--late',
  '--duplicates',
  '--invalid',
  '--time-zone',
  '--out',
  '--post',
  '--batch',
  '--concurrency',
];
const NASTY_VALUES = [
  '',
  ' ',
  '-1',
  '-0',
  '0',
  'NaN',
  'Infinity',
  '1e309',
  '1e-309',
  '99999999999999999999999',
  '9007199254740993',
  '0x10',
  '1_000',
  ' 5',
  '5 ',
  '1.5',
  '٣',
  '🦄',
  'é',
  '\u0000',
  '\u202e',
  '--',
  '-',
  '=',
  'a'.repeat(5000),
  '2026-02-30',
  '2026-13-01',
  'Mars/Olympus',
  'http://',
  'ftp://x',
  '/nonexistent/dir/file',
];

const value = fc.oneof(
  fc.constantFrom(...NASTY_VALUES),
  fc.string({ maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
);
function argvOf(flags: readonly string[]) {
  const token = fc.oneof(
    fc.constantFrom(...flags),
    fc.tuple(fc.constantFrom(...flags), value).map(([flag, v]) => `${flag}=${v}`),
    value,
    fc.string({ minLength: 1, maxLength: 12 }).map((s) => `--${s}`),
    fc.constantFrom('-h', '--help', '-x', '---', '--=', '--days=1e309'),
  );
  // Mostly flag-value pairs (so parsing goes past the first token), with stray tokens between.
  const pair = fc.tuple(fc.constantFrom(...flags), value).map(([flag, v]) => [flag, v]);
  return fc
    .array(fc.oneof({ weight: 3, arbitrary: pair }, { weight: 1, arbitrary: token.map((t) => [t]) }), {
      maxLength: 6,
    })
    .map((parts) => parts.flat());
}

/** The message names a flag or field: a --flag, a quoted token, or a config path such as limits.rate_per_key. */
function namesSomething(message: string): boolean {
  return /--[\w-]+|'[^']*'|"[^"]*"|\b[a-z_]+\.[a-z_]+\b|\(root\)|: the configuration file/.test(message);
}

function expectUsageOrConfig(error: unknown, what: string): void {
  assert.ok(
    error instanceof PulseError,
    `${what}: not a PulseError but ${String((error as Error)?.stack ?? error)}`,
  );
  assert.ok(
    error.code === 'PULSE_ERR_USAGE' || error.code === 'PULSE_ERR_CONFIG',
    `${what}: ${error.code} ${error.message}`,
  );
  assert.ok(namesSomething(error.message), `${what}: the message names no flag or field: ${error.message}`);
}

describe('fuzzing the command line', () => {
  it(`pulse start: ${CASES.start} random command lines parse or fail with a usage error naming the flag`, () => {
    fc.assert(
      fc.property(argvOf(START_FLAGS), (argv) => {
        try {
          const config = startConfig(argv, { PULSE_TOKEN_KEY: TOKEN });
          assert.ok(
            Number.isInteger(config.server.port) && config.server.port >= 0 && config.server.port <= 65535,
          );
        } catch (error) {
          expectUsageOrConfig(error, JSON.stringify(argv));
        }
      }),
      { numRuns: CASES.start, seed: 2026_11_29 },
    );
  });

  it(`pulse generate: ${CASES.generate} random command lines parse or fail with a usage error naming the flag`, () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    fc.assert(
      fc.property(argvOf(GENERATE_FLAGS), (argv) => {
        try {
          const plan = parseGenerateArgs(argv, now);
          if (plan === 'help') return;
          assert.ok(Number.isSafeInteger(plan.days) && plan.days >= 1, `days ${plan.days}`);
          assert.ok(Number.isFinite(plan.options.ordersPerDay) && plan.options.ordersPerDay > 0);
          assert.ok(Number.isFinite(plan.from) && Number.isFinite(plan.to) && plan.to > plan.from);
          assert.ok(plan.batch >= 1 && plan.concurrency >= 1);
        } catch (error) {
          assert.ok(error instanceof PulseError, `${JSON.stringify(argv)}: ${String(error)}`);
          assert.equal(error.code, 'PULSE_ERR_USAGE');
          assert.ok(namesSomething(error.message), `${JSON.stringify(argv)}: ${error.message}`);
        }
      }),
      { numRuns: CASES.generate, seed: 2026_11_30 },
    );
  });

  it(`the real pulse binary: ${CASES.childProcess} hostile command lines exit 2 with one clear line, no stack trace`, () => {
    const { PULSE_TOKEN_KEY: _ignored, ...env } = process.env;
    const commands = ['start', 'generate', 'ingest', 'backfill', 'run', 'keys'];
    const samples = fc.sample(
      fc.tuple(
        fc.constantFrom(...commands),
        argvOf([...START_FLAGS, ...GENERATE_FLAGS]),
        // Every sample carries at least one thing that must be refused.
        fc.constantFrom('--colour', '--days=1e309x', '--no-such-flag=🦄', '--\u0000'),
      ),
      { numRuns: CASES.childProcess, seed: 11 },
    );
    for (const [command, argv, bad] of samples) {
      const args = [command, ...argv.filter((a) => !a.includes('\u0000')), bad.replace('\u0000', 'x')];
      const result = spawnSync(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: { ...env, PULSE_TOKEN_KEY: TOKEN },
        encoding: 'utf8',
        timeout: 60_000,
      });
      const what = JSON.stringify(args).slice(0, 300);
      assert.equal(result.status, 2, `${what}: exit ${result.status}\n${result.stderr}`);
      assert.ok(!/\n\s+at .+:\d+:\d+/.test(result.stderr), `${what}: stack trace\n${result.stderr}`);
      assert.match(result.stderr, new RegExp(`^pulse ${command}: `), what);
      assert.ok(namesSomething(result.stderr), `${what}: ${result.stderr}`);
    }
  });
});

describe('fuzzing the configuration file', () => {
  const path = join(dir, 'pulse.config.yaml');
  const env = { PULSE_TOKEN_KEY: TOKEN };
  const scalar = fc.oneof(
    fc.constantFrom(...NASTY_VALUES),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(-1, 0, 1, 65535, 65536, 2 ** 53, Number.MAX_VALUE, Number('1e309')),
  );
  const anyValue = fc.oneof(
    scalar,
    fc.array(scalar, { maxLength: 3 }),
    fc.dictionary(fc.string(), scalar, { maxKeys: 3 }),
  );
  const key = (known: readonly string[]) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...known) },
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString'),
      fc.string({ maxLength: 10 }),
    );
  const SECTIONS: Record<string, readonly string[]> = {
    server: ['host', 'port', 'body_limit_bytes', 'max_batch_events'],
    warehouse: ['path', 'memory_limit', 'threads'],
    privacy: ['token_key'],
    business: ['time_zone'],
    refresh: ['debounce_ms'],
    demo: ['history_days', 'history_scale', 'orders_per_day', 'seed'],
    limits: ['rate_per_key', 'rate_window_ms'],
    auth: ['keys'],
  };
  const section = fc
    .constantFrom(...Object.keys(SECTIONS))
    .chain((name) =>
      fc.tuple(fc.constant(name), fc.dictionary(key(SECTIONS[name] ?? []), anyValue, { maxKeys: 4 })),
    );
  const document = fc
    .array(fc.oneof({ weight: 4, arbitrary: section }, fc.tuple(key(['log_level', 'server']), anyValue)), {
      maxLength: 5,
    })
    .map((entries) => {
      const object: Record<string, unknown> = {};
      // defineProperty: a "__proto__" key must reach the file as a key, not as a prototype.
      for (const [k, v] of entries)
        Object.defineProperty(object, k, { value: v, enumerable: true, writable: true });
      return stringify(object);
    });
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i += 1) {
    const previous = String.fromCharCode(96 + i);
    laughs.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${previous}`).join(',')}]`,
    );
  }
  const RAW = [
    laughs.join('\n'),
    'server: &s {port: 1}\nwarehouse: *s',
    'server:\n  <<: *missing',
    '['.repeat(20_000),
    '{a: '.repeat(5_000),
    `# ${'x'.repeat(2 * 1024 * 1024)}`,
    'server:\n\tport: 1',
    '\uFEFFserver: {port: 8080}',
    'server: {port: 1}\nserver: {port: 2}',
    '---\nserver: {port: 1}\n---\nserver: {port: 2}',
    '!!js/function "function(){}"',
    'server: !!python/object:os.system ["ls"]',
    '__proto__: {polluted: true}',
    'server: {__proto__: {polluted: true}}',
    'constructor: {prototype: {polluted: true}}',
    'server:\n  port: 0x1F90',
    'server:\n  port: 8080.0',
    'server:\n  port: "8080"',
    'server:\n  port: .inf',
    'limits:\n  rate_per_key: -1',
    'auth:\n  keys: [{id: "AB", name: "", sha256: "zz", roles: ["root"]}]',
    '\u0000\u0001\u0002',
  ];

  function check(text: string): void {
    writeFileSync(path, text);
    try {
      const config = loadConfig({ configFile: path }, env);
      assert.ok(Number.isInteger(config.server.port));
      assert.ok(Number.isInteger(config.limits.ratePerKey) && config.limits.ratePerKey >= 1);
    } catch (error) {
      expectUsageOrConfig(error, text.slice(0, 200));
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
  }

  it(`${RAW.length} hand-written hostile files (YAML bombs, huge, deep, prototype keys) fail cleanly, naming the file and field`, () => {
    for (const text of RAW) check(text);
    writeFileSync(path, laughs.join('\n'));
    assert.throws(() => loadConfig({ configFile: path }, env), /aliases \(\*name\) are not allowed/);
    writeFileSync(path, `# ${'x'.repeat(2 * 1024 * 1024)}`);
    assert.throws(() => loadConfig({ configFile: path }, env), /larger than 1024 KiB/);
    assert.throws(() => loadConfig({ configFile: '/dev/zero' }, env), /must be a regular file/);
    assert.throws(() => loadConfig({ configFile: dir }, env), /must be a regular file/);
    writeFileSync(path, 'server: {port: 1}\nserver: {port: 2}');
    assert.throws(() => loadConfig({ configFile: path }, env), /unique/);
  });

  it(`${CASES.configFile} random near-miss files load or fail with PULSE_ERR_CONFIG naming the field`, () => {
    fc.assert(fc.property(document, check), { numRuns: CASES.configFile, seed: 99 });
  });
});
