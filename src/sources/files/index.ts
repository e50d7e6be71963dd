export { FilesSource, globToRegExp, mappingFor, settleFile } from './drop-folder.js';
export type { FilesSourceOptions, MappingRule } from './drop-folder.js';
export { DeliveryFailed, formatOf, loadFile, LoadInterrupted } from './load-file.js';
export type { FileProgress, LoadFileOptions } from './load-file.js';
export { builtInMappings, findMapping } from './mapping.js';
export type { Mapping } from './mapping.js';
export { MappingReader } from './reader.js';
export { progressPrinter } from './progress.js';
export type { FileReport, QuarantineReason } from './report.js';
