/**
 * The desktop lab's shared-memory inspector and explain panel, host side:
 * pure functions over the simulated machine (docs/inspector.md).
 */
export { inspectDomain, type InspectOptions } from './inspect.js';
export { portStatus } from './port_status.js';
export { explainPort } from './explain.js';
export { traceStoreLookback, type TraceLookback } from './trace_lookback.js';
