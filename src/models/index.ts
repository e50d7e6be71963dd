export { loadModels, parseModel, MODELS_DIRECTORY } from './definition.js';
export type { Materialization, ModelDefinition } from './definition.js';
export { orderModels, downstreamOf } from './graph.js';
export { renderModel } from './template.js';
export { ModelRunner, SOURCES } from './runner.js';
export type { ModelRunResult, RunIdentity, RunObserver, RunOptions, RunResult } from './runner.js';
export { loadModelTests, runModelTests } from './model-tests.js';
export type { ModelTest, ModelTestResult, Severity } from './model-tests.js';
