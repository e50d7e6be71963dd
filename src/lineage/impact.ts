import { PulseError } from '../errors.js';
import type { Direction, LineageEdge, LineageGraph, LineageNode } from './graph.js';

export interface ImpactAnswer {
  readonly node: LineageNode | { readonly id: string; readonly kind: 'dataset' };
  readonly direction: Direction;
  /** Every node reachable that way, sorted by id. */
  readonly nodes: readonly LineageNode[];
  /** Just the KPIs among them (downstream) or the contract fields (upstream): the usual question. */
  readonly kpis: readonly string[];
  readonly contractFields: readonly string[];
  readonly edges: readonly LineageEdge[];
}

/**
 * What depends on a node (downstream) or what it is computed from (upstream). `id` is a node
 * (`silver_order_lines.discount`, `net_revenue`, `order.placed.lines[].discount`) or a whole table.
 */
export function impactOf(graph: LineageGraph, id: string, direction: Direction): ImpactAnswer {
  const node = graph.node(id);
  const starts = node ? [node] : graph.datasetNodes(id);
  if (starts.length === 0) {
    throw new PulseError(
      'PULSE_ERR_NOT_FOUND',
      `node "${id}" is neither a column (table.column), a contract field (event.type.field), a KPI nor a table`,
      { field: 'node' },
    );
  }
  const reached = graph.reach(
    starts.map((start) => start.id),
    direction,
  );
  const ids = new Set([...starts.map((start) => start.id), ...reached.map((found) => found.id)]);
  return {
    node: node ?? { id, kind: 'dataset' },
    direction,
    nodes: reached,
    kpis: reached.filter((found) => found.kind === 'kpi').map((found) => found.id),
    contractFields: reached.filter((found) => found.kind === 'contract_field').map((found) => found.id),
    edges: graph.edgesWithin(ids),
  };
}
