import { useEffect, useMemo, useState } from 'react';
import { api, query, type ImpactAnswer, type LineageGraphData } from './api';
import { columnOf, graphEdges, LayeredGraph, LineageView, lineageHref, type GraphNode } from './LineageGraph';
import { ErrorText } from './ui';

/**
 * Explore the lineage: pick a KPI, table, column or contract field; see what it is computed from
 * and what depends on it (impact analysis), drawn and listed; the glossary of business terms.
 */
export function LineagePage({ node }: { node: string | undefined }) {
  const [graph, setGraph] = useState<LineageGraphData | null>(null);
  const [upstream, setUpstream] = useState<ImpactAnswer | null>(null);
  const [downstream, setDownstream] = useState<ImpactAnswer | null>(null);
  const [text, setText] = useState(node ?? '');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<LineageGraphData>('/v1/lineage')
      .then(setGraph)
      .catch((e: Error) => setError(e.message));
  }, []);

  useEffect(() => {
    setText(node ?? '');
    setUpstream(null);
    setDownstream(null);
    if (!node) return;
    let cancelled = false;
    setError(null);
    Promise.all(
      (['upstream', 'downstream'] as const).map((direction) =>
        api<ImpactAnswer>(`/v1/lineage${query({ node, direction })}`),
      ),
    )
      .then(([up, down]) => {
        if (cancelled) return;
        setUpstream(up ?? null);
        setDownstream(down ?? null);
      })
      .catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [node]);

  const suggestions = useMemo(() => {
    if (!graph) return [];
    const datasets = [...new Set(graph.nodes.map((n) => n.dataset))].map((id) => ({ id, hint: 'table' }));
    const nodes = graph.nodes.map((n) => ({ id: n.id, hint: n.kind.replace('_', ' ') }));
    const seen = new Set<string>();
    return [...datasets, ...nodes].filter((s) => !seen.has(s.id) && seen.add(s.id));
  }, [graph]);

  return (
    <article aria-labelledby="lineage-title">
      <h1 id="lineage-title" className="mb-3 text-2xl font-bold">
        Lineage
      </h1>
      <form
        className="panel mb-4 flex flex-wrap items-end gap-3 p-4"
        role="search"
        aria-label="Lineage"
        onSubmit={(event) => {
          event.preventDefault();
          const id = text.trim();
          if (id) location.hash = lineageHref(id);
        }}
      >
        <div>
          <label htmlFor="lineage-node" className="mb-1 block font-semibold">
            Node
          </label>
          <input
            id="lineage-node"
            className="input w-96 max-w-full"
            list="lineage-suggestions"
            value={text}
            onChange={(event) => setText(event.target.value)}
            aria-describedby="lineage-node-hint"
            autoComplete="off"
            spellCheck={false}
          />
          <datalist id="lineage-suggestions">
            {suggestions.map((s) => (
              <option key={s.id} value={s.id} label={s.hint} />
            ))}
          </datalist>
          <p id="lineage-node-hint" className="muted text-sm">
            A KPI (<code>net_revenue</code>), a table (<code>fact_order</code>), a column (
            <code>silver_order_lines.net_eur</code>) or a contract field (
            <code>order.placed.lines[].discount</code>); suggestions come from the graph.
          </p>
        </div>
        <button type="submit" className="button button-primary">
          Explore
        </button>
        {node && (
          <a href="#/lineage" className="self-center">
            All tables
          </a>
        )}
      </form>
      <ErrorText error={error} />
      {node && upstream && downstream ? (
        <section className="panel mb-6 p-4" aria-labelledby="impact-title">
          <h2 id="impact-title" className="mb-2 text-lg font-semibold">
            <code>{node}</code>{' '}
            <span className="muted text-base font-normal">({upstream.node.kind.replace('_', ' ')})</span>
          </h2>
          <ImpactSummary node={node} upstream={upstream} downstream={downstream} />
          <LineageView
            focus={node}
            upstream={upstream}
            downstream={downstream}
            onPick={(id) => (location.hash = lineageHref(id))}
          />
        </section>
      ) : (
        !node && graph && <ModelGraph graph={graph} />
      )}
      {graph && <Glossary graph={graph} />}
    </article>
  );
}

function ImpactSummary({
  node,
  upstream,
  downstream,
}: {
  node: string;
  upstream: ImpactAnswer;
  downstream: ImpactAnswer;
}) {
  return (
    <div className="mb-3">
      <p className="mb-1">
        {downstream.kpis.length === 0 ? (
          <>No KPI depends on {node}.</>
        ) : (
          <>
            {downstream.kpis.length === 1 ? 'One KPI depends' : `${downstream.kpis.length} KPIs depend`} on{' '}
            {node}:{' '}
          </>
        )}
      </p>
      {downstream.kpis.length > 0 && (
        <ul className="mb-2 flex flex-wrap gap-2" data-testid="lineage-kpis" aria-label="Downstream KPIs">
          {downstream.kpis.map((kpi) => (
            <li key={kpi} className="tag">
              <a href={`#/kpi/${kpi}`}>{kpi}</a>
            </li>
          ))}
        </ul>
      )}
      <p data-testid="lineage-contract-count">
        Computed from {upstream.contractFields.length} contract field
        {upstream.contractFields.length === 1 ? '' : 's'}; {upstream.nodes.length} nodes upstream,{' '}
        {downstream.nodes.length} downstream.
      </p>
    </div>
  );
}

/** With no node picked: the tables and how they feed each other (model edges), then the KPIs. */
function ModelGraph({ graph }: { graph: LineageGraphData }) {
  const { nodes, reads } = useMemo(() => {
    const datasets = [...new Set(graph.models.flatMap((edge) => [edge.from, edge.to]))];
    const nodes: GraphNode[] = datasets.map((dataset) => {
      const members = graph.nodes.filter((n) => n.dataset === dataset);
      const kpi = members.find((n) => n.kind === 'kpi');
      const first = members[0];
      return {
        id: dataset,
        column: kpi ? 'kpi' : first ? columnOf(first) : 'gold',
        group: '',
        label: dataset,
      };
    });
    const reads = new Map<string, string[]>();
    for (const edge of graph.models) reads.set(edge.to, [...(reads.get(edge.to) ?? []), edge.from]);
    return { nodes, reads };
  }, [graph]);
  const edges = useMemo(() => graphEdges(graph.models.map((m) => ({ ...m, kind: 'direct' }))), [graph]);
  const order = new Map(nodes.map((n) => [n.id, n]));
  return (
    <section className="panel mb-6 p-4" aria-labelledby="models-title">
      <h2 id="models-title" className="mb-2 text-lg font-semibold">
        Tables and the KPIs they feed
      </h2>
      <p className="muted mb-2 text-sm">Pick a node above, or a table in the list, to see its columns.</p>
      <LayeredGraph
        nodes={nodes}
        edges={edges}
        label="Tables from bronze through silver and gold to the KPIs"
        onPick={(id) => (location.hash = lineageHref(id))}
      />
      <details className="mt-3">
        <summary>The same as a table</summary>
        <div className="table-scroll">
          <table className="data-table" data-testid="model-table">
            <caption className="caption">Each table or KPI and the tables it reads</caption>
            <thead>
              <tr>
                <th scope="col">Table or KPI</th>
                <th scope="col">Layer</th>
                <th scope="col">Reads</th>
              </tr>
            </thead>
            <tbody>
              {[...reads.keys()].sort().map((dataset) => (
                <tr key={dataset}>
                  <th scope="row">
                    <a href={lineageHref(dataset)}>{dataset}</a>
                  </th>
                  <td>{order.get(dataset)?.column ?? '–'}</td>
                  <td>{(reads.get(dataset) ?? []).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

function Glossary({ graph }: { graph: LineageGraphData }) {
  return (
    <section className="panel mb-6 p-4" aria-labelledby="glossary-title">
      <h2 id="glossary-title" className="mb-2 text-lg font-semibold">
        Glossary
      </h2>
      <dl className="glossary" data-testid="glossary">
        {graph.glossary.map((term) => (
          <div key={term.id} className="mb-3">
            <dt className="font-semibold">
              <a href={lineageHref(term.id)}>{term.term}</a>{' '}
              <span className="muted text-sm font-normal">
                ({term.kind}
                {term.unit ? `, ${term.unit}` : ''}
                {term.owner ? `, owner ${term.owner}` : ''})
              </span>
            </dt>
            <dd>
              {term.definition}{' '}
              <span className="muted text-sm">
                From {term.contractFields.length} contract field{term.contractFields.length === 1 ? '' : 's'}.
              </span>
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
