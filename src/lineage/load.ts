import { createContractValidator } from '../contracts/index.js';
import { loadCatalogue } from '../kpis/index.js';
import { loadModels } from '../models/index.js';
import { deriveLineage } from './derive.js';
import type { LineageGraph } from './graph.js';

/** The lineage of Pulse's own models, KPI catalogue and contracts (derived once, on first use). */
export function projectLineage(): () => Promise<LineageGraph> {
  let graph: Promise<LineageGraph> | undefined;
  return () => {
    graph ??= deriveLineage({
      models: loadModels(),
      catalogue: loadCatalogue(),
      contracts: createContractValidator().schemas,
    });
    // A failure is not cached: the next caller tries again.
    graph.catch(() => {
      graph = undefined;
    });
    return graph;
  };
}
