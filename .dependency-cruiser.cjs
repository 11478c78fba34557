// Layer rules from DESIGN.md, checked by `npm run check:layers` (dependency-cruiser).
//
//   core ← scenario ← host ← {cli, main, web}; contract is shared by host, main, preload, renderer, web.
//
//   src/core      → src/core only (no Node.js builtins, no npm packages)
//   src/scenario  → core, npm packages in "dependencies" (yaml); no Node.js builtins
//   src/host      → scenario, core, contract (+ Node.js, npm)
//   src/cli       → host, scenario, core (+ Node.js, npm)
//   src/main      → host, contract (+ electron, Node.js)
//   src/preload   → contract, electron; nothing else (a sandboxed preload has no Node.js)
//   src/renderer  → contract, core/abi, core/sim/filter*.ts (+ bundled npm UI libraries); no Node.js, no electron
//   src/web       → host, contract (+ Node.js, npm)
//   src/contract  → src/contract only (types shared by host and UI)
//
// Type-only imports count too (tsPreCompilationDeps): a layer must not even know another's types.

/** A path regex for "anywhere under src/ except these layers". */
function srcExcept(...layers) {
  return `^src/(?!(?:${layers.join('|')})/)`;
}

/** A rule forbidding imports from `layer` into any src/ layer not listed in `allowed`. */
function layerRule(layer, allowed, comment) {
  return {
    name: `${layer}-layer`,
    severity: 'error',
    comment,
    from: { path: `^src/${layer}/` },
    to: { path: srcExcept(layer, ...allowed) },
  };
}

// 'electron' resolves into node_modules; Electron's own 'electron/main', 'electron/renderer', ...
// exist only inside Electron, so they stay unresolved and are matched by name.
const ELECTRON = ['^node_modules/electron/', '^electron/(?:main|renderer|common|utility)$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      severity: 'error',
      comment:
        'src/core is pure TypeScript: it imports only other src/core modules; no Node.js builtins, no npm packages, no electron (DESIGN.md).',
      from: { path: '^src/core/' },
      to: { pathNot: '^src/core/' },
    },
    layerRule('scenario', ['core'], 'src/scenario builds on src/core only (file access belongs in src/host).'),
    {
      name: 'scenario-no-node',
      severity: 'error',
      comment: 'src/scenario runs anywhere the core runs: no Node.js builtins (file access belongs in src/host).',
      from: { path: '^src/scenario/' },
      to: { dependencyTypes: ['core'] },
    },
    layerRule('host', ['scenario', 'core', 'contract'], 'src/host may use scenario, core and contract.'),
    layerRule('cli', ['host', 'scenario', 'core'], 'src/cli may use host, scenario and core.'),
    layerRule('main', ['host', 'contract'], 'src/main (Electron main) may use host and contract; the lab itself lives in src/host.'),
    layerRule('web', ['host', 'contract'], 'src/web may use host and contract.'),
    {
      name: 'renderer-layer',
      severity: 'error',
      comment:
        'src/renderer may use contract and the core/abi tables, and src/core/sim/filter*.ts: the trace filter language is a pure module the UI needs to check a filter as it is typed. Everything else goes through the contract.',
      from: { path: '^src/renderer/' },
      to: { path: '^src/(?!(?:renderer|contract|core/abi)/|core/sim/filter[^/]*\\.ts$)' },
    },
    {
      name: 'renderer-no-node',
      severity: 'error',
      comment: 'src/renderer runs in a sandboxed page (and in a plain browser for web mode): no Node.js builtins.',
      from: { path: '^src/renderer/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'electron-only-in-main-and-preload',
      severity: 'error',
      comment:
        'Only src/main and src/preload may import electron; the renderer talks through window.xenlab, everything else must run without Electron (CLI, web mode, tests).',
      from: { path: '^src/', pathNot: '^src/(?:main|preload)/' },
      to: { path: ELECTRON },
    },
    {
      name: 'preload-is-thin',
      severity: 'error',
      comment:
        'src/preload runs sandboxed: it may import src/contract and electron only (no Node.js builtins, no other npm packages).',
      from: { path: '^src/preload/' },
      to: { pathNot: ['^src/(?:preload|contract)/', ...ELECTRON] },
    },
    {
      name: 'contract-is-self-contained',
      severity: 'error',
      comment: 'src/contract holds the host/UI message types and depends on nothing outside itself.',
      from: { path: '^src/contract/' },
      to: { pathNot: '^src/contract/' },
    },
    {
      name: 'runtime-code-uses-dependencies',
      severity: 'error',
      comment:
        'The CLI bundle (and the packaged app) load npm packages at run time from "dependencies"; a devDependency would be missing there. Type-only imports are fine.',
      from: { path: '^src/(?:core|scenario|host|cli|web|contract)/' },
      to: { dependencyTypes: ['npm-dev', 'npm-optional', 'npm-peer'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-in-package-json',
      severity: 'error',
      comment: 'This npm package is not in package.json: add it with npm install --save-exact.',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'This import does not resolve to a file or package.',
      from: {},
      to: { couldNotResolve: true, pathNot: ELECTRON[1] },
    },
    {
      name: 'core-no-runtime-cycles',
      severity: 'error',
      comment:
        'A cycle of value imports inside src/core (modules initialising each other). Cycles that go through an `import type` are fine.',
      from: { path: '^src/core/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/.*\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
