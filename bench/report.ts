/**
 * The shape every benchmark returns, and how it is rendered: a markdown table (stdout and the
 * generated section of BENCHMARKS.md) and the machine description.
 */
import { version as duckdbVersion } from '@duckdb/node-api';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, type as osType, release } from 'node:os';
import type { ServerStats } from './pulse-process.js';
import { BUSY_PERCENT } from './repeat.js';
import { formatNumber, formatRatio, formatSummary, summarise } from './stats.js';

/** One measured figure: a value per run, optionally a baseline measured in the same runs. */
export interface Figure {
  readonly label: string;
  readonly values: readonly number[];
  readonly format: (value: number) => string;
  readonly baseline?: {
    readonly label: string;
    readonly values: readonly number[];
    readonly format: (value: number) => string;
  };
  /** A target, judged on the median of the values (or of the ratios figure ÷ baseline). */
  readonly goal?: Goal;
}

export interface Goal {
  /** "≤ 200 ms", "≥ 50×". */
  readonly label: string;
  readonly met: (median: number) => boolean;
  readonly on?: 'value' | 'ratio';
}

export interface BenchmarkResult {
  readonly name: string;
  readonly title: string;
  /** What it measures and against what, one or two sentences. */
  readonly method: string;
  readonly figures: readonly Figure[];
  /** Anything a reader must know: non-2xx answers, errors, server warnings, exhausted pools. */
  readonly notes: readonly string[];
  /** Per-run raw results, for the JSON file. */
  readonly runs: readonly unknown[];
  /** Runs thrown away because other processes used the cores (raw, for the JSON file). */
  readonly discarded: readonly unknown[];
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly os: string;
  readonly node: string;
  readonly duckdb: string;
}

export const BEGIN = '<!-- bench:begin -->';
export const END = '<!-- bench:end -->';

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown CPU',
    cores: list.length,
    memoryBytes: totalmem(),
    os: `${osType()} ${release()}`,
    node: process.version,
    duckdb: duckdbVersion(),
  };
}

export function machineLine(m: Machine): string {
  const gib = (m.memoryBytes / 1024 ** 3).toFixed(1);
  return `${m.cores} × ${m.cpu}, ${gib} GiB RAM, ${m.os}, Node ${m.node}, DuckDB ${m.duckdb}`;
}

/** Notes on what the servers logged at warn level or above, and on how they stopped. */
export function serverNotes(servers: readonly ServerStats[]): string[] {
  const lines = servers.flatMap((s) => s.logLines);
  const abnormal = servers.map((s) => s.ending).filter((e) => !/^stopped on SIGTERM .*\(exit 0\)$/.test(e));
  return [
    lines.length === 0
      ? 'Server stderr lines (logs at warn level or above, anything unexpected): none.'
      : `Server stderr lines (logs at warn level or above, anything unexpected): ${lines.length}; first: \`${lines[0]?.slice(0, 300)}\``,
    abnormal.length === 0
      ? `Every server stopped cleanly on SIGTERM (exit 0).`
      : `Servers that did not stop cleanly: ${abnormal.join('; ')}.`,
  ];
}

export interface CpuUse {
  readonly server: number;
  readonly bench: number;
  readonly others: number;
}

/** "120/8/1 %": server, bench process and other processes, % of one core. */
export function cpuText(cpu: CpuUse): string {
  return `${[cpu.server, cpu.bench, cpu.others].map((v) => formatNumber(v)).join('/')} %`;
}

/** Warnings when other processes used the cores during the measurements. */
export function busyNotes(kept: readonly CpuUse[], discarded: readonly CpuUse[]): string[] {
  const notes: string[] = [];
  if (discarded.length > 0) {
    const worst = Math.max(...discarded.map((c) => c.others));
    notes.push(
      `${discarded.length} run(s) discarded and done again: other processes used more than ${BUSY_PERCENT} % ` +
        `of a core during them (up to ${formatNumber(worst)} %).`,
    );
  }
  const busy = kept.filter((c) => c.others > BUSY_PERCENT);
  notes.push(
    busy.length === 0
      ? `Other processes used at most ${BUSY_PERCENT} % of a core in every run kept.`
      : `**Disturbed:** other processes used more than ${BUSY_PERCENT} % of a core in ${busy.length} of the ` +
          `${kept.length} runs kept (up to ${formatNumber(Math.max(...busy.map((c) => c.others)))} %): those figures are pessimistic (slower than on a quiet machine).`,
  );
  return notes;
}

/** Per-run ratios value ÷ baseline, run by run (both were measured in the same run). */
function ratios(figure: Figure): number[] {
  const base = figure.baseline?.values ?? [];
  return figure.values.map((v, i) => v / (base[i] ?? Number.NaN)).filter((r) => Number.isFinite(r));
}

/** "≤ 200 ms: **met**" / "≤ 200 ms: **missed**", judged on the median; "—" without a goal. */
function goalText(figure: Figure): string {
  const goal = figure.goal;
  if (!goal) return '—';
  const median = summarise(goal.on === 'ratio' ? ratios(figure) : figure.values).median;
  if (!Number.isFinite(median)) return `${goal.label}: not measured`;
  return `${goal.label}: ${goal.met(median) ? '**met**' : '**missed**'}`;
}

export function renderTable(results: readonly BenchmarkResult[]): string {
  const rows = [
    '| Benchmark | Figure | Median (min–max, n runs) | Baseline, same runs | Ratio figure ÷ baseline | Goal (on the median) |',
    '|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    for (const figure of result.figures) {
      const base = figure.baseline;
      rows.push(
        `| ${result.title} | ${figure.label} | ${formatSummary(summarise(figure.values), figure.format)} | ${
          base ? `${base.label}: ${formatSummary(summarise(base.values), base.format)}` : '—'
        } | ${base ? formatSummary(summarise(ratios(figure)), formatRatio) : '—'} | ${goalText(figure)} |`,
      );
    }
  }
  return rows.join('\n');
}

/** One line per goal, for the log: "freshness-sse p50: ≤ 200 ms: **met** (180 ms)". */
export function goalLines(results: readonly BenchmarkResult[]): string[] {
  return results.flatMap((result) =>
    result.figures
      .filter((figure) => figure.goal !== undefined)
      .map((figure) => `${result.name} ${figure.label}: ${goalText(figure).replaceAll('**', '')}`),
  );
}

export function renderSection(
  results: readonly BenchmarkResult[],
  context: { machine: Machine; date: Date; revision: string; command: string; caveats: string },
): string {
  const parts = [
    `Measured ${context.date.toISOString().replace(/\.\d+Z$/, 'Z')} on ${context.revision}, with \`${context.command}\`.`,
    '',
    `Machine: ${machineLine(context.machine)}.`,
    '',
    renderTable(results),
    '',
  ];
  for (const result of results) {
    parts.push(`**${result.title}.** ${result.method}`, '');
    for (const note of result.notes) parts.push(`- ${note}`);
    if (result.notes.length > 0) parts.push('');
  }
  parts.push(`**How to read / caveats.** ${context.caveats}`);
  return parts.join('\n');
}

const INTRO = (machine: Machine): string => `# Benchmarks

Pulse's measured performance, written by \`npm run bench\` (see \`bench/\`). Every figure is the median
of several runs with its min–max; speed figures are compared with a baseline measured in the same run,
as a ratio, because this machine is noisy. Raw results of each run are kept in \`bench/results/\`
(not committed).

The reference machine: ${machineLine(machine)}.
`;

/** Rewrites the generated section of BENCHMARKS.md, creating the file if it is missing. */
export function writeBenchmarksFile(path: string, section: string, machine: Machine): void {
  let text = existsSync(path) ? readFileSync(path, 'utf8') : `${INTRO(machine)}\n${BEGIN}\n${END}\n`;
  let begin = text.indexOf(BEGIN);
  let end = text.indexOf(END);
  if (begin === -1 || end === -1 || end < begin) {
    text = `${text.trimEnd()}\n\n${BEGIN}\n${END}\n`;
    begin = text.indexOf(BEGIN);
    end = text.indexOf(END);
  }
  const updated = `${text.slice(0, begin + BEGIN.length)}\n${section}\n${text.slice(end)}`;
  writeFileSync(path, updated);
}
