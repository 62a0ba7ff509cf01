import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { CLAUSES } from '../spec/clauses.ts';
import { isEngineClause } from './exercise.ts';

/**
 * conformance() in an engine's own vitest run: a vitest run of cli/testing/*.conformance.ts (the
 * reference engine, a mutant, a known deviation, a required n/a clause, an engine that supports
 * nothing), read back from vitest's JSON report and the skip notes and annotations it leaves out.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const VITEST = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const ENGINE_CLAUSES = CLAUSES.filter(isEngineClause).length;

interface JsonTest { ancestorTitles: string[]; title: string; status: 'passed' | 'failed' | 'skipped'; failureMessages: string[] }
let tests: JsonTest[] = [];
let notes: Record<string, { state: string; note?: string; annotations: string[] }> = {};
let run: { status: number | null; output: string };

/** The tests of one conformance() call (its describe block), by title. */
const suite = (engine: string) => new Map(tests.filter((t) => t.ancestorTitles[0] === `gradspec ${engine}`).map((t) => [t.title, t]));
const counts = (engine: string) => {
  const out = { passed: 0, failed: 0, skipped: 0 };
  for (const t of suite(engine).values()) out[t.status]++;
  return out;
};
const titled = (engine: string, id: string) => [...suite(engine).values()].find((t) => t.title.startsWith(`${id} `))!;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'gradspec-vitest-'));
  // The inner run is a run of its own, not a worker of this one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  const r = spawnSync(process.execPath, [VITEST, 'run', '--config', 'cli/testing/vitest.config.ts'], {
    cwd: ROOT, encoding: 'utf8', timeout: 60_000,
    env: { ...env, GRADSPEC_VITEST_JSON: join(dir, 'report.json'), GRADSPEC_VITEST_NOTES: join(dir, 'notes.json') },
  });
  run = { status: r.status, output: `${r.stdout}${r.stderr}` };
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { testResults: { assertionResults: JsonTest[] }[] };
  tests = report.testResults.flatMap((f) => f.assertionResults);
  notes = JSON.parse(readFileSync(join(dir, 'notes.json'), 'utf8')) as typeof notes;
}, 60_000);

describe('conformance(), gradspec in an engine\'s vitest run', () => {
  test('program.observations one test per engine clause, titled with its id and title, and one that something was checked; the run fails', () => {
    expect(run.status, run.output).toBe(1);
    for (const engine of ['reference', 'mutant:old-mean-name', 'mutant:pow-exponent-2', 'no-inplace', 'supports-nothing']) {
      expect(suite(engine).size).toBe(ENGINE_CLAUSES + 1);
    }
    expect(suite('reference').has('op.pow pow')).toBe(true);
    expect(suite('reference').has('graph.grad-fn grad_fn names')).toBe(true);
    expect(suite('reference').get('gradspec: something was checked')?.status).toBe('passed');
  });

  test('program.observations the reference engine passes what it checked, and the clauses a partial run left out are skipped with why', () => {
    const { passed, failed, skipped } = counts('reference');
    expect(failed).toBe(0);
    expect(passed).toBeGreaterThan(2);
    expect(passed + skipped).toBe(ENGINE_CLAUSES + 1);
    expect(titled('reference', 'op.pow').status).toBe('passed');
    expect(notes['gradspec reference > tensor.create Creating tensors']).toEqual({
      state: 'skipped', note: 'not checked by this run: no check of this run cites it (a partial run, with only)', annotations: [],
    });
  });

  test('program.observations a mutant fails the clause it breaks, with a message that starts with the root cause and its replay line, then the failing check', () => {
    expect(counts('mutant:pow-exponent-2')).toEqual({ ...counts('reference'), passed: counts('reference').passed - 1, failed: 1 });
    const message = titled('mutant:pow-exponent-2', 'op.pow').failureMessages[0]!;
    expect(message).toMatch(/^Error: Root cause: op\.pow \(fixture spec\.op\.pow\): a\.grad with number operands added value: element 0: expected /);
    expect(message).toContain('\n  replay: npx gradspec check --engine mutant:pow-exponent-2 --only spec.op.pow\n');
    expect(message).toMatch(/\nop\.pow: 1 failing check\nFAIL fixture spec\.op\.pow \(fixtures\/spec\/op\.pow\.json\)\n  a\.grad with number operands added value/);
    expect(message).toContain('reproduce with PyTorch:');
  });

  test('program.observations a known deviation passes with its reason as a note', () => {
    expect(counts('mutant:old-mean-name').failed).toBe(0);
    expect(notes['gradspec mutant:old-mean-name > graph.grad-fn grad_fn names']).toEqual({
      state: 'passed', annotations: ['known deviation: prints the older MeanBackward1 name'],
    });
  });

  test('program.observations an n/a clause is skipped with the reason, and fails with it when required; a run that checked nothing fails', () => {
    expect(counts('no-inplace')).toEqual({ ...counts('reference'), passed: counts('reference').passed - 1, failed: 1 });
    expect(titled('no-inplace', 'inplace.version-counter').failureMessages[0]).toMatch(/^Error: required clause inplace\.version-counter was not checked: needs inplace/);
    expect(counts('supports-nothing')).toEqual({ passed: 0, failed: 1, skipped: ENGINE_CLAUSES });
    expect(notes['gradspec supports-nothing > op.pow pow']).toMatchObject({ state: 'skipped', note: expect.stringMatching(/^n\/a: /) });
    expect(suite('supports-nothing').get('gradspec: something was checked')!.failureMessages[0]).toMatch(/^Error: nothing was checked/);
  });
});
