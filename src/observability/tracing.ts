import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { HealthCheckResult } from './health.js';

/** How a span is placed: its parent (a span context or an extracted trace context), and spans it follows from. */
export interface SpanPlacement {
  readonly parent?: SpanContext | Context | undefined;
  readonly links?: readonly SpanContext[];
  readonly attributes?: Attributes;
  readonly startTime?: Date;
}

/**
 * Pulse's spans, ingest → commit → refresh → publish. Off (no endpoint), every call returns the same
 * non-recording span: no allocation, no clock read, nothing exported.
 */
export interface Telemetry {
  readonly enabled: boolean;
  /** The trace context of an incoming request (`traceparent`, `tracestate`), or the root context. */
  extract(headers: Readonly<Record<string, string | string[] | undefined>>): Context;
  startSpan(name: string, placement?: SpanPlacement): Span;
  /** Marks the span failed with the error, then ends it. */
  fail(span: Span, error: unknown): void;
  /** The exporter's last outcome, for /readyz. */
  health(): HealthCheckResult;
  /** Exports every ended span now (an export failure shows in `health()`, not here). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The span of untraced work: every call on it does nothing. */
export const NOOP_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: Readonly<Record<string, string | string[] | undefined>>) => Object.keys(carrier),
  get: (carrier: Readonly<Record<string, string | string[] | undefined>>, key: string) => carrier[key],
};

const disabled: Telemetry = {
  enabled: false,
  extract: () => ROOT_CONTEXT,
  startSpan: () => NOOP_SPAN,
  fail: () => undefined,
  health: () => ({ status: 'ok', exporter: 'none' }),
  flush: async () => undefined,
  shutdown: async () => undefined,
};

/** Tracing exported by OTLP/HTTP (JSON) to `endpoint` (the full URL, e.g. http://collector:4318/v1/traces). */
export function createTelemetry(options: { otlpEndpoint?: string | undefined; version: string }): Telemetry {
  if (!options.otlpEndpoint) return disabled;
  const exporter = new ObservedExporter(
    new OTLPTraceExporter({ url: options.otlpEndpoint, timeoutMillis: 5_000 }),
    options.otlpEndpoint,
  );
  // The provider is Pulse's own, not registered globally: two Pulses in one process (tests) stay apart.
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'pulse', 'service.version': options.version }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: 4_096 })],
  });
  const tracer: Tracer = provider.getTracer('pulse', options.version);
  return {
    enabled: true,
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, headerGetter),
    startSpan(name, placement = {}) {
      const parent = placement.parent;
      const context =
        parent === undefined
          ? ROOT_CONTEXT
          : 'traceId' in parent
            ? trace.setSpanContext(ROOT_CONTEXT, parent)
            : parent;
      return tracer.startSpan(
        name,
        {
          attributes: placement.attributes,
          links: placement.links
            ?.filter((link) => trace.isSpanContextValid(link))
            .map((link) => ({ context: link })),
          startTime: placement.startTime,
        },
        context,
      );
    },
    fail(span, error) {
      if (error instanceof Error) span.recordException(error);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      span.end();
    },
    health: () => exporter.health(),
    // A failed export is recorded for /readyz; flushing itself never throws.
    flush: () => provider.forceFlush().catch(() => undefined),
    shutdown: () => provider.shutdown(),
  };
}

/** Passes spans on to the real exporter and remembers how the last export went. */
class ObservedExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #endpoint: string;
  #last: { at: Date; ok: boolean; error?: string } | undefined;
  #exported = 0;

  constructor(inner: SpanExporter, endpoint: string) {
    this.#inner = inner;
    this.#endpoint = endpoint;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      const ok = result.code === ExportResultCode.SUCCESS;
      if (ok) this.#exported += spans.length;
      this.#last = {
        at: new Date(),
        ok,
        ...(ok ? {} : { error: result.error?.message ?? 'export failed' }),
      };
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }

  health(): HealthCheckResult {
    const last = this.#last;
    return {
      status: last === undefined ? 'unknown' : last.ok ? 'ok' : 'failing',
      exporter: 'otlp-http',
      endpoint: this.#endpoint,
      last_export_at: last?.at.toISOString() ?? null,
      spans_exported: this.#exported,
      ...(last?.error !== undefined ? { error: last.error } : {}),
    };
  }
}
