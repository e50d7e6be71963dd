import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Pulse's Prometheus metrics, all in one registry, named `pulse_*`. Labels stay low-cardinality
 * (source kind, outcome), never ids.
 */
export interface PulseMetrics {
  readonly registry: Registry;
  readonly eventsIngested: Counter<'source' | 'outcome'>;
  readonly commitSeconds: Histogram;
  readonly commitGroupEvents: Histogram;
  readonly dedupeKeyBytes: Gauge;
  readonly ingestToVisibleSeconds: Histogram;
  readonly modelRunSeconds: Histogram<'status'>;
  readonly qualityPassSeconds: Histogram<'mode'>;
  readonly liveRecomputeSeconds: Histogram;
  readonly liveLaneAnswers: Counter;
  readonly ingestQueueEvents: Gauge;
  readonly subscribers: Gauge<'transport'>;
  readonly overloadRejections: Counter;
  readonly alertTransitions: Counter<'transition'>;
  readonly alertDeliveries: Counter<'channel' | 'outcome'>;
  readonly slaBreaches: Counter<'job'>;
  readonly openLineageFailures: Counter<'transport'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): PulseMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'pulse_process_' });
    // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool flags them).
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      registry.removeSingleMetric(`pulse_process_${name}`);
    }
  }
  const latency = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10];
  return {
    registry,
    eventsIngested: new Counter({
      name: 'pulse_events_ingested_total',
      help: 'Events delivered by sources, by outcome (accepted, duplicate, quarantined)',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'pulse_commit_seconds',
      help: 'Duration of one bronze group commit',
      buckets: latency,
      registers: [registry],
    }),
    dedupeKeyBytes: new Gauge({
      name: 'pulse_dedupe_keys_bytes',
      help: 'Memory held by the keys of every stored event, which ingest deduplicates against (grows with bronze)',
      registers: [registry],
    }),
    commitGroupEvents: new Histogram({
      name: 'pulse_commit_group_events',
      help: 'Events per bronze group commit',
      buckets: [1, 10, 100, 1000, 5000, 10000, 50000],
      registers: [registry],
    }),
    ingestToVisibleSeconds: new Histogram({
      name: 'pulse_ingest_to_visible_seconds',
      help: 'From receiving a batch to the live KPIs including it',
      buckets: latency,
      registers: [registry],
    }),
    modelRunSeconds: new Histogram({
      name: 'pulse_model_run_seconds',
      help: 'Duration of one run of the SQL models',
      labelNames: ['status'],
      buckets: latency,
      registers: [registry],
    }),
    qualityPassSeconds: new Histogram({
      name: 'pulse_quality_pass_seconds',
      help: 'Duration of one pass of the quality rules (incremental after a refresh, or full)',
      labelNames: ['mode'],
      buckets: latency,
      registers: [registry],
    }),
    liveRecomputeSeconds: new Histogram({
      name: 'pulse_live_recompute_seconds',
      help: 'Duration of one recompute of every live KPI value',
      buckets: latency,
      registers: [registry],
    }),
    liveLaneAnswers: new Counter({
      name: 'pulse_live_lane_answers_total',
      help: 'KPI reads answered by the live read lane, before routing (the rest are counted by nothing here)',
      registers: [registry],
    }),
    ingestQueueEvents: new Gauge({
      name: 'pulse_ingest_queue_events',
      help: 'Events waiting for a bronze commit',
      registers: [registry],
    }),
    subscribers: new Gauge({
      name: 'pulse_stream_subscribers',
      help: 'Open live feeds',
      labelNames: ['transport'],
      registers: [registry],
    }),
    overloadRejections: new Counter({
      name: 'pulse_ingest_overload_rejections_total',
      help: 'Ingest requests refused with 503 because the commit queue was full',
      registers: [registry],
    }),
    alertTransitions: new Counter({
      name: 'pulse_alert_transitions_total',
      help: 'Alert state changes (pending, firing, escalated, resolved, suppressed, cancelled)',
      labelNames: ['transition'],
      registers: [registry],
    }),
    alertDeliveries: new Counter({
      name: 'pulse_alert_deliveries_total',
      help: 'Attempts to deliver an alert, status or scorecard to a channel, by outcome',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
    }),
    slaBreaches: new Counter({
      name: 'pulse_sla_breaches_total',
      help: 'Refresh runs and jobs that finished later than their SLA, by job',
      labelNames: ['job'],
      registers: [registry],
    }),
    openLineageFailures: new Counter({
      name: 'pulse_openlineage_failures_total',
      help: 'OpenLineage events not delivered after their retries, by transport (file, http)',
      labelNames: ['transport'],
      registers: [registry],
    }),
  };
}
