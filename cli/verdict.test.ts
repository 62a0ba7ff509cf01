import { describe, expect, test } from 'vitest';
import { gradspec, gradspecFromSources, mechanicsFixture } from './spawn-gradspec.ts';
import { crashesOn, dropsDeclared, supportsNothing, withoutFields, withoutOps } from '../adapters/testing/limited-engines.ts';
import { OP_PROPERTIES } from '../properties/ops.ts';
import { DTYPE_PROPERTIES } from '../properties/dtypes.ts';
import { referenceAdapter } from '../adapters/reference/index.ts';
import { mutantAdapter } from '../adapters/mutants.ts';
import { checkProperty } from '../properties/property.ts';
import { formatReport } from './report.ts';
import { compareObservations } from '../oracles/observations.ts';
import { traceProgram } from './exercise.ts';
import { featuresOf } from './needs.ts';
import { loadFixtures } from './fixtures.ts';
import { exitCode, unmetRequirements } from './report.ts';
import { runSuite } from './suite.ts';
import { rankRootCauses } from './root-cause.ts';
import type { CheckResult, ClauseResult } from './suite.ts';
import type { Program } from '../spec/program.ts';

/*
 * A clause passes only when a check exercised it on the engine: engines that honestly lack a
 * field, an op or everything get "not applicable" with the reason, never "pass", and a run that
 * checked nothing is never green.
 */
// Deep-graph fixtures (10^5 nodes) run in fixtures.test.ts; no suite here is about them, and they cost a second each run.
const fixtures = loadFixtures().filter(mechanicsFixture);
const clause = (report: Awaited<ReturnType<typeof runSuite>>, id: string) => report.clauses.find((c) => c.id === id)!;

describe('verdicts rest on what was exercised', () => {
  test('dtype.promotion a property failing only on a dtype fails its own clause, and the run is red, not dropped', async () => {
    // Integer results reported as float64: a wrong dtype and nothing else, as an engine that always promotes to float would report.
    const floaty = {
      ...referenceAdapter, name: 'floaty',
      run: async (programs: Parameters<typeof referenceAdapter.run>[0]) => (await referenceAdapter.run(programs)).map((o) => ({
        ...o, observations: o.observations.map((x) => (x.dtype === 'int64' ? { ...x, dtype: 'float64' as const } : x)),
      })),
    };
    const promotion = DTYPE_PROPERTIES.filter((p) => p.id === 'dtype.promotion');
    const report = await runSuite(floaty, [], { runs: 50, properties: promotion });
    expect(clause(report, 'dtype.promotion').status).toBe('fail');
    expect(report.checks.find((c) => c.id === 'dtype.promotion')!.message).toMatch(/^dtype\.promotion[ ,]/);
    expect(exitCode(report)).toBe(1);
    // The invariant behind it: every failed check fails at least one clause of the table.
    for (const c of report.checks.filter((k) => k.status === 'fail')) {
      expect(report.clauses.some((r) => r.status === 'fail' && r.failures.some((f) => f.id === c.id))).toBe(true);
    }
  });

  test('graph.grad-fn an engine that reports no gradFn, repr or nextFunctions gets n/a for their clauses, not pass', async () => {
    const report = await runSuite(withoutFields('no-names', ['gradFn', 'repr', 'nextFunctions']), fixtures);
    for (const [id, field] of [['graph.grad-fn', 'gradFn'], ['tensor.repr', 'repr'], ['graph.next-functions', 'nextFunctions']] as const) {
      expect(clause(report, id)).toMatchObject({ status: 'not-applicable', exercised: 0 });
      expect(clause(report, id).reason).toMatch(new RegExp(`^needs field ${field}`));
    }
    // Everything else it does report is still judged.
    expect(clause(report, 'op.add').status).toBe('pass');
    expect(exitCode(report)).toBe(0);
  });

  test('op.matmul an engine without matmul gets n/a for op.matmul, though shape-error fixtures citing it ran and passed', async () => {
    const report = await runSuite(withoutOps('no-matmul', ['matmul']), fixtures);
    const matmul = clause(report, 'op.matmul');
    expect(matmul).toMatchObject({ status: 'not-applicable', exercised: 0 });
    expect(matmul.reason).toMatch(/^needs op matmul \(\d+ citing checks? ran without exercising it; \d+ were n\/a: not supported by no-matmul: matmul\)$/);
    const ranCiting = report.checks.filter((c) => c.clauses.includes('op.matmul') && c.status === 'pass');
    expect(ranCiting.length).toBeGreaterThan(0); // the incidental citations that used to make it pass
    expect(clause(report, 'op.broadcast').status).toBe('pass');
  });

  test('op.matmul the reference engine exercises op.matmul, and the count says how many checks did', async () => {
    const report = await runSuite(withoutFields('reference-all', []), fixtures);
    const matmul = clause(report, 'op.matmul');
    expect(matmul.status).toBe('pass');
    expect(matmul.exercised).toBeGreaterThan(0);
    expect(matmul.exercised).toBeLessThan(matmul.checks);
    expect(report.summary.checked).toBe(report.summary.passed);
    expect(unmetRequirements(report, ['op.*', 'grad.*'])).toEqual([]);
    expect(unmetRequirements(report, ['oracles.symbolic'])).toEqual([{ clause: 'oracles.symbolic', why: 'a clause about gradspec itself, not checked on engines' }]);
  });

  test('errors.class an engine that supports nothing checks nothing: every clause n/a, exit 2, never green', async () => {
    const report = await runSuite(supportsNothing, fixtures);
    expect(report.summary).toMatchObject({ checked: 0, passed: 0, failed: 0 });
    expect(exitCode(report)).toBe(2);
    const r = gradspecFromSources('check', '--engine', 'adapters/testing/supports-nothing.ts', '--only', 'document.one-step');
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/NOTHING CHECKED/);
    expect(r.stdout).toMatch(/^0 of \d+ engine clauses checked/m);
    expect(r.stderr).toMatch(/nothing was checked/);
  });

  test('op.matmul --require fails a run that left a required clause unchecked, and refuses a pattern that names no clause', () => {
    const incidental = fixtures.find((f) => f.fixture.clauses.includes('op.matmul') && !JSON.stringify(f.fixture.program).includes('"matmul"'))!;
    const r = gradspecFromSources('check', '--engine', 'adapters/testing/no-matmul.ts', '--only', incidental.fixture.id, '--require', 'op.mat*');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/required clause op\.matmul was not checked: needs op matmul/);
    const typo = gradspec('check', '--only', incidental.fixture.id, '--require', 'op.matmull');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/unknown clause 'op\.matmull' \(did you mean 'op\.matmul'\?\)/);
  });

  test('errors.class a step after the expected error never ran: its op is not exercised, the failing step is', () => {
    const program = {
      id: 't', steps: [
        { let: 'a', tensor: [1, 2] }, { let: 'b', tensor: [1, 2, 3] },
        { let: 'c', op: 'add' as const, args: ['a', 'b'] }, { let: 'd', op: 'matmul' as const, args: ['a', 'a'] },
      ],
    };
    const atoms = traceProgram(program, { step: '2', category: 'shape-mismatch', message: 'x' });
    expect([...atoms]).toEqual(expect.arrayContaining(['op:add', 'broadcast', 'error:shape-mismatch']));
    expect(atoms.has('op:matmul')).toBe(false);
    expect(traceProgram(program, null).has('op:matmul')).toBe(true);
  });

  test('backward.accumulate a program that indexes with a .grad, or writes through a view, needs the feature that step reads', () => {
    const steps = (items: unknown[]) => ({ id: 'p', steps: [
      { let: 'x', tensor: [1, 2], requiresGrad: true }, { let: 'y', op: 'mul', args: ['x', 1] },
      { let: 'v', op: 'index', args: ['y'], attrs: { items } },
    ] } as Program);
    expect(featuresOf(steps([{ ref: 'x.grad' }])).has('accumulate')).toBe(true);
    expect(featuresOf(steps([{ ref: 'x' }, 0])).has('accumulate')).toBe(false);
    const write = steps([0]);
    write.steps.push({ inplace: 'indexPut_', target: 'v', args: [1], attrs: { items: [] } });
    expect(featuresOf(write).has('inplace')).toBe(true);
  });

  test('views.alias an in-place op through select or a basic index exercises view-inplace; through an advanced index (a copy) it does not', () => {
    const run = (op: 'select' | 'index', attrs: object) => traceProgram({
      id: 'p', steps: [
        { let: 'x', tensor: [1, 2], requiresGrad: true }, { let: 'i', tensor: [0], dtype: 'int64' }, { let: 'y', op: 'mul', args: ['x', 1] },
        { let: 'v', op, args: ['y'], attrs }, { inplace: 'mul_', target: 'v', args: [2] },
      ],
    } as Program, null).has('view-inplace');
    expect(run('select', { dim: 0, index: 1 })).toBe(true);
    expect(run('index', { items: [{ start: 1 }, '...', null] })).toBe(true);
    expect(run('index', { items: [{ ref: 'i' }] })).toBe(false);
    expect(run('index', { items: [[0, 1]] })).toBe(false);
  });

  test('graph.grad-fn an engine that declares gradFn but leaves it out fails graph.grad-fn, and the report says the field is declared but not reported', async () => {
    const report = await runSuite(dropsDeclared('mute', ['gradFn']), fixtures);
    expect(clause(report, 'graph.grad-fn').status).toBe('fail');
    expect(report.rootCauses[0]?.clause).toBe('graph.grad-fn');
    expect(report.rootCauses).toHaveLength(1);
    expect(formatReport(report)).toMatch(/^Declared but not reported: the engine declares field gradFn in its capabilities/m);
  });

  test('op.sigmoid an engine fault inside a property is reported with the program it faulted on and a replay line that replays it', async () => {
    const engine = crashesOn('crashy', 'sigmoid');
    const sigmoid = OP_PROPERTIES.find((p) => p.id === 'gradient.op.sigmoid')!;
    const report = await runSuite(engine, [], { runs: 20, properties: [sigmoid], engine: 'crashy-cmd --flag' });
    const check = report.checks[0]!;
    expect(check.status).toBe('fault');
    expect(clause(report, 'op.sigmoid').status).toBe('fault');
    expect(check.repro).toMatch(/torch\.sigmoid|\.sigmoid\(\)/);
    expect(check.replay).toMatch(/^GRADSPEC_SEED=\d+ GRADSPEC_PATH=\d+ npx gradspec check --engine 'crashy-cmd --flag' --only gradient\.op\.sigmoid$/);
    const path = /GRADSPEC_PATH=(\d+)/.exec(check.replay!)![1]!;
    const again = await checkProperty(sigmoid, engine, { seed: report.seed, numRuns: 20, path });
    expect(again.status).toBe('fault');
    expect(formatReport(report)).toMatch(/^Engine fault: gradient\.op\.sigmoid: engine fault: crashy crashed on sigmoid$/m);
  });

  test('tensor.item an item() or 0-d value answered as a list of one number is a mismatch, not a pass', () => {
    const expected = { observations: [{ label: 'v', value: 3 }], error: null };
    expect(compareObservations(expected, { observations: [{ label: 'v', value: [3] }], error: null }, ['value'])[0]?.detail).toBe('expected a number, got a list');
    expect(compareObservations(expected, { observations: [{ label: 'v', value: 3 }], error: null }, ['value'])).toEqual([]);
  });

  test('op.relu.kink a -0 is compared with its sign in a value, not in a gradient, whose zero sign the spec leaves open', () => {
    const expected = { observations: [{ label: 'y', value: '-0' as const }, { label: 'x.grad', value: '-0' as const }], error: null };
    const got = (y: 0 | '-0', g: 0 | '-0') => ({ observations: [{ label: 'y', value: y }, { label: 'x.grad', value: g }], error: null });
    const gradients = new Set(['x.grad']);
    expect(compareObservations(expected, got('-0', 0), ['value'], true, gradients)).toEqual([]);
    expect(compareObservations(expected, got(0, '-0'), ['value'], true, gradients).map((m) => m.label)).toEqual(['y']);
  });

  test('op.dims causes the evidence cannot tell apart are led by the one the failing check is about, not by spec order', () => {
    // A reshape check that also passes a dim: op.dims comes first in the spec, op.reshape first in the check.
    const check = {
      kind: 'property', id: 'gradient.op.reshape', position: 0, file: 'properties', clauses: ['op.reshape', 'op.dims'], status: 'fail',
      mismatches: [], exercised: ['op.reshape', 'op.dims'], atoms: ['op:reshape', 'dim-arg', 'backward'], failing: ['op.reshape', 'op.dims'],
      notes: [], repro: 'x = torch.ones(2)', message: 'FAIL\n  wrong',
    } as unknown as CheckResult;
    const clauses = ['op.reshape', 'op.dims'].map((id) => ({ id, status: 'fail', checks: 1, exercised: 1, failures: [] })) as unknown as ClauseResult[];
    const [cause] = rankRootCauses([check], clauses);
    expect(cause).toMatchObject({ clause: 'op.reshape', or: ['op.dims'] });
  });

  test('op.pow a run too small to tell causes apart names them all, rather than letting the spec order pick one', async () => {
    const polynomial = (await import('../properties/compositions.ts')).polynomialGradient;
    const report = await runSuite(mutantAdapter('pow-exponent-2')!, [], { runs: 20, properties: [polynomial] });
    const [cause] = report.rootCauses;
    expect(report.rootCauses).toHaveLength(1);
    expect([cause!.clause, ...(cause!.or ?? [])]).toEqual(expect.arrayContaining(['op.pow']));
    expect(cause!.or?.length).toBeGreaterThan(0);
    expect(formatReport(report)).toMatch(/^Root cause: \S+ \(or [^)]*: the failures cannot tell them apart\)/m);
  });
});

describe('a wrong grad_fn name', () => {
  test('op.reshape a reshape that records ViewBackward0 fails op.reshape, whose clause names ReshapeAliasBackward0, not only graph.grad-fn', async () => {
    const misnaming = {
      ...referenceAdapter,
      name: 'misnamed-reshape',
      run: async (programs: Program[]) => (await referenceAdapter.run(programs)).map((o) => ({
        ...o,
        observations: o.observations.map((x) => (x.gradFn === 'ReshapeAliasBackward0' ? { ...x, gradFn: 'ViewBackward0', repr: x.repr?.replace('ReshapeAliasBackward0', 'ViewBackward0') } : x)),
      })),
    };
    const report = await runSuite(misnaming, fixtures.filter((f) => f.fixture.clauses.includes('op.reshape')));
    expect(clause(report, 'op.reshape').status).toBe('fail');
    expect(clause(report, 'graph.grad-fn').status).toBe('fail');
  });
});
