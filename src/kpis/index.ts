export { loadCatalogue, DIMENSIONS, CATALOGUE_FILE } from './catalogue.js';
export type { Catalogue, Dimension, KpiDefinition, KpiKind, Measure } from './catalogue.js';
export { compileMeasureQuery, compileSnapshotQuery, kpiInputs, SERIES_GRAINS } from './compile.js';
export type { CompiledQuery, MeasureQuery, SeriesGrain } from './compile.js';
export { KpiEngine, formatMoney } from './engine.js';
export type { KpiAnswer, KpiPoint, KpiRequest } from './engine.js';
export { resolveNamedWindow, startOfBusinessDay, offsetMs, NAMED_WINDOWS } from './windows.js';
export type { NamedWindow, TimeWindow } from './windows.js';
export { KpiSnapshot } from './snapshot.js';
