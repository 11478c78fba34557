// ESLint flat config (eslint 10, typescript-eslint 8).
//
//  - every file: @eslint/js recommended + typescript-eslint recommended
//  - TypeScript files: the type-aware recommended rules, using the layer tsconfigs
//  - src/**: no insecure Electron options in object literals
//  - src/core/**: no Node/Electron imports, no ambient I/O or nondeterminism (DESIGN.md: core is pure)
//
// Layer arrows (who may import whom) are checked by dependency-cruiser: npm run check:layers.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Electron settings that turn a security feature off: [option, its safe value, what the unsafe value does].
 * Anywhere in src/, writing the unsafe literal is an error; in src/main/ (where windows are made)
 * the option must be written as its safe literal, so a variable cannot switch it off either.
 */
const electronSecurityOptions = [
  ['nodeIntegration', false, 'gives the page Node.js'],
  ['nodeIntegrationInWorker', false, 'gives web workers Node.js'],
  ['nodeIntegrationInSubFrames', false, 'gives subframes Node.js'],
  ['contextIsolation', true, 'lets the page reach the preload scope'],
  ['sandbox', true, 'takes the renderer out of the OS sandbox'],
  ['webSecurity', true, 'turns off the same-origin policy'],
  ['allowRunningInsecureContent', false, 'lets https pages run http scripts'],
  ['experimentalFeatures', false, 'turns on untested Chromium features'],
  ['webviewTag', false, 'allows <webview>'],
  ['bypassCSP', false, "lets a custom scheme's pages ignore the Content-Security-Policy"],
];
const settingsHint = 'XenLab windows use the settings in src/main/security.ts (contextIsolation, sandbox, webSecurity on; Node.js off).';
const optionKey = (name) => `ObjectExpression > Property:matches([key.name='${name}'], [key.value='${name}'])`;

const insecureElectronOptions = electronSecurityOptions.map(([name, safe, why]) => ({
  selector: `${optionKey(name)}[value.type='Literal'][value.value=${!safe}]`,
  message: `Electron security: '${name}: ${!safe}' ${why}. ${settingsHint}`,
}));
insecureElectronOptions.push(
  {
    selector: optionKey('enableRemoteModule'),
    message: "Electron security: 'enableRemoteModule' (the remote module) is gone and must not come back; use the contract over IPC.",
  },
  {
    selector: optionKey('enableBlinkFeatures'),
    message: "Electron security: 'enableBlinkFeatures' turns on Chromium features the checklist keeps off.",
  },
  {
    selector:
      "CallExpression[callee.property.name='appendSwitch'] > Literal:first-child[value=/^(?:no-sandbox|disable-web-security|ignore-certificate-errors|disable-site-isolation-trials|allow-running-insecure-content|remote-debugging-port|inspect.*)$/]",
    message: 'Electron security: this command-line switch turns off a protection of the app (sandbox, web security, certificates, debugging port).',
  },
);

/** src/main only: the security options only as their safe literals, and no file:// page. */
const mainOnlyElectronRules = [
  ...electronSecurityOptions.map(([name, safe]) => ({
    selector: `${optionKey(name)}:not([value.type='Literal'][value.value=${safe}])`,
    message: `Electron security: write '${name}: ${safe}' as that literal (a computed value could turn it off). ${settingsHint}`,
  })),
  {
    selector: "CallExpression[callee.property.name='loadFile']",
    message: 'The page is served from app://xenlab (src/main/app_protocol.ts), never from file:// (loadFile).',
  },
];

const coreMessage = 'src/core is pure TypeScript (DESIGN.md): no Node.js, DOM or Electron.';
const coreRestrictedImports = {
  paths: ['fs', 'fs/promises', 'path', 'os', 'child_process', 'worker_threads', 'electron'].map((name) => ({
    name,
    message: coreMessage,
  })),
  patterns: [
    { group: ['node:*'], message: coreMessage },
    { group: ['electron/*'], message: coreMessage },
  ],
};

const coreRestrictedGlobals = [
  ['window', 'the DOM'],
  ['document', 'the DOM'],
  ['self', 'the DOM'],
  ['navigator', 'the DOM'],
  ['process', 'Node.js; pass what core needs in as a parameter'],
  ['require', 'Node.js; use an import of another src/core module'],
  ['global', 'Node.js'],
  ['Buffer', 'Node.js; use Uint8Array'],
  ['__dirname', 'Node.js'],
  ['__filename', 'Node.js'],
  ['setTimeout', 'real time; schedule on the virtual clock (src/core/sim)'],
  ['setInterval', 'real time; schedule on the virtual clock (src/core/sim)'],
  ['setImmediate', 'real time; schedule on the virtual clock (src/core/sim)'],
  ['performance', 'real time; use the virtual clock (src/core/sim)'],
  ['crypto', 'nondeterministic; use the seeded PRNG (src/core/sim/prng.ts)'],
].map(([name, why]) => ({ name, message: `src/core must not use '${name}': ${why}.` }));

const coreRestrictedProperties = [
  { object: 'Date', property: 'now', message: 'src/core must be deterministic: use the virtual clock, not Date.now().' },
  {
    object: 'Math',
    property: 'random',
    message: 'src/core must be deterministic: use the seeded PRNG (src/core/sim/prng.ts), not Math.random().',
  },
];

const coreRestrictedSyntax = [
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'src/core must be deterministic: new Date() reads the wall clock; use the virtual clock.',
  },
  {
    selector: 'ImportExpression',
    message: 'src/core loads no modules at run time: use a static import of another src/core module.',
  },
];

export default defineConfig(
  // test/cli/broken-ts/ holds deliberately broken TypeScript scenarios (syntax errors included).
  globalIgnores(['out/', 'dist/', 'release/', 'coverage/', 'node_modules/', '.vite/', 'test/cli/broken-ts/']),

  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Every TypeScript file belongs to one of these (the first that holds it is used).
        project: ['./tsconfig.core.json', './tsconfig.json', './tsconfig.node.json', './tsconfig.web.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Unused arguments and `_`-prefixed names are fine (handler signatures, destructuring).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'none', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Template literals with numbers are the norm in trace and error messages.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // Noise here: after `v !== null` TypeScript narrows `unknown` to `{}`, and messages that
      // describe a found value (String(v)) trip it. restrict-template-expressions still catches
      // objects in template literals.
      '@typescript-eslint/no-base-to-string': 'off',
      // Noise here: with noUncheckedIndexedAccess, `a[i]!` is everywhere and TypeScript sometimes
      // narrows on its own (after `a[i] = ...`); the leftover `!` is harmless.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    // JavaScript files (bin/, config files) run in Node and are not in a tsconfig: no type-aware rules.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },

  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...insecureElectronOptions],
    },
  },
  {
    files: ['src/main/**/*.ts'],
    rules: {
      // Repeats the src/** selectors: a later no-restricted-syntax replaces an earlier one.
      'no-restricted-syntax': ['error', ...insecureElectronOptions, ...mainOnlyElectronRules],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', coreRestrictedImports],
      'no-restricted-globals': ['error', ...coreRestrictedGlobals],
      'no-restricted-properties': ['error', ...coreRestrictedProperties],
      // Repeats the src/** selectors: a later no-restricted-syntax replaces an earlier one.
      'no-restricted-syntax': ['error', ...insecureElectronOptions, ...coreRestrictedSyntax],
    },
  },
);
