export {
  loadCatalogue,
  CUSTOMER_DIMENSIONS,
  DIMENSIONS,
  CATALOGUE_FILE,
  isCustomerDimension,
} from './catalogue.js';
export type { Catalogue, Dimension, KpiDefinition, KpiKind, Measure } from './catalogue.js';
export { compileMeasureQuery, compileSnapshotQuery, kpiInputs, SERIES_GRAINS } from './compile.js';
export type { CompiledQuery, MeasureQuery, SeriesGrain } from './compile.js';
export { KpiEngine } from './engine.js';
export type { KpiRequest } from './engine.js';
export { formatMoney, heldAnswer } from './answer.js';
export type { HoldLookup, KpiAnswer, KpiPoint, QualityHold } from './answer.js';
export { resolveNamedWindow, startOfBusinessDay, offsetMs, NAMED_WINDOWS } from './windows.js';
export type { NamedWindow, TimeWindow } from './windows.js';
export { KpiSnapshot } from './snapshot.js';
export { LiveKpis, liveKey } from './live.js';
export type { LiveListener, LiveValue } from './live.js';
export { LIVE_WINDOWS } from './live-compile.js';
export { seasonalNaive, forecastKpi, FORECAST_GRAINS, FORECAST_SEASONS, Z_80 } from './forecast.js';
export type { ForecastGrain, ForecastPoint } from './forecast.js';
export { compileDrillQuery, DRILL_MAX_LIMIT } from './drill.js';
