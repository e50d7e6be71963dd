/**
 * The crash-safety harness: a real Pulse process under sustained ingest from concurrent producers,
 * SIGKILLed at chosen moments round after round and restarted on the same DuckDB file. At the end,
 * every acknowledged event must be stored exactly once and the KPIs served must equal a full
 * recompute of the same bronze.
 *
 * Kill moments, in turn:
 *  - random: after a random delay of ingest (wherever the process happens to be);
 *  - after-ack: the instant a 2xx answer reaches a producer (the commit has just returned);
 *  - mid-refresh: a few ms after an ack, when the commit's model run and live recompute are running;
 *  - mid-publish: SSE subscribers connected, the instant one of them receives a KPI change;
 *  - startup: before the restarted process is ready (WAL replay, migrations, first model run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventSupply, Producers } from './producers.js';
import { PulseNode, writeChaosConfig } from './pulse-node.js';
import {
  answersWithData,
  checkStored,
  fullRecomputeCopy,
  kpiAnswers,
  mismatches,
  waitForRefresh,
} from './verify.js';

export const KILL_MODES = ['random', 'after-ack', 'mid-refresh', 'mid-publish', 'startup'] as const;
export type KillMode = (typeof KILL_MODES)[number];

export interface ChaosOptions {
  readonly rounds: number;
  readonly producers: number;
  readonly batchSize: number;
  /** Longest random wait before a kill, ms. */
  readonly maxDelayMs: number;
  readonly seed: number;
  readonly log: (line: string) => void;
  /** Keep the folder (file, copy) for inspection. */
  readonly keep?: boolean;
}

export interface ChaosReport {
  readonly rounds: number;
  readonly kills: number;
  readonly killsByMode: Record<KillMode, number>;
  readonly eventsAcknowledged: number;
  readonly eventsFound: number;
  readonly lost: number;
  readonly lostSample: readonly string[];
  readonly duplicates: number;
  readonly bronzeRows: number;
  readonly kpiAnswersCompared: number;
  readonly kpiAnswersWithData: number;
  /** The first reference and served answers, to see at once why a comparison was empty. */
  readonly answerSample: readonly string[];
  readonly kpiMismatches: number;
  readonly mismatchSample: readonly string[];
  readonly fallbacks: number;
  readonly meanRestartSeconds: number;
  readonly requests: number;
  readonly networkErrors: number;
  readonly refused: Record<string, number>;
  readonly oddAnswers: readonly string[];
  readonly seconds: number;
  readonly dir: string;
}

/** True when the run lost, duplicated or miscomputed anything. */
export function failed(report: ChaosReport): boolean {
  return (
    report.lost > 0 ||
    report.duplicates > 0 ||
    report.kpiMismatches > 0 ||
    report.eventsAcknowledged === 0 ||
    report.kpiAnswersWithData === 0
  );
}

/** Connects `count` SSE subscribers; `onChange` runs synchronously on each KPI change frame. */
function subscribe(
  url: string,
  auth: Record<string, string>,
  count: number,
  onChange: () => void,
): () => void {
  const controller = new AbortController();
  for (let i = 0; i < count; i += 1) {
    void (async () => {
      try {
        const response = await fetch(`${url}/v1/stream?window=24h`, {
          headers: auth,
          signal: controller.signal,
        });
        const decoder = new TextDecoder();
        // The current values arrive at once on connect; the changes a model run publishes come later.
        const connectedAt = performance.now();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          const text = decoder.decode(chunk, { stream: true });
          if (text.includes('event: kpi') && performance.now() - connectedAt > 300) onChange();
        }
      } catch {
        // Killed or aborted: the subscriber is gone with the process.
      }
    })();
  }
  return () => controller.abort();
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'pulse-chaos-'));
  const dbPath = join(dir, 'chaos.duckdb');
  const auth = writeChaosConfig(dir);
  const node = await PulseNode.create(dir, dbPath);
  // Events of the last hours, so that the live windows (and the SSE feed) change as they arrive.
  const to = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const from = new Date(to.getTime() - 12 * 3_600_000);
  const supply = new EventSupply({
    from,
    to,
    seed: options.seed,
    ordersPerDay: 400_000,
    batchSize: options.batchSize,
  });
  let armed: (() => void) | undefined;
  const producers = new Producers({
    url: node.url,
    auth,
    producers: options.producers,
    supply,
    onAck: () => {
      const fire = armed;
      armed = undefined;
      fire?.();
    },
  });
  const killsByMode = Object.fromEntries(KILL_MODES.map((m) => [m, 0])) as Record<KillMode, number>;
  let kills = 0;
  /** Rounds whose moment never came (no ack, no SSE change within 10 s): killed anyway. */
  let fallbacks = 0;
  let restartMs = 0;
  const delay = (): number => 50 + Math.random() * options.maxDelayMs;
  try {
    await node.start();
    producers.start();
    for (let round = 0; round < options.rounds; round += 1) {
      const mode = KILL_MODES[round % KILL_MODES.length] as KillMode;
      let unsubscribe: (() => void) | undefined;
      if (mode === 'startup') {
        // The previous round left the process dead; this one dies while it recovers.
        await sleep(delay());
        await node.kill();
        kills += 1;
        killsByMode.random += 1;
        node.spawn();
        await sleep(delay());
        await node.kill();
      } else {
        await sleep(delay());
        if (mode === 'random') await node.kill();
        else {
          await new Promise<void>((resolve) => {
            const fallback = setTimeout(() => {
              armed = undefined;
              fallbacks += 1;
              resolve();
            }, 10_000);
            const fire = (): void => {
              clearTimeout(fallback);
              void node.kill().then(resolve);
            };
            if (mode === 'after-ack') armed = fire;
            else if (mode === 'mid-refresh') armed = () => void sleep(Math.random() * 60).then(fire);
            else unsubscribe = subscribe(node.url, auth, 3, () => fire());
          });
          armed = undefined;
          await node.kill();
        }
      }
      unsubscribe?.();
      kills += 1;
      killsByMode[mode] += 1;
      const restarting = performance.now();
      await node.start();
      restartMs += performance.now() - restarting;
      if ((round + 1) % 5 === 0 || round + 1 === options.rounds)
        options.log(
          `chaos: ${round + 1}/${options.rounds} rounds, ${producers.acknowledged.size} events acknowledged, ` +
            `mean restart ${(restartMs / (round + 1) / 1000).toFixed(1)} s, ${fallbacks} kills on the 10 s fallback`,
        );
    }
    // Let every batch in flight be acknowledged by the last process, then let its models catch up.
    await producers.drain();
    await waitForRefresh(node.url);
    const window = { from: new Date(from.getTime() - 3_600_000), to };
    const served = await kpiAnswers(node.url, auth, window);
    const ending = await node.stop();
    if (ending !== 'exit 0') throw new Error(`Pulse did not stop cleanly (${ending}): ${node.tail}`);
    const stored = await checkStored(dbPath, producers.acknowledged);
    // The reference: a copy of the same file, every model rebuilt from bronze, served by a fresh Pulse.
    const copyPath = join(dir, 'recompute.duckdb');
    fullRecomputeCopy(dir, dbPath, copyPath);
    const reference = await PulseNode.create(dir, copyPath);
    let expected: Map<string, string>;
    try {
      await reference.start();
      await waitForRefresh(reference.url);
      expected = await kpiAnswers(reference.url, auth, window);
    } finally {
      await reference.stop();
    }
    const different = mismatches(served, expected);
    return {
      rounds: options.rounds,
      kills,
      killsByMode,
      eventsAcknowledged: producers.acknowledged.size,
      eventsFound: producers.acknowledged.size - stored.missing.length,
      lost: stored.missing.length,
      lostSample: stored.missing.slice(0, 10),
      duplicates: stored.duplicates,
      bronzeRows: stored.rows,
      kpiAnswersCompared: expected.size,
      kpiAnswersWithData: answersWithData(expected),
      answerSample: [...expected.values(), ...served.values()]
        .slice(0, 1)
        .concat([...served.values()].slice(0, 1))
        .map((text) => text.slice(0, 600)),
      kpiMismatches: different.length,
      mismatchSample: different
        .slice(0, 5)
        .map((key) => `${key}: served ${served.get(key)} / recomputed ${expected.get(key)}`),
      fallbacks,
      meanRestartSeconds: restartMs / options.rounds / 1000,
      requests: producers.stats.requests,
      networkErrors: producers.stats.networkErrors,
      refused: producers.stats.refused,
      oddAnswers: producers.oddAnswers,
      seconds: (performance.now() - started) / 1000,
      dir,
    };
  } finally {
    armed = undefined;
    await node.kill();
    if (options.keep !== true) rmSync(dir, { recursive: true, force: true });
  }
}

/** The summary table printed by `npm run chaos`. */
export function renderReport(report: ChaosReport): string {
  const rows: [string, string][] = [
    ['rounds', String(report.rounds)],
    [
      'kills (SIGKILL)',
      `${report.kills} (${Object.entries(report.killsByMode)
        .map(([m, n]) => `${m} ${n}`)
        .join(', ')})`,
    ],
    ['events acknowledged', String(report.eventsAcknowledged)],
    ['events found', String(report.eventsFound)],
    ['events lost', String(report.lost)],
    ['duplicates', String(report.duplicates)],
    ['bronze rows', String(report.bronzeRows)],
    ['KPI answers compared (with data)', `${report.kpiAnswersCompared} (${report.kpiAnswersWithData})`],
    ['KPI mismatches', String(report.kpiMismatches)],
    ['requests (network errors)', `${report.requests} (${report.networkErrors})`],
    ['refused answers', JSON.stringify(report.refused)],
    ['kills on the 10 s fallback', String(report.fallbacks)],
    ['mean restart to ready (s)', report.meanRestartSeconds.toFixed(1)],
    ['seconds', report.seconds.toFixed(0)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return ['| measure | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v} |`)].join(
    '\n',
  );
}
