// The job worker from its TypeScript source (the CLI, browser mode and the tests run from
// source; the desktop build runs jobWorker.js directly). A worker thread inherits no module
// hooks from its parent, and `--import tsx` in a worker's execArgv is not applied on Node 20, so
// the worker registers tsx itself, resolved from this project, then loads the real entry.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./jobWorker.ts', import.meta.url).href);
