// Runs every example under scenarios/ through the built CLI (bin/xenlab.mjs, as a user would) and
// checks that, together, the examples exercise the whole step form: every op, every kind of step,
// and every error the step form can reach. Deleting an example that is the only one showing
// something makes the coverage test fail and name what went missing.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/xenlab.mjs');
const DIR = join(ROOT, 'scenarios');
const EXAMPLES = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** One step of `xenlab run --json`. */
interface JsonStep {
  index: number;
  line: number;
  /** The op's name for a hypercall, else the step's key. */
  action: string;
  label: string;
  ret?: string;
  out?: Record<string, unknown>;
  ok: boolean;
}

interface JsonRun {
  ok: boolean;
  name: string;
  failures: { line: number; message: string }[];
  steps: JsonStep[];
}

interface Outcome {
  code: number | null;
  stderr: string;
  json: JsonRun | undefined;
}

const runs = new Map<string, Outcome>();

/** Runs one example once (cached: the coverage tests reuse the per-file runs). */
function run(file: string): Outcome {
  let r = runs.get(file);
  if (r === undefined) {
    const p = spawnSync(process.execPath, [BIN, 'run', join('scenarios', file), '--json'], { cwd: ROOT, encoding: 'utf8' });
    let json: JsonRun | undefined;
    try {
      json = JSON.parse(p.stdout) as JsonRun;
    } catch {
      json = undefined;
    }
    r = { code: p.status, stderr: p.stderr, json };
    runs.set(file, r);
  }
  return r;
}

// ---- what the examples must cover, all together ----

const EVTCHN_OPS = [
  'alloc_unbound', 'bind_interdomain', 'bind_virq', 'bind_pirq', 'bind_ipi', 'close', 'send', 'status',
  'bind_vcpu', 'unmask', 'reset', 'reset_cont', 'init_control', 'expand_array', 'set_priority',
];
const GNTTAB_OPS = ['gnttab_map_grant_ref', 'gnttab_unmap_grant_ref', 'gnttab_setup_table', 'gnttab_query_size', 'gnttab_copy'];
const OTHER_OPS = ['set_periodic_timer', 'stop_periodic_timer', 'set_virq_handler'];
/** Ops only Xen 2.0.0's table has (hypercall_xen2.ts). */
const XEN2_ONLY_OPS = ['sched_shutdown'];
const STEP_KINDS = [
  'mask', 'clear_mask', 'upcall_mask', 'grant_access', 'end_access', 'check', 'run',
  'pause', 'unpause', 'shutdown', 'destroy', 'virq', 'pirq', 'type',
  'ring_init', 'ring_attach', 'ring_request', 'ring_respond', 'ring_push', 'ring_consume', 'ring_final_check',
  'until', 'fault',
];
/** What an until waits for, each fault, the timing keys and the final expect block's parts: read from the files. */
const UNTIL_CONDITIONS = ['console', 'port', 'xenbus', 'domain'];
const FAULTS = ['drop_notify', 'delay_notify', 'fill_ring ring', 'fill_ring console', 'stall console', 'stall xend'];
const TIMING = ['at', 'repeat', 'every'];
const FINAL_EXPECT = ['consoles', 'ports', 'counters', 'trace'];
const ERRNOS = ['ESRCH', 'EPERM', 'EINVAL', 'ENOENT', 'EEXIST', 'EBUSY', 'ENOSPC', 'ENOSYS', 'EOPNOTSUPP', 'EACCES'];
const GNTSTS = [
  'GNTST_bad_domain', 'GNTST_bad_gntref', 'GNTST_bad_handle', 'GNTST_general_error',
  'GNTST_permission_denied', 'GNTST_bad_copy_arg', 'GNTST_bad_page',
];

/**
 * Each op's (or step's) error paths the step form can reach, as Xen checks them
 * (reference sections 3, 4 and 13). An op with several causes of one errno
 * (close: invalid, reserved, free) is listed once; the examples show each cause.
 */
const ERRORS_BY_OP: Record<string, string[]> = {
  alloc_unbound: ['ESRCH', 'EPERM', 'ENOSPC'],
  bind_interdomain: ['ESRCH', 'ENOSPC', 'EINVAL'],
  bind_virq: ['EINVAL', 'ENOENT', 'EBUSY', 'EEXIST', 'ENOSPC'],
  bind_pirq: ['EINVAL', 'EPERM', 'EEXIST'],
  bind_ipi: ['ENOENT', 'ENOSPC'],
  close: ['EINVAL'],
  send: ['EINVAL'],
  status: ['ESRCH', 'EINVAL', 'EPERM'],
  bind_vcpu: ['ENOENT', 'EINVAL'],
  unmask: ['EINVAL'],
  reset: ['ESRCH', 'EPERM', 'EINVAL'],
  reset_cont: ['EBUSY'],
  init_control: ['ENOENT', 'EINVAL'],
  expand_array: ['EOPNOTSUPP', 'EINVAL'],
  set_priority: ['EINVAL', 'ENOSYS', 'EACCES'],
  gnttab_map_grant_ref: ['GNTST_bad_gntref', 'GNTST_bad_domain', 'GNTST_general_error', 'GNTST_bad_page'],
  gnttab_unmap_grant_ref: ['GNTST_bad_handle'],
  gnttab_setup_table: ['GNTST_bad_domain', 'GNTST_permission_denied', 'GNTST_general_error'],
  gnttab_query_size: ['GNTST_permission_denied'],
  gnttab_copy: ['GNTST_permission_denied', 'GNTST_bad_domain', 'GNTST_bad_copy_arg', 'GNTST_bad_page', 'GNTST_general_error'],
  set_periodic_timer: ['EINVAL', 'ENOENT'],
  stop_periodic_timer: ['ENOENT'],
  set_virq_handler: ['EPERM', 'EINVAL', 'ESRCH', 'EBUSY'],
  end_access: ['EINVAL'],
  unpause: ['EINVAL'],
  destroy: ['ESRCH'],
};


/** The errno or GNTST_ name a step returned, if it is an error. */
function errorOf(step: JsonStep): string | undefined {
  if (step.ret !== undefined && /^-E[A-Z0-9]+$/.test(step.ret)) return step.ret.slice(1);
  const status = step.out?.status;
  if (typeof status === 'string' && status.startsWith('GNTST_') && status !== 'GNTST_okay') return status;
  return undefined;
}

interface Coverage {
  kinds: Set<string>;
  errors: Set<string>;
  pairs: Set<string>;
}

function coverage(): Coverage {
  const c: Coverage = { kinds: new Set(), errors: new Set(), pairs: new Set() };
  for (const file of EXAMPLES) {
    const json = run(file).json;
    if (json === undefined) continue;
    for (const step of json.steps) {
      const kind = step.action;
      c.kinds.add(kind);
      const err = errorOf(step);
      if (err === undefined) continue;
      c.errors.add(err);
      c.pairs.add(`${kind} ${err}`);
    }
  }
  return c;
}

/** Asserts every item of `want` is in `have`, naming the missing ones in full. */
function expectCovered(what: string, want: readonly string[], have: ReadonlySet<string>): void {
  const gone = want.filter((x) => !have.has(x));
  expect(gone, `${what} no example exercises any more: ${gone.join(', ')}`).toEqual([]);
}

describe('the example scenarios', () => {
  it('are there: at least 16 of them', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(16);
  });

  it.each(EXAMPLES)('%s has a name and a description for students', (file) => {
    const doc = parse(readFileSync(join(DIR, file), 'utf8')) as { name?: unknown; description?: unknown };
    expect(typeof doc.name === 'string' && doc.name.length > 0, 'name').toBe(true);
    expect(typeof doc.description === 'string' && doc.description.trim().length > 40, 'description').toBe(true);
  });

  it.each(EXAMPLES)('%s runs with every expect and check holding', (file) => {
    const r = run(file);
    expect(r.stderr, 'stderr').toBe('');
    expect(r.json, 'the --json output').toBeDefined();
    expect(r.json!.failures, 'failures').toEqual([]);
    expect(r.json!.ok).toBe(true);
    expect(r.code).toBe(0);
    expect(r.json!.steps.every((s) => s.ok)).toBe(true);
  });
});

describe('together the examples cover the step form', { timeout: 120_000 }, () => {
  it('every op', () => {
    const c = coverage();
    expectCovered('ops', [...EVTCHN_OPS, ...GNTTAB_OPS, ...OTHER_OPS, ...XEN2_ONLY_OPS], c.kinds);
  });

  it('every kind of step', () => {
    const c = coverage();
    expectCovered('kinds of step', STEP_KINDS, c.kinds);
  });

  it('every errno the ops can return', () => {
    const c = coverage();
    expectCovered('errnos', ERRNOS, c.errors);
  });

  it('every GNTST_ error status', () => {
    const c = coverage();
    expectCovered('grant statuses', GNTSTS, c.errors);
  });

  it("each op's reachable error paths", () => {
    const c = coverage();
    const want = Object.entries(ERRORS_BY_OP).flatMap(([op, errs]) => errs.map((e) => `${op} ${e}`));
    expectCovered('error paths', want, c.pairs);
  });

  it('every until condition, fault, timing key and part of the final expect block', () => {
    const seen = new Set<string>();
    for (const file of EXAMPLES) {
      const doc = parse(readFileSync(join(DIR, file), 'utf8')) as { steps?: Record<string, unknown>[]; expect?: Record<string, unknown> };
      for (const step of doc.steps ?? []) {
        for (const k of TIMING) if (k in step) seen.add(k);
        const until = step.until as Record<string, unknown> | undefined;
        if (until !== undefined) for (const k of UNTIL_CONDITIONS) if (k in until) seen.add(`until ${k}`);
        const fault = step.fault as Record<string, Record<string, unknown>> | undefined;
        for (const [k, v] of Object.entries(fault ?? {})) {
          seen.add(k);
          if (k === 'fill_ring') seen.add(`fill_ring ${'ring' in v ? 'ring' : 'console'}`);
          if (k === 'stall') seen.add(`stall ${String(v.backend)}`);
        }
      }
      for (const k of Object.keys(doc.expect ?? {})) seen.add(`expect ${k}`);
    }
    expectCovered('waiting, faults and final expectations', [...UNTIL_CONDITIONS.map((c) => `until ${c}`), ...FAULTS, ...TIMING, ...FINAL_EXPECT.map((k) => `expect ${k}`)], seen);
  });

  it('the label parser recognises every step (no unknown kinds)', () => {
    const known = new Set([...EVTCHN_OPS, ...GNTTAB_OPS, ...OTHER_OPS, ...XEN2_ONLY_OPS, ...STEP_KINDS]);
    expect([...coverage().kinds].filter((k) => !known.has(k))).toEqual([]);
  });
});
