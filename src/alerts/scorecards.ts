import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Catalogue, KpiEngine } from '../kpis/index.js';
import { offsetMs, startOfBusinessDay } from '../kpis/index.js';
import { PulseError } from '../errors.js';
import type { ScorecardsConfig } from './config.js';
import type { Dispatcher } from './dispatcher.js';
import { putObject } from './object-store.js';
import { scorecardData, businessDay } from './scorecard-data.js';
import { renderScorecardPdf } from './scorecard-pdf.js';
import { statusLine, type StatusSummary } from './status.js';

export interface RenderedScorecard {
  readonly region: string;
  readonly date: string;
  readonly path: string;
  /** Where the PDF was copied in the bucket, when one is configured. */
  readonly object: string | null;
  readonly bytes: number;
  readonly renderMs: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const REGION = /^[A-Z]{2}$/;

/**
 * Renders, stores and distributes the regional PDF scorecards and the morning status: daily at the
 * configured local time, and on demand (`pulse scorecard`, POST /v1/scorecards).
 */
export class Scorecards {
  readonly #config: ScorecardsConfig;
  readonly #engine: KpiEngine;
  readonly #catalogue: Catalogue;
  readonly #timeZone: string;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: {
    config: ScorecardsConfig;
    engine: KpiEngine;
    catalogue: Catalogue;
    timeZone: string;
    dispatcher?: Dispatcher;
    onError: (error: unknown) => void;
  }) {
    this.#config = options.config;
    this.#engine = options.engine;
    this.#catalogue = options.catalogue;
    this.#timeZone = options.timeZone;
    this.#dispatcher = options.dispatcher;
    this.#onError = options.onError;
  }

  /** Renders one region's scorecard for a business day and writes it under the scorecards folder. */
  async render(region: string, date: string, generatedAt = new Date()): Promise<RenderedScorecard> {
    if (!REGION.test(region))
      throw new PulseError(
        'PULSE_ERR_INVALID_PARAMETER',
        `region must be an ISO 3166-1 alpha-2 code, got "${region}"`,
        {
          field: 'region',
        },
      );
    if (!isCalendarDate(date))
      throw new PulseError(
        'PULSE_ERR_INVALID_PARAMETER',
        `date must be a calendar date YYYY-MM-DD, got "${date}"`,
        {
          field: 'date',
        },
      );
    const started = performance.now();
    const data = await scorecardData(this.#engine, this.#catalogue, region, date, this.#timeZone);
    const pdf = await renderScorecardPdf(data, generatedAt);
    const folder = resolve(this.#config.dir, date);
    await mkdir(folder, { recursive: true });
    const path = join(folder, `scorecard-${region}-${date}.pdf`);
    // Written aside then renamed: a reader (or a sync to a bucket) never sees half a PDF.
    const partial = `${path}.${process.pid}.partial`;
    await writeFile(partial, pdf);
    await rename(partial, path);
    let object: string | null = null;
    if (this.#config.s3) {
      // The PDF is on disk already: a bucket that is down is reported, and the next run copies again.
      try {
        object = await putObject(
          this.#config.s3,
          `${date}/scorecard-${region}-${date}.pdf`,
          pdf,
          'application/pdf',
        );
      } catch (error) {
        this.#onError(error);
      }
    }
    return { region, date, path, object, bytes: pdf.length, renderMs: performance.now() - started };
  }

  /** Every configured region for `date`, e-mailed when an e-mail channel is configured. */
  async distribute(date: string): Promise<RenderedScorecard[]> {
    const rendered: RenderedScorecard[] = [];
    for (const region of this.#config.regions) rendered.push(await this.render(region, date));
    const email = this.#config.email;
    if (email && this.#dispatcher && rendered.length > 0) {
      this.#dispatcher.send([email.channel], {
        kind: 'scorecard',
        id: randomUUID(),
        subject: `[Pulse] Scorecards for ${date}: ${rendered.map((r) => r.region).join(', ')}`,
        text: `The KPI scorecards for ${date} are attached, one PDF per region.`,
        to: email.to,
        attachments: rendered.map((r) => ({ filename: `scorecard-${r.region}-${r.date}.pdf`, path: r.path })),
      });
    }
    return rendered;
  }

  /** Yesterday's six KPIs against their bands, company-wide. */
  async status(date: string): Promise<StatusSummary> {
    const day = businessDay(date, this.#timeZone);
    const week = 7 * 24 * 3_600_000;
    const lines = [];
    for (const kpi of this.#catalogue.kpis) {
      const answer = await this.#engine.compute(kpi.id, {
        from: day.from.toISOString(),
        to: day.to.toISOString(),
      });
      const lastWeek = await this.#engine.compute(kpi.id, {
        from: new Date(day.from.getTime() - week).toISOString(),
        to: new Date(day.to.getTime() - week).toISOString(),
      });
      lines.push(statusLine(kpi, answer, lastWeek));
    }
    return { title: `Pulse morning status: ${date}`, date, lines };
  }

  async sendStatus(date: string): Promise<StatusSummary> {
    const summary = await this.status(date);
    if (this.#dispatcher && this.#config.statusChannels.length > 0)
      this.#dispatcher.send(this.#config.statusChannels, { kind: 'status', id: randomUUID(), summary });
    return summary;
  }

  /** Schedules the daily run (yesterday's scorecards and status) at `daily_at`, local business time. */
  start(now: () => Date = () => new Date()): void {
    if (this.#config.dailyAt === null) return;
    const schedule = (): void => {
      const at = nextRun(now(), this.#config.dailyAt as string, this.#timeZone);
      this.#timer = setTimeout(
        () => {
          const yesterday = localDate(new Date(at.getTime() - 12 * 3_600_000), this.#timeZone);
          void Promise.all([this.distribute(yesterday), this.sendStatus(yesterday)])
            .catch(this.#onError)
            .finally(schedule);
        },
        Math.max(0, at.getTime() - now().getTime()),
      );
      this.#timer.unref();
    };
    schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

/** The next instant after `now` at which the business clock reads `hhmm`. */
export function nextRun(now: Date, hhmm: string, timeZone: string): Date {
  const [hours, minutes] = hhmm.split(':').map(Number) as [number, number];
  for (let day = 0; day <= 2; day++) {
    const start = startOfBusinessDay(new Date(now.getTime() + day * 24 * 3_600_000), timeZone);
    // Offsets can change during the day (DST): correct with the offset at the candidate.
    const naive = start.getTime() + (hours * 60 + minutes) * 60_000;
    const candidate = new Date(naive - (offsetMs(new Date(naive), timeZone) - offsetMs(start, timeZone)));
    if (candidate.getTime() > now.getTime()) return candidate;
  }
  throw new Error(`no next run for ${hhmm} in ${timeZone}`);
}

/** The calendar date (YYYY-MM-DD) of `instant` in `timeZone`. */
export function localDate(instant: Date, timeZone: string): string {
  return new Date(instant.getTime() + offsetMs(instant, timeZone)).toISOString().slice(0, 10);
}

export function isCalendarDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const parsed = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === text;
}
