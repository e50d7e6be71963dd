import type { ModelDefinition } from './definition.js';

/**
 * Orders models so that each runs after everything it refs. Every problem (a ref to a missing
 * model, a cycle) is collected and reported together.
 */
export function orderModels(
  models: readonly ModelDefinition[],
  knownSources: readonly string[],
): ModelDefinition[] {
  const byName = new Map(models.map((model) => [model.name, model]));
  const problems: string[] = [];
  for (const model of models) {
    for (const ref of model.refs) {
      if (!byName.has(ref)) problems.push(`${model.name} refs unknown model "${ref}"`);
    }
    for (const source of model.sources) {
      if (!knownSources.includes(source)) problems.push(`${model.name} reads unknown source "${source}"`);
    }
  }
  const ordered: ModelDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (model: ModelDefinition, path: string[]): void => {
    const seen = state.get(model.name);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      problems.push(`cycle: ${[...path, model.name].join(' -> ')}`);
      return;
    }
    state.set(model.name, 'visiting');
    for (const ref of model.refs) {
      const upstream = byName.get(ref);
      if (upstream && upstream !== model) visit(upstream, [...path, model.name]);
    }
    state.set(model.name, 'done');
    ordered.push(model);
  };
  for (const model of models) visit(model, []);
  if (problems.length > 0) throw new Error(`the model graph is invalid:\n  - ${problems.join('\n  - ')}`);
  return ordered;
}

/** The models downstream of `names` (inclusive), in run order. */
export function downstreamOf(ordered: readonly ModelDefinition[], names: ReadonlySet<string>): Set<string> {
  const affected = new Set(names);
  for (const model of ordered) {
    if (model.refs.some((ref) => affected.has(ref))) affected.add(model.name);
  }
  return affected;
}
