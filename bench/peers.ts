/**
 * Peers: what it costs to keep one KPI fresh — net revenue and orders (count distinct order_id) by
 * channel × minute over all history, PERFORMANCE-NOTES row 5a — over the same ~10 M order lines:
 *  (a) incremental: after a realistic batch (14 lines: one second at the thesis load; and 1,000
 *      lines), recompute only the minute buckets the batch touched, in one DuckDB transaction;
 *  (a-live) what Pulse does today after such a batch: its live recompute of net_revenue
 *      (`LiveKpis`, the queries of `compileLiveMeasure`: windows today/1h/24h, total and breakdowns);
 *  (b) a full recompute in DuckDB (`CREATE OR REPLACE TABLE … AS`);
 *  (c) PostgreSQL's `REFRESH MATERIALIZED VIEW` of the same SQL over the same rows.
 * The ratios b ÷ a and c ÷ a are taken run by run. Also `pulse backfill` over a ~2 M-event bronze
 * (wall time, peak RSS) and the size of the 10 M-line DuckDB file. Fixtures: peers-setup.ts.
 */
import { statSync } from 'node:fs';
import { appendBatch, bucketMismatches, kpiSql, ORDERS, refreshBuckets, TOTALS_SQL } from './peers-data.js';
import { peersCpuMeter } from './peers-pg.js';
import { setUpPeers, type PeersFixture } from './peers-setup.js';
import { runPulseCli } from './pulse-cli.js';
import { repeatRuns } from './repeat.js';
import { busyNotes, cpuText, type BenchmarkResult, type Figure } from './report.js';
import { formatMiB, formatMs, formatNumber, formatPercent, median } from './stats.js';

export interface PeersOptions {
  readonly runs: number;
  readonly log: (line: string) => void;
}

/** Batches per run (the run's figure is their median), and their sizes: lines, and the time they span. */
const BATCHES = 5;
const SMALL = { lines: 14, spanMs: 1_000 };
const LARGE = { lines: 1_000, spanMs: 71_000 };
const GIB = 2 ** 30;

export interface PeersRun {
  bucketsSmallMs: number;
  bucketsLargeMs: number;
  touchedSmall: number;
  touchedLarge: number;
  liveMs: number;
  fullMs: number;
  pgMs: number;
  backfillMs: number;
  backfillPeakRssBytes: number;
  fileBytes: number;
  mismatches: number;
  pgTotals: string;
  /** net_revenue today / 1h / 24h as the live recompute left it (shows the windows held data). */
  liveValues: string;
  /** CPU while the run ran, % of one core: PostgreSQL, the bench process with its children, others. */
  cpuPercent: { server: number; bench: number; others: number };
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const result = await work();
  return [performance.now() - started, result];
}

async function peersOnce(f: PeersFixture, run: number): Promise<PeersRun> {
  const cpu = peersCpuMeter();
  const backfill = await runPulseCli(['backfill', '--db', f.bronzeDb], f.dir);
  const c = f.connection;
  // New orders get numbers past the history and past earlier runs' batches.
  let order = ORDERS + run * 1_000_000;
  const small: number[] = [];
  const large: number[] = [];
  const live: number[] = [];
  let touchedSmall = 0;
  let touchedLarge = 0;
  for (let i = 0; i < BATCHES; i++) {
    const batch = await appendBatch(c, order, SMALL.lines, SMALL.spanMs);
    order = batch.nextOrder;
    const [ms, touched] = await timed(() => refreshBuckets(c, batch.sinceSeq));
    small.push(ms);
    touchedSmall = Math.max(touchedSmall, touched);
    live.push((await timed(() => f.live.recompute()))[0]);
  }
  for (let i = 0; i < BATCHES; i++) {
    const batch = await appendBatch(c, order, LARGE.lines, LARGE.spanMs);
    order = batch.nextOrder;
    const [ms, touched] = await timed(() => refreshBuckets(c, batch.sinceSeq));
    large.push(ms);
    touchedLarge = Math.max(touchedLarge, touched);
  }
  const [fullMs] = await timed(() => c.run(`CREATE OR REPLACE TABLE kpi_full AS ${kpiSql()}`));
  const mismatches = await bucketMismatches(c);
  const pgMs = await f.pg.timed(`REFRESH MATERIALIZED VIEW ${f.schema}.kpi_minute`);
  const pgTotals = await f.pg.query(TOTALS_SQL(`${f.schema}.kpi_minute`));
  await c.run('CHECKPOINT');
  const size = (path: string): number => {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  };
  return {
    bucketsSmallMs: median(small),
    bucketsLargeMs: median(large),
    touchedSmall,
    touchedLarge,
    liveMs: median(live),
    fullMs,
    pgMs,
    backfillMs: backfill.wallMs,
    backfillPeakRssBytes: backfill.peakRssBytes,
    fileBytes: size(f.dbPath) + size(`${f.dbPath}.wal`),
    mismatches,
    pgTotals,
    liveValues: (['today', '1h', '24h'] as const)
      .map((w) => `${w} ${String(f.live.get('net_revenue', w)?.value ?? 'none')}`)
      .join(', '),
    cpuPercent: cpu(),
  };
}

function figures(runs: readonly PeersRun[]): Figure[] {
  const pick = (p: (r: PeersRun) => number): number[] => runs.map(p);
  const fast = { label: '≥ 50× (ratio)', met: (m: number) => m >= 50, on: 'ratio' as const };
  const a = { label: '(a) 14-line batch', values: pick((r) => r.bucketsSmallMs), format: formatMs };
  const aLarge = { label: '(a) 1,000-line batch', values: pick((r) => r.bucketsLargeMs), format: formatMs };
  const aLive = { label: '(a-live) Pulse today', values: pick((r) => r.liveMs), format: formatMs };
  const full = pick((r) => r.fullMs);
  const pg = pick((r) => r.pgMs);
  return [
    { ...a, label: '(a) Bucket refresh after a 14-line batch (1 s at 50k ev/min)' },
    { ...aLarge, label: '(a) Bucket refresh after a 1,000-line batch' },
    { ...aLive, label: '(a-live) Pulse today: live recompute of net_revenue after a 14-line batch' },
    {
      label: '(b) DuckDB full recompute; ratio b ÷ a (14 lines)',
      values: full,
      format: formatMs,
      baseline: a,
      goal: fast,
    },
    {
      label: '(c) PostgreSQL REFRESH MATERIALIZED VIEW; ratio c ÷ a (14 lines)',
      values: pg,
      format: formatMs,
      baseline: a,
      goal: fast,
    },
    {
      label: '(b) ÷ (a) with the 1,000-line batch',
      values: full,
      format: formatMs,
      baseline: aLarge,
      goal: fast,
    },
    {
      label: '(c) ÷ (a) with the 1,000-line batch',
      values: pg,
      format: formatMs,
      baseline: aLarge,
      goal: fast,
    },
    {
      label: '(b) ÷ (a-live): Pulse today vs full recompute',
      values: full,
      format: formatMs,
      baseline: aLive,
      goal: fast,
    },
    {
      label: '(c) ÷ (a-live): Pulse today vs PostgreSQL',
      values: pg,
      format: formatMs,
      baseline: aLive,
      goal: fast,
    },
    { label: 'DuckDB file with the 10 M lines', values: pick((r) => r.fileBytes), format: formatMiB },
    {
      label: '`pulse backfill` peak RSS (~2 M events)',
      values: pick((r) => r.backfillPeakRssBytes),
      format: formatMiB,
      goal: { label: '≤ 1.5 GiB', met: (m) => m <= 1.5 * GIB },
    },
    { label: '`pulse backfill` duration (~2 M events)', values: pick((r) => r.backfillMs), format: formatMs },
    {
      label: 'PostgreSQL CPU in the run (100 % = 1 core)',
      values: pick((r) => r.cpuPercent.server),
      format: formatPercent,
    },
  ];
}

export async function runPeersBenchmark(options: PeersOptions): Promise<BenchmarkResult> {
  const started = performance.now();
  const fixture = await setUpPeers(options.log);
  try {
    const once = async (i: number): Promise<PeersRun> => {
      const r = await peersOnce(fixture, i);
      options.log(
        `peers run ${i}/${options.runs}: (a) ${formatMs(r.bucketsSmallMs)} / ${formatMs(r.bucketsLargeMs)}, ` +
          `(a-live) ${formatMs(r.liveMs)}, (b) ${formatMs(r.fullMs)}, (c) ${formatMs(r.pgMs)}, backfill ` +
          `${formatMs(r.backfillMs)} ${formatMiB(r.backfillPeakRssBytes)}, file ${formatMiB(r.fileBytes)}, ` +
          `mismatches ${r.mismatches}, PG totals ${r.pgTotals === fixture.data.totals ? 'equal' : 'DIFFER'}, ` +
          `CPU pg/bench/others ${cpuText(r.cpuPercent)}`,
      );
      return r;
    };
    const { runs, discarded } = await repeatRuns(options.runs, once, options.log);
    const d = fixture.data;
    const badTotals = runs.filter((r) => r.pgTotals !== d.totals);
    const mismatches = runs.reduce((s, r) => s + r.mismatches, 0);
    return {
      name: 'peers',
      title: 'Peers: one KPI over 10 M lines',
      method:
        `The KPI of PERFORMANCE-NOTES row 5a — \`${kpiSql().replace(/\s+/g, ' ')}\` — kept over the same ` +
        `${formatNumber(d.lines / 1e6, 1)} M order lines (4 M orders over 60 days ending now, stored in time order; ` +
        `the columns of Pulse's gold \`fact_order\`, generated by SQL; ${formatNumber(d.refunds)} refunds in ` +
        `\`fact_refund\`). (a): append a batch of ${SMALL.lines} lines placed in the last second (the thesis load) ` +
        `or ${formatNumber(LARGE.lines)} lines over the last ${LARGE.spanMs / 1000} s, then in one transaction find ` +
        `the minutes it touched (by _updated_seq), delete those buckets and recompute them from fact_order ` +
        `(${BATCHES} batches of each size per run, the run's figure is their median; the append is not timed). ` +
        `(a-live): what Pulse does after such a batch today, its live recompute of net_revenue (\`LiveKpis\` ` +
        `with the catalogue's net_revenue only: the \`compileLiveMeasure\` queries for today/1h/24h with the total ` +
        `and five breakdowns, on the same file), after each ${SMALL.lines}-line batch. (b): \`CREATE OR REPLACE ` +
        `TABLE kpi_full AS\` the KPI in DuckDB (2 threads, 2 GB). (c): \`REFRESH MATERIALIZED VIEW\` of the same ` +
        `SQL over the same rows in the local PostgreSQL (psql's \\timing). Memory: \`pulse backfill --db\` (every ` +
        `model rebuilt from bronze) over ~2 M generated events, wall time and peak RSS (getrusage of the process). ` +
        `Caveats: (a) and (a-live) do not include the model run that appends the batch to fact_order; (a) keeps a ` +
        `lines-only KPI (no refunds) while (a-live) computes net_revenue with refunds, 3 windows and breakdowns, so ` +
        `they are not the same work; PostgreSQL runs with its default settings (small work_mem: the COUNT DISTINCT ` +
        `sorts spill) and has the history only, not the batches; DuckDB runs inside the bench process.`,
      figures: figures(runs),
      notes: [
        ...fixture.setupNotes,
        `Checks: the maintained buckets equal a full recompute after every run (buckets differing: ${mismatches}); ` +
          `PostgreSQL's view totals (buckets | Σ orders | Σ net revenue) ${
            badTotals.length === 0
              ? `equal DuckDB's over the history in every run (${d.totals})`
              : `DIFFER from DuckDB's (${d.totals}) in ${badTotals.length} run(s): ${badTotals[0]?.pgTotals}`
          }. Live net_revenue after the last run's batches (EUR): ${runs.at(-1)?.liveValues ?? 'n/a'}. Buckets touched per batch: at most ${Math.max(...runs.map((r) => r.touchedSmall))} (14 lines), ` +
          `${Math.max(...runs.map((r) => r.touchedLarge))} (1,000 lines).`,
        ...busyNotes(
          runs.map((r) => r.cpuPercent),
          discarded.map((r) => r.cpuPercent),
        ).map((note) =>
          note.replace('other processes', 'processes other than the bench, its children and PostgreSQL'),
        ),
        `The whole benchmark (setup, ${runs.length + discarded.length} runs, clean-up) took ` +
          `${formatNumber((performance.now() - started) / 60_000, 1)} min.`,
      ],
      runs,
      discarded,
    };
  } finally {
    await fixture.close();
  }
}
