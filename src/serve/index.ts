export { buildApp } from './app.js';
export type { ServeOptions } from './app.js';
