import type { Span } from '@opentelemetry/api';
import type { QualityStage } from './app.js';
import type { KpiSnapshot, LiveKpis } from './kpis/index.js';
import type { RunResult } from './models/index.js';
import { NOOP_SPAN, type PulseMetrics, type Telemetry } from './observability/index.js';
import type { FreshnessTracker, RunCauses } from './orchestrator/index.js';
import type { MartsPublisher } from './publish/index.js';

/** What the pipeline logs outside a request (model runs). */
export interface PipelineLog {
  info(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

/** Correlation ids a run's log line lists in full; past this, the first ones and the count. */
const LOGGED_CORRELATION_IDS = 20;

export interface PublicationParts {
  readonly quality: QualityStage;
  readonly live: LiveKpis;
  readonly snapshot: KpiSnapshot;
  readonly metrics: PulseMetrics;
  readonly telemetry: Telemetry;
  readonly freshness: FreshnessTracker;
  readonly publisher: MartsPublisher | undefined;
  readonly log: PipelineLog | undefined;
  /** A rule pass failed: the KPIs go on, the error is reported. */
  readonly onError: ((error: unknown) => void) | undefined;
  /** Past this age every live value is recomputed, whatever the run wrote. */
  readonly liveMaxAgeMs: number;
}

/**
 * Makes a committed model run visible: the error rules decide the holds while the live values
 * are computed, the values are swapped in once the gate has decided, then freshness, the marts and
 * the run's trace and log line follow. The refresh loop calls it beside the next model run.
 */
export class RunPublication {
  readonly #parts: PublicationParts;
  /** A run's span stays open until its publication: what a trace shows is commit to visible. */
  readonly #open = new Map<string, { span: Span; causes: RunCauses; started: number }>();

  constructor(parts: PublicationParts) {
    this.#parts = parts;
  }

  /** A run committed: its span and causes wait for its publication. */
  opened(result: RunResult, span: Span, causes: RunCauses, started: number): void {
    this.#open.set(result.runId, { span, causes, started });
  }

  async publish(result: RunResult): Promise<void> {
    const { quality, live, snapshot, metrics, telemetry, freshness, publisher, liveMaxAgeMs } = this.#parts;
    const gate = quality.gate;
    const opened = this.#open.get(result.runId);
    this.#open.delete(result.runId);
    const span = opened?.span ?? NOOP_SPAN;
    try {
      const heldBefore = [...gate.holds.keys()].join();
      let gateDecided = (): void => undefined;
      const decided = new Promise<void>((resolve) => (gateDecided = resolve));
      const qualityPass = quality.runner
        ? quality.runner.afterRun(result, gateDecided).then(
            (pass) => {
              quality.lastPass = pass;
              quality.lastError = undefined;
              metrics.qualityPassSeconds.observe({ mode: pass.mode }, pass.durationMs / 1000);
            },
            (error: unknown) => {
              // A broken rule must not stop the KPIs: the gate keeps its last state, the error is reported.
              quality.lastError = error;
              this.#parts.onError?.(error);
            },
          )
        : undefined;
      const stale = !live.computedAt || Date.now() - live.computedAt.getTime() >= liveMaxAgeMs;
      // The live values are computed while the rules run, and swapped in once the gate has decided.
      const publishLive = async (gateSettled?: Promise<unknown>): Promise<void> => {
        const publish = telemetry.startSpan('pulse.publish', { parent: span.spanContext() });
        snapshot.invalidate();
        const liveStarted = performance.now();
        const written = new Set(
          result.models.filter((m) => m.rows > 0 || m.mode === 'full').map((m) => m.model),
        );
        await live.recompute(stale ? undefined : written, liveMaxAgeMs, gateSettled);
        metrics.liveRecomputeSeconds.observe((performance.now() - liveStarted) / 1000);
        publish.setAttribute('pulse.live.models_written', written.size).end();
      };
      const published = result.status === 'success' || stale;
      // The swap waits for the error rules only (or for a pass that failed before they were judged).
      const gateSettled = qualityPass && Promise.race([decided, qualityPass]);
      await Promise.all([qualityPass, published ? publishLive(gateSettled) : undefined]);
      // A hold taken or released on a refresh that wrote nothing still changes what is served.
      if (!published && heldBefore !== [...gate.holds.keys()].join()) {
        snapshot.invalidate();
        await live.recompute(new Set(), liveMaxAgeMs);
      }
      freshness.visible(result.watermarkTo);
      publisher?.request();
      if (opened) {
        const { causes, started } = opened;
        span
          .setAttributes({
            'pulse.run.id': result.runId,
            'pulse.run.status': result.status,
            'pulse.run.rows': result.models.reduce((n, m) => n + m.rows, 0),
            'pulse.run.commits': causes.causes.length,
            'pulse.run.correlation_ids': causes.correlationIdCount,
          })
          .end();
        logRun(this.#parts.log, result, causes, performance.now() - started);
      }
    } catch (error) {
      telemetry.fail(span, error);
      throw error;
    }
  }
}

/** One line per run a commit triggered, naming the requests behind it (the first few, and the count). */
function logRun(
  log: PipelineLog | undefined,
  result: RunResult,
  causes: RunCauses,
  durationMs: number,
): void {
  if (!log) return;
  const ids = causes.causes.flatMap((cause) => cause.correlationIds);
  const fields = {
    run_id: result.runId,
    status: result.status,
    rows: result.models.reduce((n, m) => n + m.rows, 0),
    duration_ms: Math.round(durationMs),
    correlation_ids: ids.slice(0, LOGGED_CORRELATION_IDS),
    correlation_id_count: causes.correlationIdCount,
  };
  if (causes.correlationIdCount > 0) log.info(fields, 'model run');
  else log.debug(fields, 'model run');
}
