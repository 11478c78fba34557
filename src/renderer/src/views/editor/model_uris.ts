/**
 * The editor's model URIs: monaco-yaml binds a schema to a model by its URI,
 * so a scenario and an exercise solution (steps only) have models of their own.
 * Apart from monaco.ts so that the view can name them without loading Monaco.
 */
export const SCENARIO_MODEL_URI = 'file:///scenario/scenario.yaml';
export const SOLUTION_MODEL_URI = 'file:///scenario/solution.yaml';
export const TYPESCRIPT_MODEL_URI = 'file:///scenario/scenario.ts';
