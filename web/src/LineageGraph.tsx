import { useId, useMemo } from 'react';
import type { ImpactAnswer, LineageEdge, LineageNode } from './api';
import { pageHref } from './ui';

/** The columns of a lineage graph, left to right: where data comes in to where it is read. */
export const COLUMNS = [
  { key: 'contract', title: 'Contract fields' },
  { key: 'bronze', title: 'Bronze' },
  { key: 'silver', title: 'Silver' },
  { key: 'gold', title: 'Gold' },
  { key: 'measure', title: 'KPI measures' },
  { key: 'kpi', title: 'KPIs' },
] as const;
export type ColumnKey = (typeof COLUMNS)[number]['key'];

export function columnOf(node: LineageNode): ColumnKey {
  if (node.kind === 'kpi') return 'kpi';
  if (node.kind === 'measure' || node.kind === 'component') return 'measure';
  if (node.kind === 'contract_field') return 'contract';
  if (node.kind === 'bronze_field') return 'bronze';
  return node.layer === 'kpi' ? 'kpi' : (node.layer ?? 'gold');
}

const COLUMN_TITLE = Object.fromEntries(COLUMNS.map((c) => [c.key, c.title])) as Record<ColumnKey, string>;
const COLUMN_ORDER = Object.fromEntries(COLUMNS.map((c, i) => [c.key, i])) as Record<ColumnKey, number>;

export interface GraphNode {
  readonly id: string;
  readonly column: ColumnKey;
  /** Nodes of one group (a table, an event type, a KPI) are drawn together under its name. */
  readonly group: string;
  readonly label: string;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** Drawn dashed: the value filters, joins or groups rather than flows in. */
  readonly indirect?: boolean;
}

const COL_W = 220;
const GAP = 80;
const ROW_H = 20;
const GROUP_H = 22;
const TOP = 34;
const PAD = 8;
/** Beyond this many nodes the drawing is unreadable: the tables carry the answer alone. */
export const MAX_DRAWN = 400;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A layered lineage graph in SVG: one column per layer, nodes grouped by table, edges as curves
 * (dashed when indirect). It is an image to assistive technology, with a summary as its text
 * alternative; the tables beside it (LineageTables) list the same nodes and edges as links.
 * A click on a node explores it (the tables' links do the same from the keyboard).
 */
export function LayeredGraph({
  nodes,
  edges,
  focus,
  label,
  onPick,
}: {
  nodes: readonly GraphNode[];
  edges: readonly GraphEdge[];
  focus?: string | undefined;
  label: string;
  onPick?: ((id: string) => void) | undefined;
}) {
  const rawId = useId();
  const uid = rawId.replace(/[^A-Za-z0-9_-]/g, '');
  const layout = useMemo(() => {
    const used = COLUMNS.filter((c) => nodes.some((n) => n.column === c.key));
    const positions = new Map<string, { x: number; y: number; column: number }>();
    const groups: { name: string; x: number; y: number }[] = [];
    let height = TOP;
    used.forEach((column, index) => {
      const x = PAD + index * (COL_W + GAP);
      const inColumn = nodes.filter((n) => n.column === column.key);
      const names = [...new Set(inColumn.map((n) => n.group))].sort();
      let y = TOP;
      for (const name of names) {
        if (name) {
          groups.push({ name, x, y });
          y += GROUP_H;
        }
        for (const node of inColumn
          .filter((n) => n.group === name)
          .sort((a, b) => a.label.localeCompare(b.label))) {
          positions.set(node.id, { x, y, column: index });
          y += ROW_H;
        }
        y += 6;
      }
      height = Math.max(height, y);
    });
    const width = PAD * 2 + used.length * COL_W + Math.max(used.length - 1, 0) * GAP + 40;
    return { used, positions, groups, width, height: height + PAD };
  }, [nodes]);

  const counts = layout.used.map((c) => `${nodes.filter((n) => n.column === c.key).length} ${c.title}`);
  const summary = `${label}: ${nodes.length} nodes (${counts.join(', ')}) and ${edges.length} edges, left to right from contract fields to KPIs. The tables below list every node with its inputs.`;
  const byId = new Map(nodes.map((n) => [n.id, n]));

  return (
    <div className="graph-scroll" tabIndex={0} role="region" aria-label={`${label} (scrollable)`}>
      <svg
        className="lineage-graph"
        role="img"
        aria-labelledby={`${uid}-title ${uid}-desc`}
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        data-testid="lineage-graph"
      >
        <title id={`${uid}-title`}>{label}</title>
        <desc id={`${uid}-desc`}>{summary}</desc>
        <defs>
          <marker
            id={`${uid}-arrow`}
            viewBox="0 0 8 8"
            refX="8"
            refY="4"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L8,4 L0,8 z" className="lg-arrow" />
          </marker>
        </defs>
        {layout.used.map((column, index) => (
          <text key={column.key} className="lg-column" x={PAD + index * (COL_W + GAP)} y={18}>
            {column.title}
          </text>
        ))}
        {edges.map((edge) => {
          const from = layout.positions.get(edge.from);
          const to = layout.positions.get(edge.to);
          if (!from || !to) return null;
          const y1 = from.y + ROW_H / 2 - 2;
          const y2 = to.y + ROW_H / 2 - 2;
          const x1 = from.x + COL_W;
          const d =
            to.column > from.column
              ? `M${x1},${y1} C${x1 + GAP / 2},${y1} ${to.x - GAP / 2},${y2} ${to.x},${y2}`
              : // Within a column (silver reading silver, a component feeding its measure): a loop on the right.
                `M${x1},${y1} C${x1 + 36},${y1} ${to.x + COL_W + 36},${y2} ${to.x + COL_W},${y2}`;
          const touches = edge.from === focus || edge.to === focus;
          return (
            <path
              key={`${edge.from}>${edge.to}`}
              d={d}
              className={`lg-edge${edge.indirect ? ' lg-indirect' : ''}${touches ? ' lg-touch' : ''}`}
              markerEnd={`url(#${uid}-arrow)`}
            />
          );
        })}
        {layout.groups.map((group) => (
          <text
            key={`${group.x}:${group.name}`}
            className="lg-group"
            x={group.x + 2}
            y={group.y + GROUP_H - 7}
          >
            {truncate(group.name, 30)}
          </text>
        ))}
        {[...layout.positions].map(([id, position]) => {
          const node = byId.get(id) as GraphNode;
          const isFocus = id === focus;
          return (
            <g
              key={id}
              className={`lg-node${isFocus ? ' lg-focus' : ''}${onPick ? ' lg-pick' : ''}`}
              transform={`translate(${position.x},${position.y})`}
              onClick={onPick ? () => onPick(id) : undefined}
            >
              <title>{id}</title>
              <rect width={COL_W} height={ROW_H - 4} rx="3" />
              <text x="6" y={ROW_H - 8}>
                {isFocus ? '▶ ' : ''}
                {truncate(node.label, isFocus ? 27 : 30)}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** The graph nodes of a lineage answer: grouped by table (or event type, or KPI), labelled by field. */
export function graphNodes(nodes: readonly LineageNode[]): GraphNode[] {
  return nodes.map((node) => ({
    id: node.id,
    column: columnOf(node),
    group: node.kind === 'kpi' ? '' : node.dataset,
    label: node.kind === 'kpi' ? node.id : node.field,
  }));
}

export function graphEdges(edges: readonly LineageEdge[]): GraphEdge[] {
  const seen = new Set<string>();
  const out: GraphEdge[] = [];
  for (const edge of edges) {
    const key = `${edge.from}>${edge.to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ from: edge.from, to: edge.to, indirect: edge.kind === 'indirect' });
  }
  return out;
}

export const lineageHref = (id: string): string => pageHref('lineage', { node: id });

function sortNodes(nodes: readonly LineageNode[]): LineageNode[] {
  return [...nodes].sort(
    (a, b) =>
      COLUMN_ORDER[columnOf(a)] - COLUMN_ORDER[columnOf(b)] ||
      a.dataset.localeCompare(b.dataset) ||
      a.field.localeCompare(b.field),
  );
}

/** One direction of an impact answer as a table: every node, its layer, and what it reads. */
function ImpactTable({ answer, caption, testId }: { answer: ImpactAnswer; caption: string; testId: string }) {
  const inputs = new Map<string, string[]>();
  for (const edge of answer.edges) {
    const list = inputs.get(edge.to) ?? [];
    list.push(edge.kind === 'indirect' ? `${edge.from} (filters or joins)` : edge.from);
    inputs.set(edge.to, list);
  }
  if (answer.nodes.length === 0) return <p data-testid={testId}>{caption}: none.</p>;
  return (
    <div className="table-scroll mb-4">
      <table className="data-table" data-testid={testId}>
        <caption className="caption">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Layer</th>
            <th scope="col">Table, event or KPI</th>
            <th scope="col">Kind</th>
            <th scope="col">Type</th>
            <th scope="col">Reads (within this answer)</th>
          </tr>
        </thead>
        <tbody>
          {sortNodes(answer.nodes).map((node) => (
            <tr key={node.id}>
              <th scope="row">
                <a href={lineageHref(node.id)}>{node.id}</a>
              </th>
              <td>{COLUMN_TITLE[columnOf(node)]}</td>
              <td>{node.dataset}</td>
              <td>{node.kind.replace('_', ' ')}</td>
              <td>{node.type ?? '–'}</td>
              <td className="reads">{(inputs.get(node.id) ?? []).join(', ') || '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * What a node is computed from and what depends on it: the layered graph of both directions and,
 * as its accessible alternative, a table for each direction.
 */
export function LineageView({
  focus,
  upstream,
  downstream,
  onPick,
  collapseTables = false,
}: {
  focus: string;
  upstream?: ImpactAnswer | undefined;
  downstream?: ImpactAnswer | undefined;
  onPick?: ((id: string) => void) | undefined;
  /** The tables behind a disclosure (the KPI page, where the graph is one section of many). */
  collapseTables?: boolean;
}) {
  const { nodes, edges } = useMemo(() => {
    const all = new Map<string, LineageNode>();
    const start = (upstream ?? downstream)?.node;
    if (start && start.kind !== 'dataset') all.set(start.id, start);
    for (const node of [...(upstream?.nodes ?? []), ...(downstream?.nodes ?? [])]) all.set(node.id, node);
    return {
      nodes: graphNodes([...all.values()]),
      edges: graphEdges([...(upstream?.edges ?? []), ...(downstream?.edges ?? [])]),
    };
  }, [upstream, downstream]);
  const directions = [upstream && 'upstream', downstream && 'downstream'].filter(Boolean).join(' and ');
  const tables = (
    <>
      {upstream && (
        <ImpactTable
          answer={upstream}
          caption={`Upstream of ${focus}: what it is computed from (${upstream.nodes.length})`}
          testId="lineage-upstream"
        />
      )}
      {downstream && (
        <ImpactTable
          answer={downstream}
          caption={`Downstream of ${focus}: what depends on it (${downstream.nodes.length})`}
          testId="lineage-downstream"
        />
      )}
    </>
  );
  return (
    <>
      {nodes.length > MAX_DRAWN ? (
        <p className="muted mb-3">
          {nodes.length} nodes are too many to draw legibly: the tables below list them all.
        </p>
      ) : nodes.length > 1 ? (
        <>
          <LayeredGraph
            nodes={nodes}
            edges={edges}
            focus={focus}
            label={`Lineage of ${focus}, ${directions}`}
            onPick={onPick}
          />
          <p className="muted mt-1 mb-3 text-sm">
            Solid arrows: the value flows in. Dashed arrows: it filters, joins or groups what flows in. The
            node explored is marked ▶.
          </p>
        </>
      ) : null}
      {collapseTables ? (
        <details>
          <summary>
            The same as a table ({(upstream?.nodes.length ?? 0) + (downstream?.nodes.length ?? 0)} nodes)
          </summary>
          {tables}
        </details>
      ) : (
        tables
      )}
    </>
  );
}
