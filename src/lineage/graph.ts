/** The lineage graph: nodes (contract fields, bronze fields, columns, KPIs) and the edges between them. */

export type LineageNodeKind = 'contract_field' | 'bronze_field' | 'column' | 'kpi' | 'measure' | 'component';

export interface LineageNode {
  readonly id: string;
  readonly kind: LineageNodeKind;
  /** The table (bronze_events, a model) or KPI the node belongs to. */
  readonly dataset: string;
  /** The column, JSON path or measure within it. */
  readonly field: string;
  readonly layer?: 'bronze' | 'silver' | 'gold' | 'contract' | 'kpi';
  /** DuckDB type of a column. */
  readonly type?: string;
  readonly description?: string;
}

export interface LineageEdge {
  readonly from: string;
  readonly to: string;
  /** direct: the value flows in; indirect: it filters, joins or groups what flows in (KPIs only). */
  readonly kind: 'direct' | 'indirect';
}

export interface ModelEdge {
  readonly from: string;
  readonly to: string;
}

export interface GlossaryTerm {
  readonly term: string;
  readonly id: string;
  readonly kind: 'kpi' | 'measure' | 'component';
  readonly definition: string;
  readonly unit?: string;
  readonly owner?: string;
  /** The contract fields the term is ultimately computed from. */
  readonly contractFields: readonly string[];
}

export interface LineageGraphData {
  readonly nodes: readonly LineageNode[];
  readonly edges: readonly LineageEdge[];
  /** Table-level edges: bronze → silver → gold → KPI. */
  readonly models: readonly ModelEdge[];
  readonly glossary: readonly GlossaryTerm[];
}

export type Direction = 'upstream' | 'downstream';

export class LineageGraph {
  readonly data: LineageGraphData;
  readonly #nodes: Map<string, LineageNode>;
  readonly #down = new Map<string, string[]>();
  readonly #up = new Map<string, string[]>();
  readonly #directUp = new Map<string, string[]>();

  constructor(data: LineageGraphData) {
    this.data = data;
    this.#nodes = new Map(data.nodes.map((node) => [node.id, node]));
    for (const edge of data.edges) {
      push(this.#down, edge.from, edge.to);
      push(this.#up, edge.to, edge.from);
      if (edge.kind === 'direct') push(this.#directUp, edge.to, edge.from);
    }
  }

  node(id: string): LineageNode | undefined {
    return this.#nodes.get(id);
  }

  /** The nodes of a dataset (a table name or KPI id), when `id` names one rather than a node. */
  datasetNodes(dataset: string): LineageNode[] {
    return this.data.nodes.filter((node) => node.dataset === dataset);
  }

  /** The nodes one direct edge upstream of `id` (what its value is computed from). */
  inputsOf(id: string): LineageNode[] {
    return (this.#directUp.get(id) ?? [])
      .map((from) => this.#nodes.get(from))
      .filter((node) => node !== undefined);
  }

  /** Every node reachable from `ids` in one direction (the starting nodes excluded), sorted by id. */
  reach(ids: readonly string[], direction: Direction): LineageNode[] {
    const next = direction === 'downstream' ? this.#down : this.#up;
    const seen = new Set<string>(ids);
    const queue = [...ids];
    const found: LineageNode[] = [];
    while (queue.length > 0) {
      const id = queue.shift() as string;
      for (const neighbour of next.get(id) ?? []) {
        if (seen.has(neighbour)) continue;
        seen.add(neighbour);
        queue.push(neighbour);
        const node = this.#nodes.get(neighbour);
        if (node) found.push(node);
      }
    }
    return found.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The edges between a node set (for a sub-graph answer). */
  edgesWithin(ids: ReadonlySet<string>): LineageEdge[] {
    return this.data.edges.filter((edge) => ids.has(edge.from) && ids.has(edge.to));
  }
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
