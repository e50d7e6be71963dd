import { PulseError } from '../../errors.js';
import { impactOf, projectLineage, type LineageNode } from '../../lineage/index.js';
import { parseFlags } from '../args.js';

export const LINEAGE_USAGE = `pulse lineage NODE [--upstream] [--json] | pulse lineage --glossary [--json]
  What depends on NODE (a column table.column, a table, a contract field event.type.field or a KPI),
  or with --upstream what it is computed from; --glossary lists the KPIs, measures and components.`;

const KIND_LABEL: Record<LineageNode['kind'], string> = {
  contract_field: 'contract fields',
  bronze_field: 'bronze payload fields',
  column: 'columns',
  kpi: 'KPIs',
  measure: 'KPI measures',
  component: 'KPI components',
};

export async function runLineage(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      upstream: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      glossary: { type: 'boolean', default: false },
    },
    true,
  );
  if (values.glossary ? positionals.length > 0 : positionals.length !== 1) {
    throw new PulseError(
      'PULSE_ERR_USAGE',
      values.glossary
        ? '--glossary takes no NODE'
        : 'give exactly one NODE, e.g. silver_order_lines.discount',
      { field: 'NODE' },
    );
  }
  const graph = await projectLineage()();
  if (values.glossary) {
    if (values.json) process.stdout.write(`${JSON.stringify(graph.data.glossary, null, 2)}\n`);
    else {
      for (const term of graph.data.glossary) {
        process.stdout.write(`${term.id} (${term.kind}): ${term.term}\n  ${term.definition}\n`);
        process.stdout.write(`  from: ${term.contractFields.join(', ')}\n`);
      }
    }
    return 0;
  }
  const id = positionals[0] as string;
  if (id.length > 256)
    throw new PulseError('PULSE_ERR_USAGE', 'NODE is longer than 256 characters', { field: 'NODE' });
  let answer;
  try {
    answer = impactOf(graph, id, values.upstream ? 'upstream' : 'downstream');
  } catch (error) {
    if (error instanceof PulseError)
      throw new PulseError('PULSE_ERR_USAGE', error.message, { field: 'NODE' });
    throw error;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${answer.direction} of ${id}: ${answer.nodes.length} nodes\n`);
  for (const kind of Object.keys(KIND_LABEL) as LineageNode['kind'][]) {
    const nodes = answer.nodes.filter((node) => node.kind === kind);
    if (nodes.length === 0) continue;
    process.stdout.write(`${KIND_LABEL[kind]}:\n`);
    for (const node of nodes) process.stdout.write(`  ${node.id}\n`);
  }
  return 0;
}
