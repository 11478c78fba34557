// Waiting and timing steps: `until` (a console line, a port state, a XenbusState, a lifecycle state,
// with a timeout that says what was seen instead), and the `at`, `repeat` and `every` modifiers on
// any step. Each runs through the checker and the Execution, as `xenlab run` does.
import { describe, expect, it } from 'vitest';
import { ScenarioInputError, type Problem } from '../../src/scenario/errors.js';
import { Execution } from '../../src/scenario/execution.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const MS = 1e6;

const PLAN9 = `name: p
xen: "2.0"
domains:
  - name: dom0
  - name: plan9
    kernel: plan9
steps:
`;

const MINIOS = `name: m
domains:
  - name: dom0
  - name: mini
    kernel: minios
    devices:
      block: [ { sectors: 16 } ]
  - name: plain
steps:
`;

const PLAIN = `name: d
domains:
  - name: dom0
  - name: guest
steps:
`;

function run(head: string, steps: string) {
  return runScenario(loadScenario('s.yaml', head + steps));
}

function problems(text: string): Problem[] {
  try {
    loadScenario('s.yaml', text);
  } catch (e) {
    if (e instanceof ScenarioInputError) return e.problems;
    throw e;
  }
  throw new Error('expected the scenario to be refused');
}

describe('until: a console line', () => {
  it('waits, event by event, until a line of new output contains the text, and reports the line and the wait', () => {
    const r = run(PLAN9, '  - until: { console: { domain: plan9, contains: "root is from" } }\n  - check: { domain: plan9, console: "root is from" }\n');
    expect(r.failures).toEqual([]);
    const u = r.steps[0]!;
    expect(u.action).toBe('until');
    expect(u.out!.line).toBe('root is from (local, tcp)[local]: ');
    const waited = u.out!.waited as number;
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThan(5 * MS);
    // The check after it runs at the moment the line arrived.
    expect(r.steps[1]!.t).toBe(waited);
  });

  it('reads as expect does: output from before the step is found, and what one until matched the next does not find again', () => {
    const r = run(PLAN9, '  - run: 5ms\n  - until: { console: { domain: plan9, contains: "root is from" }, timeout: 20ms }\n  - until: { console: { domain: plan9, contains: "root is from" }, timeout: 20ms }\n');
    expect(r.ok).toBe(false);
    expect(r.failures).toHaveLength(1);
    expect(r.steps[1]!.out).toEqual({ waited: 0, line: 'root is from (local, tcp)[local]: ' });
    expect(r.failures[0]).toMatchObject({ line: 10, path: 'steps[2].until.console' });
    expect(r.failures[0]!.message).toBe('plan9\'s console showed no line containing "root is from"; it printed nothing more (waited 20ms, the timeout)');
    // A timeout runs the clock on by exactly the timeout.
    expect(r.hv.now).toBe(25 * MS);
  });

  it('matches a regular expression against whole lines, the line in progress included (a prompt has no line end)', () => {
    const r = run(PLAN9, '  - until: { console: { domain: plan9, matches: "^root is from .*: $" } }\n  - type: { domain: plan9, text: "local\\r" }\n  - until: { console: { domain: plan9, matches: "^term% $" } }\n');
    expect(r.failures).toEqual([]);
    expect(r.steps[2]!.out!.line).toBe('term% ');
  });

  it("watches dom0's shell too", () => {
    const r = run(MINIOS, '  - type: { domain: dom0, text: "xl list\\r" }\n  - until: { console: { domain: dom0, matches: "^mini +1 " }, timeout: 1ms }\n');
    expect(r.failures).toEqual([]);
  });

  it('a console that never shows the line: the message names the last line it did show', () => {
    const r = run(MINIOS, '  - type: { domain: mini, text: "help\\r" }\n  - until: { console: { domain: mini, contains: "no such command" }, timeout: 5ms }\n');
    expect(r.failures[0]!.message).toMatch(/^mini's console showed no line containing "no such command"; its last line: "minios> " \(waited 5ms, the timeout\)$/);
  });
});

describe('until: a port, a XenbusState, a lifecycle state', () => {
  it('waits for a masked VIRQ_TIMER port to go pending at the first tick', () => {
    const r = run(
      PLAIN,
      `  - { as: guest, op: bind_virq, args: { virq: VIRQ_TIMER, vcpu: 0 }, save: { port: t } }
  - { as: guest, mask: $t }
  - until: { port: { domain: guest, port: $t, pending: true } }
  - { check: { domain: guest, port: $t, pending: true, masked: true, delivered: 0 } }
`,
    );
    expect(r.failures).toEqual([]);
    expect(r.steps[2]!.out!.waited).toBe(10 * MS); // the 100 Hz periodic timer
  });

  it('a port that never gets there: what it has instead', () => {
    const r = run(PLAIN, '  - { as: guest, op: bind_ipi, args: { vcpu: 0 }, save: { port: p } }\n  - until: { port: { domain: guest, port: $p, delivered: 1 }, timeout: 2ms }\n');
    expect(r.failures[0]!.message).toBe('port 1 of guest never reached delivered 1; it has delivered 0 (state ipi, pending false, masked false) (waited 2ms, the timeout)');
  });

  it("a vbd's frontend and backend reach XenbusStateConnected; by path too; a state never reached names the one it is in", () => {
    const r = run(
      MINIOS,
      `  - until: { xenbus: { domain: mini, device: vbd, state: Connected } }
  - until: { xenbus: { domain: mini, device: vbd, end: backend, state: XenbusStateConnected } }
  - until: { xenbus: { path: /local/domain/1/device/vbd/51712, state: Connected }, timeout: 1ms }
  - until: { xenbus: { domain: mini, device: vbd, state: Closing }, timeout: 1ms }
`,
    );
    expect(r.failures.map((f) => f.path)).toEqual(['steps[3].until.xenbus']);
    expect(r.failures[0]!.message).toBe('/local/domain/1/device/vbd/51712/state never reached XenbusStateClosing; it is XenbusStateConnected (waited 1ms, the timeout)');
    expect(r.steps[0]!.out!.waited).toBeGreaterThan(0);
  });

  it('a domain shut down by the toolstack is reaped: shutdown, then destroyed', () => {
    const r = run(PLAN9, '  - run: 5ms\n  - shutdown: plan9\n  - until: { domain: plan9, state: shutdown, timeout: 50ms }\n  - until: { domain: plan9, state: destroyed, timeout: 50ms }\n');
    expect(r.failures).toEqual([]);
    const [shut, gone] = [r.steps[2]!.out!.waited as number, r.steps[3]!.out!.waited as number];
    expect(shut).toBeGreaterThan(0);
    expect(gone).toBeGreaterThanOrEqual(0);
  });

  it('a lifecycle state never reached says the state the domain is in', () => {
    const r = run(PLAIN, '  - pause: guest\n  - until: { domain: guest, state: running, timeout: 1ms }\n');
    expect(r.failures[0]!.message).toBe('guest never reached running; it is paused (waited 1ms, the timeout)');
  });
});

describe('at, repeat and every', () => {
  it('at runs the clock on to an absolute time first, delivering what is due, and the step happens then', () => {
    const r = run(PLAIN, '  - { as: guest, op: bind_virq, args: { virq: VIRQ_TIMER, vcpu: 0 }, save: { port: t } }\n  - { check: { domain: guest, port: $t, delivered: 3 }, at: 35ms }\n');
    expect(r.failures).toEqual([]);
    expect(r.steps[1]!.t).toBe(35 * MS);
    expect(r.hv.now).toBe(35 * MS);
  });

  it('repeat with every: one result per repetition, every apart, each with its number', () => {
    const r = run(PLAIN, '  - { as: guest, op: bind_ipi, args: { vcpu: 0 }, save: { port: p } }\n  - { as: guest, op: send, args: { port: $p }, repeat: 3, every: 1ms }\n  - run: 1ms\n  - { check: { domain: guest, port: $p, delivered: 3 } }\n');
    expect(r.failures).toEqual([]);
    const sends = r.steps.filter((s) => s.index === 1);
    expect(sends.map((s) => [s.t, s.repetition])).toEqual([
      [0, 1],
      [1 * MS, 2],
      [2 * MS, 3],
    ]);
  });

  it('repeat without every: the repetitions follow each other at once (events coalesce)', () => {
    const r = run(PLAIN, '  - { as: guest, op: bind_ipi, args: { vcpu: 0 }, save: { port: p } }\n  - { as: guest, op: send, args: { port: $p }, repeat: 4 }\n  - run: 1ms\n  - { check: { domain: guest, port: $p, delivered: 1 } }\n');
    expect(r.failures).toEqual([]);
    expect(r.steps.filter((s) => s.index === 1).map((s) => s.t)).toEqual([0, 0, 0, 0]);
  });

  it('a repetition due while the one before still waits starts late, and says so', () => {
    const r = run(PLAIN, '  - { run: 3ms, repeat: 2, every: 1ms }\n');
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatchObject({ path: 'steps[0].every', message: 'repetition 2 was due at 1ms, but the one before ended at 3ms; it happened then' });
    expect(r.hv.now).toBe(6 * MS);
  });

  it('an at that an until made late fails when it runs, and the step still happens', () => {
    const r = run(PLAN9, '  - until: { console: { domain: plan9, contains: "never" }, timeout: 10ms }\n  - { check: { domain: plan9, console: "Plan 9" }, at: 4ms }\n');
    expect(r.failures.map((f) => [f.path, f.message])).toContainEqual(['steps[1].at', 'at 4ms is in the past: the clock was at 10ms when this step came (a step before it ran later than that); it happened then']);
    expect(r.steps[1]!.t).toBe(10 * MS);
  });

  it('an until with repeat waits again each time', () => {
    const r = run(PLAIN, '  - { as: guest, op: bind_virq, args: { virq: VIRQ_TIMER, vcpu: 0 }, save: { port: t } }\n  - { until: { port: { domain: guest, port: $t, pending: true } }, repeat: 2 }\n');
    expect(r.failures).toEqual([]);
  });
});

describe('the Execution around a waiting step', () => {
  it('an until ends with its own unit right after the event that made it hold', () => {
    const e = new Execution(loadScenario('s.yaml', `${PLAN9}  - until: { console: { domain: plan9, contains: "root is from" } }\n`));
    let events = 0;
    for (;;) {
      const u = e.next();
      if (u.kind === 'step') break;
      expect(u.kind).toBe('event');
      expect(e.waitingStep).toBe(0);
      events++;
    }
    expect(events).toBeGreaterThan(0);
    expect(e.scriptDone).toBe(true);
    expect(e.result().steps[0]!.out!.waited).toBe(e.now);
  });

  it('runUntilTime stops an at-step short of its time, and takes it once the time comes', () => {
    const e = new Execution(loadScenario('s.yaml', `${PLAIN}  - { run: 1ms, at: 10ms }\n`));
    e.runUntilTime(9 * MS);
    expect(e.stepIndex).toBe(0);
    expect(e.now).toBeLessThanOrEqual(9 * MS);
    e.runUntilTime(11 * MS);
    expect(e.scriptDone).toBe(true);
    expect(e.now).toBe(11 * MS);
  });
});

describe('the checker on until, at, repeat and every', () => {
  const at = (text: string) => problems(`${MINIOS}${text}`).map((p) => [p.path, p.message, p.hint]);

  it('refuses a bad regular expression, at its value', () => {
    expect(at('  - until: { console: { domain: mini, matches: "(unclosed" } }\n')[0]!.slice(0, 2)).toEqual(['steps[0].until.console.matches', 'not a regular expression: /(unclosed/: Unterminated group']);
  });

  it('refuses an until without a condition, or with two', () => {
    expect(at('  - until: { timeout: 1ms }\n')[0]![1]).toMatch(/^until needs a condition to wait for/);
    expect(at('  - until: { domain: mini, state: running, console: { domain: mini, contains: x } }\n')[0]![1]).toBe('until waits for one condition, found console and domain');
  });

  it('says where a timeout belongs when it is written beside until', () => {
    expect(at('  - { until: { domain: mini, state: running }, timeout: 1ms }\n')[0]!.slice(0, 2)).toEqual(['steps[0].timeout', 'timeout belongs inside until, beside its condition']);
  });

  it('refuses repeat 0, a negative every, and every without repeat', () => {
    expect(at('  - { run: 1ms, repeat: 0 }\n')[0]!.slice(0, 2)).toEqual(['steps[0].repeat', 'expected a number of repetitions from 1 to 1000000, found 0']);
    expect(at('  - { run: 1ms, repeat: 2, every: -1ms }\n')[0]![0]).toBe('steps[0].every');
    expect(at('  - { run: 1ms, every: 1ms }\n')[0]!.slice(0, 2)).toEqual(['steps[0].every', 'every needs repeat: how many times to do the step']);
  });

  it('refuses an at before the time the steps before it must reach', () => {
    expect(at('  - run: 10ms\n  - { run: 1ms, repeat: 2, every: 5ms }\n  - { check: { domain: mini, console: x }, at: 15ms }\n')[0]!).toEqual(['steps[2].at', 'at 15ms is in the past: the steps before it run the clock to 16ms at least', 'make it 16ms or later']);
  });

  it('refuses a device the guest does not have, and xenbus on Xen 2.0', () => {
    expect(at('  - until: { xenbus: { domain: mini, device: vif, state: Connected } }\n')[0]).toEqual(['steps[0].until.xenbus.device', 'mini has no vif 0: it has 0 network interfaces', 'add devices: { network: [ {} ] } to mini']);
    expect(problems(`${PLAN9}  - until: { xenbus: { path: /local/domain/1/device/vbd/51712, state: Connected } }\n`)[0]!.message).toMatch(/^unknown key "xenbus" in until|XenbusStates live in xenstore/);
  });

  it('suggests the lifecycle state or XenbusState a misspelling meant', () => {
    expect(at('  - until: { domain: mini, state: shutdwn }\n')[0]![2]).toBe('did you mean "shutdown"?');
    expect(at('  - until: { xenbus: { domain: mini, device: vbd, state: Conected } }\n')[0]![2]).toBe('did you mean "Connected"?');
  });
});
