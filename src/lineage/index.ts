export { deriveLineage, lineageOfSql } from './derive.js';
export type { DeriveOptions } from './derive.js';
export { LineageGraph } from './graph.js';
export type {
  Direction,
  GlossaryTerm,
  LineageEdge,
  LineageGraphData,
  LineageNode,
  LineageNodeKind,
  ModelEdge,
} from './graph.js';
export { queryLineage } from './columns.js';
export type { Lineage, LineageEnvironment, QueryLineage } from './columns.js';
export { impactOf } from './impact.js';
export type { ImpactAnswer } from './impact.js';
export { projectLineage } from './load.js';
export { OpenLineageEmitter } from './openlineage.js';
export type { EmitterContext, OpenLineageOptions, RunEvent } from './openlineage.js';
