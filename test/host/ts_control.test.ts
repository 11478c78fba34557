// A Xen 2.0 custom kernel sends its own control messages (k.control): ids from ctrl_if's table of
// eight, the response to onControlResponse, -EAGAIN on a full tx ring and onControlSpace when a slot
// frees; payloads over 60 bytes and control handlers on today's Xen are refused where written.
import { describe, expect, it, vi } from 'vitest';
import { TsScenario } from '../../src/host/ts_scenario.js';
import { ScenarioInputError } from '../../src/scenario/errors.js';
import { runScenario } from '../../src/scenario/runner.js';
import { ScriptError } from '../../src/scenario/script_kernel.js';

// The first TypeScript file a worker loads pays for the compiler (seconds on a busy machine): not a hang.
vi.setConfig({ testTimeout: 60_000 });

function scenario(kernelBody: string, xen = '2.0'): string {
  return `import { kernel, scenario } from 'xenlab';
const k = kernel('k', {
${kernelBody}
});
export default scenario({ name: 'c', xen: '${xen}', domains: [{ name: 'dom0' }, { name: 'g', kernel: k }], steps: [{ run: '5ms' }] });
`;
}

describe('k.control', () => {
  it('stamps the lowest free id on requests that want a response, 0xFF on the others; -EAGAIN on the 9th; space and responses later', async () => {
    const ts = await TsScenario.load(
      'c.ts',
      scenario(`  boot(k) {
    const ids = [];
    for (let i = 0; i < 9; i++) ids.push(k.control({ type: 'CMSG_CONSOLE', subtype: 'CMSG_CONSOLE_DATA', payload: 'm' + i + '\\n', reply: i !== 2 }));
    k.println('sent ' + JSON.stringify(ids));
  },
  onControlResponse(k, msg) { k.println('response id ' + msg.id + ' ' + msg.type_name + ' ' + String.fromCharCode(...msg.payload).trim()); },
  onControlSpace(k) { k.println('space'); },`),
    );
    try {
      const r = runScenario(ts.scenario, { kernels: ts.kernels() });
      const out = r.consoles.g!;
      // ids 0, 1, then 0xFF (no response wanted), then 2..6; the 9th finds the ring full.
      expect(out).toContain('sent [{"ret":0,"id":0},{"ret":0,"id":1},{"ret":0,"id":255},{"ret":0,"id":2},{"ret":0,"id":3},{"ret":0,"id":4},{"ret":0,"id":5},{"ret":0,"id":6},{"ret":-11,"id":-1}]');
      expect(out).toContain('response id 0 CMSG_CONSOLE m0\nresponse id 1 CMSG_CONSOLE m1\nresponse id 2 CMSG_CONSOLE m3\n');
      expect(out).not.toContain('m2\nresponse');
      expect(out).toContain('response id 6 CMSG_CONSOLE m7');
      expect(out.match(/^space$/gm)).toHaveLength(1);
    } finally {
      ts.dispose();
    }
  });

  it('refuses a payload of more than 60 bytes: the run stops at the line that sent it', async () => {
    const ts = await TsScenario.load('c.ts', scenario(`  boot(k) {
    k.control({ type: 'CMSG_CONSOLE', payload: 'x'.repeat(61) });
  },
  onControlSpace() {},`));
    try {
      expect(() => runScenario(ts.scenario, { kernels: ts.kernels() })).toThrow(ScriptError);
      expect(() => runScenario(ts.scenario, { kernels: ts.kernels() })).toThrow(/^c\.ts:4:\d+: RangeError: control\(msg\): a payload of 61 bytes; a control message holds 60/);
    } finally {
      ts.dispose();
    }
  });

  it('control handlers need Xen 2.0, said at the domain that boots the kernel', async () => {
    const err = await TsScenario.load('c.ts', scenario('  onControlResponse() {},', '4')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScenarioInputError);
    expect((err as ScenarioInputError).problems[0]).toMatchObject({ path: 'domains[1].kernel', message: 'kernel "k" has onControlResponse: control messages travel on Xen 2.0\'s control interface' });
  });
});
