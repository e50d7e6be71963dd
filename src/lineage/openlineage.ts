import { createHash } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type {
  ModelDefinition,
  ModelRunResult,
  RunIdentity,
  RunObserver,
  RunResult,
} from '../models/index.js';
import type { LineageGraph } from './graph.js';

export interface OpenLineageOptions {
  /** NDJSON file the events are appended to. */
  readonly file?: string | undefined;
  /** An OpenLineage HTTP endpoint (Marquez: http://host:5000/api/v1/lineage), POSTed each event. */
  readonly url?: string | undefined;
  /** The job namespace (default `pulse`). */
  readonly namespace?: string | undefined;
  /** Waits between POST attempts, in ms (default 250, 1000, 4000). */
  readonly retryBackoffMs?: readonly number[] | undefined;
}

export interface EmitterContext {
  /** The warehouse file: datasets are named in its namespace. */
  readonly warehousePath: string;
  readonly graph: LineageGraph;
  readonly producer: string;
  readonly log: (message: string, error?: unknown) => void;
  /** Counts an event that could not be delivered after its retries (or was dropped). */
  readonly failed?: (transport: 'file' | 'http') => void;
}

export type RunEvent = Record<string, unknown> & { eventType: string };

const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
const FACETS = {
  parent: 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet',
  errorMessage:
    'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  sql: 'https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet',
  jobType: 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
  schema: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
  columnLineage:
    'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet',
  outputStatistics:
    'https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet',
} as const;
const MAX_QUEUED = 10_000;

/**
 * Emits an OpenLineage START event as each model starts and, once the run's transaction ends,
 * COMPLETE (committed) or FAIL (rolled back) for each. Each model run is its own OpenLineage run,
 * child of the Pulse run (the parent facet); its id is derived from both, so START and its end
 * share it. Delivery never blocks or fails the pipeline: events are queued, written and POSTed
 * in the background, a failed POST is retried with backoff, then logged and counted.
 */
export class OpenLineageEmitter implements RunObserver {
  readonly #options: OpenLineageOptions;
  readonly #context: EmitterContext;
  readonly #namespace: string;
  readonly #datasetNamespace: string;
  readonly #started = new Map<string, { model: ModelDefinition; result?: ModelRunResult }[]>();
  readonly #queue: RunEvent[] = [];
  #draining: Promise<void> | undefined;

  constructor(options: OpenLineageOptions, context: EmitterContext) {
    this.#options = options;
    this.#context = context;
    this.#namespace = options.namespace ?? 'pulse';
    this.#datasetNamespace =
      context.warehousePath === ':memory:' ? 'duckdb://memory' : `duckdb://${resolve(context.warehousePath)}`;
  }

  modelStarted(run: RunIdentity, model: ModelDefinition): void {
    const started = this.#started.get(run.runId) ?? [];
    started.push({ model });
    this.#started.set(run.runId, started);
    this.#enqueue(this.event('START', run, model));
  }

  modelFinished(run: RunIdentity, model: ModelDefinition, result: ModelRunResult): void {
    const entry = this.#started.get(run.runId)?.find((candidate) => candidate.model === model);
    if (entry) entry.result = result;
  }

  runCommitted(run: RunIdentity, _result: RunResult): void {
    for (const entry of this.#take(run.runId)) {
      this.#enqueue(this.event('COMPLETE', run, entry.model, { result: entry.result }));
    }
  }

  runFailed(run: RunIdentity, error: unknown): void {
    for (const entry of this.#take(run.runId)) {
      this.#enqueue(this.event('FAIL', run, entry.model, { error }));
    }
  }

  /** Resolves once every event queued so far has been written and posted (or given up on). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** The OpenLineage run id of one model in one Pulse run: a UUID (v8, name-based) from both. */
  static modelRunId(pulseRunId: string, model: string): string {
    const hex = createHash('sha256').update(`${pulseRunId}/${model}`).digest('hex');
    const variant = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  event(
    eventType: 'START' | 'COMPLETE' | 'FAIL',
    run: RunIdentity,
    model: ModelDefinition,
    end: { result?: ModelRunResult | undefined; error?: unknown } = {},
  ): RunEvent {
    const producer = this.#context.producer;
    const facet = (schemaURL: string, body: Record<string, unknown>) => ({
      _producer: producer,
      _schemaURL: schemaURL,
      ...body,
    });
    const runFacets: Record<string, unknown> = {
      parent: facet(FACETS.parent, {
        run: { runId: run.runId },
        job: { namespace: this.#namespace, name: `pulse.${run.trigger}` },
      }),
    };
    if (end.error !== undefined) {
      const error = end.error instanceof Error ? end.error : new Error(String(end.error));
      runFacets.errorMessage = facet(FACETS.errorMessage, {
        message: error.message.slice(0, 4000),
        programmingLanguage: 'SQL',
      });
    }
    const output: Record<string, unknown> = {
      namespace: this.#datasetNamespace,
      name: `main.${model.name}`,
      facets: {
        schema: facet(FACETS.schema, { fields: this.#schemaFields(model.name) }),
        columnLineage: facet(FACETS.columnLineage, { fields: this.#columnLineage(model.name) }),
      },
    };
    if (eventType === 'COMPLETE' && end.result && end.result.mode !== 'view') {
      output.outputFacets = {
        outputStatistics: facet(FACETS.outputStatistics, { rowCount: end.result.rows }),
      };
    }
    return {
      eventType,
      eventTime: new Date().toISOString(),
      producer,
      schemaURL: SPEC,
      run: { runId: OpenLineageEmitter.modelRunId(run.runId, model.name), facets: runFacets },
      job: {
        namespace: this.#namespace,
        name: `${model.layer}.${model.name}`,
        facets: {
          jobType: facet(FACETS.jobType, { processingType: 'BATCH', integration: 'PULSE', jobType: 'MODEL' }),
          sql: facet(FACETS.sql, { query: model.sql, dialect: 'duckdb' }),
        },
      },
      inputs: [...model.sources, ...model.refs].map((name) => ({
        namespace: this.#datasetNamespace,
        name: `main.${name}`,
      })),
      outputs: [output],
    };
  }

  #schemaFields(table: string): Record<string, unknown>[] {
    return this.#context.graph
      .datasetNodes(table)
      .filter((node) => node.kind === 'column')
      .map((node, i) => ({
        name: node.field,
        ...(node.type ? { type: node.type } : {}),
        ordinal_position: i + 1,
      }));
  }

  #columnLineage(table: string): Record<string, unknown> {
    const graph = this.#context.graph;
    const fields: Record<string, unknown> = {};
    for (const node of graph.datasetNodes(table)) {
      if (node.kind !== 'column') continue;
      const inputs = graph.inputsOf(node.id).map((input) => ({
        namespace: this.#datasetNamespace,
        name: `main.${input.dataset}`,
        field: input.field,
        transformations: [{ type: 'DIRECT', subtype: 'TRANSFORMATION' }],
      }));
      if (inputs.length > 0) fields[node.field] = { inputFields: inputs };
    }
    return fields;
  }

  #take(runId: string): { model: ModelDefinition; result?: ModelRunResult }[] {
    const started = this.#started.get(runId) ?? [];
    this.#started.delete(runId);
    return started;
  }

  #enqueue(event: RunEvent): void {
    if (this.#queue.length >= MAX_QUEUED) {
      this.#queue.shift();
      this.#context.failed?.(this.#options.url ? 'http' : 'file');
    }
    this.#queue.push(event);
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  async #drain(): Promise<void> {
    // Let the run go on: delivery starts once the current synchronous work has yielded.
    await new Promise((done) => setImmediate(done));
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#queue.length);
      if (this.#options.file) {
        try {
          await appendFile(this.#options.file, batch.map((event) => `${JSON.stringify(event)}\n`).join(''));
        } catch (error) {
          this.#context.failed?.('file');
          this.#context.log(`OpenLineage: could not write ${this.#options.file}`, error);
        }
      }
      if (this.#options.url) for (const event of batch) await this.#post(this.#options.url, event);
    }
  }

  async #post(url: string, event: RunEvent): Promise<void> {
    const waits = this.#options.retryBackoffMs ?? [250, 1000, 4000];
    let lastError: unknown;
    for (let attempt = 0; attempt <= waits.length; attempt += 1) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(5_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return;
        lastError = new Error(`HTTP ${response.status}`);
        // A client error will not get better by retrying.
        if (response.status >= 400 && response.status < 500 && response.status !== 429) break;
      } catch (error) {
        lastError = error;
      }
      const wait = waits[attempt];
      if (wait !== undefined) await new Promise((done) => setTimeout(done, wait));
    }
    this.#context.failed?.('http');
    this.#context.log(`OpenLineage: POST ${url} failed for a ${event.eventType} event`, lastError);
  }
}
