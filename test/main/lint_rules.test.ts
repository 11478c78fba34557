/**
 * The lint rule that forbids dangerous Electron options in source (eslint.config.js), run through
 * ESLint with the project's own configuration on sample code (type-aware rules off: the samples
 * belong to no tsconfig). No Electron here.
 */
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({
  cwd: new URL('../..', import.meta.url).pathname,
  overrideConfig: [{ files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked }],
});

async function electronProblems(code: string, file = 'src/main/sample.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax' || m.fatal).map((m) => m.message);
}

describe('the Electron lint rule', { timeout: 60_000 }, () => {
  it.each([
    'nodeIntegration: true',
    'nodeIntegrationInWorker: true',
    'nodeIntegrationInSubFrames: true',
    'contextIsolation: false',
    'sandbox: false',
    'webSecurity: false',
    'allowRunningInsecureContent: true',
    'experimentalFeatures: true',
    'webviewTag: true',
    "'contextIsolation': false",
    'enableRemoteModule: false',
    "enableBlinkFeatures: 'CSSColorSchemeUARendering'",
    'bypassCSP: true',
  ])('refuses `%s` anywhere in src/', async (option) => {
    for (const file of ['src/main/sample.ts', 'src/host/sample.ts']) {
      const problems = await electronProblems(`export const prefs = { ${option} };\n`, file);
      expect(problems.length, file).toBeGreaterThan(0);
      expect(problems[0]).toMatch(/^Electron security: /);
    }
  });

  it.each(['nodeIntegration: allowNode', 'sandbox: !debugging', 'contextIsolation: isolate', 'webSecurity: undefined'])(
    'refuses `%s` in src/main (only the safe literal is allowed there)',
    async (option) => {
      expect(await electronProblems(`declare const allowNode: boolean, debugging: boolean, isolate: boolean;\nexport const prefs = { ${option} };\n`)).toEqual([
        expect.stringMatching(/^Electron security: write '\w+: (true|false)' as that literal/),
      ]);
    },
  );

  it('refuses switches that turn protections off, and loadFile in src/main', async () => {
    expect(await electronProblems("declare const app: any;\napp.commandLine.appendSwitch('no-sandbox');\n")).toHaveLength(1);
    expect(await electronProblems("declare const app: any;\napp.commandLine.appendSwitch('disable-web-security');\n")).toHaveLength(1);
    expect(await electronProblems("declare const win: any;\nvoid win.loadFile('index.html');\n")).toHaveLength(1);
  });

  it('accepts the safe settings, and unrelated code that looks alike', async () => {
    expect(
      await electronProblems(
        'export const prefs = { contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false, bypassCSP: false };\n' +
          'export function f({ sandbox }: { sandbox: boolean }) { return sandbox; }\n' +
          "declare const app: any;\napp.commandLine.appendSwitch('lang', 'en-US');\n",
      ),
    ).toEqual([]);
  });

  it('passes the real main process and preload', async () => {
    const results = await eslint.lintFiles(['src/main/**/*.ts', 'src/preload/**/*.ts']);
    expect(results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => `${r.filePath}: ${m.message}`))).toEqual([]);
  });
});
