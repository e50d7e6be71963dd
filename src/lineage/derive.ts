import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { KpiDefinition, Catalogue, Measure } from '../kpis/index.js';
import { expandMeasureSql } from '../kpis/compile.js';
import { orderModels, renderModel, SOURCES, type ModelDefinition } from '../models/index.js';
import { migrate } from '../warehouse/migrations.js';
import { queryLineage, type LineageEnvironment, type QueryLineage } from './columns.js';
import { contractFieldFor } from './contract-fields.js';
import {
  LineageGraph,
  type GlossaryTerm,
  type LineageEdge,
  type LineageNode,
  type ModelEdge,
} from './graph.js';

export interface DeriveOptions {
  readonly models: readonly ModelDefinition[];
  readonly catalogue: Catalogue;
  /** The contract data schemas by event type (the validator's). */
  readonly contracts: ReadonlyMap<string, object>;
}

const BRONZE = 'bronze_events';
const PAYLOAD = `${BRONZE}.data`;

/**
 * Derives the lineage graph from the SQL itself: the models are created empty in an in-memory
 * warehouse (so `*` expands from DuckDB's catalog), each model's SQL is parsed by DuckDB
 * (`json_serialize_sql`) and walked column by column, then the KPI measures likewise over gold.
 */
export async function deriveLineage(options: DeriveOptions): Promise<LineageGraph> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await migrate(connection);
    const builder = new GraphBuilder(options.contracts);
    const catalog = new Map<string, { name: string; type: string }[]>();
    catalog.set(BRONZE, await describe(connection, BRONZE));
    for (const column of catalog.get(BRONZE) ?? []) {
      if (column.name !== 'data') builder.column(BRONZE, column.name, 'bronze', column.type);
    }
    const environment: LineageEnvironment = {
      tableColumns: (table) => catalog.get(table)?.map((column) => column.name),
      columnOrigin: (table, column) => `${table}.${column}`,
      jsonOrigin: (origin, path, eventTypes) =>
        origin === PAYLOAD && eventTypes.length > 0
          ? eventTypes.map((type) => builder.bronzeField(type, path))
          : [`${origin}.${path}`],
    };
    for (const model of orderModels(options.models, SOURCES)) {
      const sql = renderModel(model.sql, {
        incremental: false,
        lo: -1n,
        hi: 0n,
        self: model.name,
        resolve: (name) => name,
      });
      const kind = model.materialized === 'view' ? 'VIEW' : 'TABLE';
      await connection.run(`CREATE ${kind} ${model.name} AS SELECT * FROM (${sql}) LIMIT 0`);
      const columns = await describe(connection, model.name);
      catalog.set(model.name, columns);
      const lineage = await parseLineage(connection, sql, environment, model.name);
      if (lineage.columns.length !== columns.length) {
        throw new Error(
          `lineage of ${model.name}: derived ${lineage.columns.length} columns, the catalog has ${columns.length}`,
        );
      }
      columns.forEach((column, i) => {
        const id = builder.column(model.name, column.name, model.layer, column.type);
        for (const origin of lineage.columns[i]?.lineage.origins ?? []) builder.edge(origin, id, 'direct');
      });
      for (const upstream of [...model.sources, ...model.refs]) builder.modelEdge(upstream, model.name);
    }
    for (const kpi of options.catalogue.kpis) await addKpi(connection, builder, environment, kpi);
    return builder.build();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function addKpi(
  connection: DuckDBConnection,
  builder: GraphBuilder,
  environment: LineageEnvironment,
  kpi: KpiDefinition,
): Promise<void> {
  const kpiId = builder.kpi(kpi);
  const measures: [string, Measure | { sql: string; components?: undefined }][] = [];
  if (kpi.numerator) measures.push(['numerator', kpi.numerator]);
  if (kpi.denominator) measures.push(['denominator', kpi.denominator]);
  if (kpi.snapshot) measures.push(['snapshot', kpi.snapshot]);
  for (const [role, measure] of measures) {
    const measureId = builder.measure(kpi, role);
    builder.edge(measureId, kpiId, 'direct');
    const texts = [measure.sql, ...Object.values((measure as Measure).sql_by ?? {})];
    for (const text of texts) {
      const sql = expandMeasureSql(kpi, text);
      const lineage = await parseLineage(connection, sql, environment, `${kpi.id}.${role}`);
      linkQuery(builder, lineage, measureId);
      for (const table of refsOf(text)) builder.modelEdge(table, kpi.id);
    }
    // A component is one branch of the measure's UNION, tagged by a constant `component` column.
    for (const name of Object.keys(measure.components ?? {})) {
      const componentId = builder.component(kpi, role, name, measure.components?.[name] ?? 1);
      builder.edge(componentId, measureId, 'direct');
      const branches = setBranches(await serialize(connection, expandMeasureSql(kpi, measure.sql)));
      const position = componentPosition(branches[0]);
      for (const branch of branches) {
        if (componentOf(branch, position) !== name) continue;
        linkQuery(builder, queryLineage(branch, environment), componentId);
      }
    }
  }
}

/** A measure depends on every column it reads: its values (direct) and its filters (indirect). */
function linkQuery(builder: GraphBuilder, lineage: QueryLineage, target: string): void {
  const direct = new Set<string>();
  for (const column of lineage.columns) for (const origin of column.lineage.origins) direct.add(origin);
  for (const origin of direct) builder.edge(origin, target, 'direct');
  for (const origin of lineage.indirect) if (!direct.has(origin)) builder.edge(origin, target, 'indirect');
}

class GraphBuilder {
  readonly #contracts: ReadonlyMap<string, object>;
  readonly #nodes = new Map<string, LineageNode>();
  readonly #edges = new Map<string, LineageEdge>();
  readonly #models = new Map<string, ModelEdge>();
  readonly #kpis: KpiDefinition[] = [];
  readonly #terms: {
    id: string;
    kind: GlossaryTerm['kind'];
    term: string;
    definition: string;
    kpi: KpiDefinition;
  }[] = [];

  constructor(contracts: ReadonlyMap<string, object>) {
    this.#contracts = contracts;
  }

  column(table: string, column: string, layer: LineageNode['layer'], type: string): string {
    const id = `${table}.${column}`;
    this.#nodes.set(id, { id, kind: 'column', dataset: table, field: column, layer, type });
    return id;
  }

  /** A field of bronze's JSON payload for one event type, linked to the contract field it stores. */
  bronzeField(eventType: string, path: string): string {
    const id = `${BRONZE}[${eventType}].data.${path}`;
    if (this.#nodes.has(id)) return id;
    this.#nodes.set(id, {
      id,
      kind: 'bronze_field',
      dataset: BRONZE,
      field: `data.${path}`,
      layer: 'bronze',
    });
    const schema = this.#contracts.get(eventType);
    const contract = schema ? contractFieldFor(schema, path) : undefined;
    if (contract) {
      const contractId = `${eventType}.${contract.path}`;
      this.#nodes.set(contractId, {
        id: contractId,
        kind: 'contract_field',
        dataset: eventType,
        field: contract.path,
        layer: 'contract',
        ...(contract.description ? { description: contract.description } : {}),
      });
      this.edge(contractId, id, 'direct');
    }
    return id;
  }

  kpi(kpi: KpiDefinition): string {
    this.#kpis.push(kpi);
    this.#nodes.set(kpi.id, {
      id: kpi.id,
      kind: 'kpi',
      dataset: kpi.id,
      field: kpi.id,
      layer: 'kpi',
      description: kpi.label,
    });
    this.#terms.push({ id: kpi.id, kind: 'kpi', term: kpi.label, definition: kpi.description, kpi });
    return kpi.id;
  }

  measure(kpi: KpiDefinition, role: string): string {
    const id = `${kpi.id}.${role}`;
    const aggregate =
      role === 'snapshot'
        ? 'count of rows flagged at_risk'
        : (kpi as never as Record<string, Measure>)[role]?.aggregate;
    const definition = `The ${role} of ${kpi.label} (${String(aggregate)} over the gold rows its SQL selects).`;
    this.#nodes.set(id, { id, kind: 'measure', dataset: kpi.id, field: role, layer: 'kpi' });
    this.#terms.push({ id, kind: 'measure', term: `${kpi.label} ${role}`, definition, kpi });
    return id;
  }

  component(kpi: KpiDefinition, role: string, name: string, sign: number): string {
    const id = `${kpi.id}.${name}`;
    this.#nodes.set(id, { id, kind: 'component', dataset: kpi.id, field: name, layer: 'kpi' });
    const definition = `A part of the ${role} of ${kpi.label}, counted with sign ${sign > 0 ? '+' : '−'}.`;
    this.#terms.push({
      id,
      kind: 'component',
      term: `${kpi.label}: ${name.replaceAll('_', ' ')}`,
      definition,
      kpi,
    });
    return id;
  }

  edge(from: string, to: string, kind: LineageEdge['kind']): void {
    const key = `${from}\u0000${to}`;
    const existing = this.#edges.get(key);
    if (!existing || (existing.kind === 'indirect' && kind === 'direct'))
      this.#edges.set(key, { from, to, kind });
  }

  modelEdge(from: string, to: string): void {
    this.#models.set(`${from}\u0000${to}`, { from, to });
  }

  build(): LineageGraph {
    for (const edge of this.#edges.values()) {
      for (const id of [edge.from, edge.to]) {
        if (!this.#nodes.has(id))
          throw new Error(`lineage edge ${edge.from} → ${edge.to} names no node ${id}`);
      }
    }
    const partial = new LineageGraph({
      nodes: [...this.#nodes.values()],
      edges: [...this.#edges.values()],
      models: [...this.#models.values()],
      glossary: [],
    });
    const glossary: GlossaryTerm[] = this.#terms.map((term) => ({
      term: term.term,
      id: term.id,
      kind: term.kind,
      definition: term.definition,
      ...(term.kind === 'kpi' ? { unit: term.kpi.unit, owner: term.kpi.owner } : {}),
      contractFields: partial
        .reach([term.id], 'upstream')
        .filter((node) => node.kind === 'contract_field')
        .map((node) => node.id),
    }));
    return new LineageGraph({ ...partial.data, glossary });
  }
}

async function describe(
  connection: DuckDBConnection,
  table: string,
): Promise<{ name: string; type: string }[]> {
  const reader = await connection.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $t AND table_schema = 'main' ORDER BY ordinal_position`,
    { t: table },
  );
  return reader
    .getRowObjectsJson()
    .map((row) => ({ name: String(row.column_name), type: String(row.data_type) }));
}

async function serialize(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>> {
  const reader = await connection.runAndReadAll(`SELECT json_serialize_sql($sql::VARCHAR) AS ast`, { sql });
  const parsed = JSON.parse(String(reader.getRowObjectsJson()[0]?.ast)) as {
    error?: boolean;
    error_message?: string;
    statements?: { node: Record<string, unknown> }[];
  };
  if (parsed.error || !parsed.statements?.[0]) throw new Error(parsed.error_message ?? 'no statement');
  return parsed.statements[0].node;
}

async function parseLineage(
  connection: DuckDBConnection,
  sql: string,
  environment: LineageEnvironment,
  what: string,
): Promise<QueryLineage> {
  try {
    return queryLineage(await serialize(connection, sql), environment);
  } catch (error) {
    throw new Error(`lineage of ${what}: ${(error as Error).message}`, { cause: error });
  }
}

function setBranches(node: Record<string, unknown>): Record<string, unknown>[] {
  if (node.type !== 'SET_OPERATION_NODE') return [node];
  const children = (node.children as Record<string, unknown>[] | undefined) ?? [
    node.left as Record<string, unknown>,
    node.right as Record<string, unknown>,
  ];
  return children.filter(Boolean).flatMap(setBranches);
}

/** Where the `component` column is in the first branch (the others name their columns by position). */
function componentPosition(branch: Record<string, unknown> | undefined): number {
  const list = (branch?.select_list as Record<string, unknown>[] | undefined) ?? [];
  return list.findIndex((item) => item.alias === 'component');
}

function componentOf(branch: Record<string, unknown>, position: number): string | undefined {
  const list = (branch.select_list as Record<string, unknown>[] | undefined) ?? [];
  const named = list[position];
  const value = (named?.value as Record<string, unknown> | undefined)?.value;
  return named?.class === 'CONSTANT' && typeof value === 'string' ? value : undefined;
}

const REF = /\{\{\s*ref\(\s*'([a-z0-9_]+)'\s*\)\s*\}\}/g;
function refsOf(sql: string): string[] {
  return [...new Set([...sql.matchAll(REF)].map((match) => match[1] as string))];
}

/**
 * The column lineage of one SELECT over tables given by their column lists (origins are
 * `table.column`, JSON fields `table.column.path`): the SQL-level building block, on its own.
 */
export async function lineageOfSql(
  sql: string,
  tables: Readonly<Record<string, readonly string[]>>,
): Promise<QueryLineage> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return await parseLineage(
      connection,
      sql,
      {
        tableColumns: (table) => tables[table],
        columnOrigin: (table, column) => `${table}.${column}`,
        jsonOrigin: (origin, path, eventTypes) =>
          eventTypes.length > 0
            ? eventTypes.map((type) => `${origin}[${type}].${path}`)
            : [`${origin}.${path}`],
      },
      'query',
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
