import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gradspecAsync, mechanicsFixture } from './spawn-gradspec.ts';
import { MUTANTS, mutantAdapter } from '../adapters/mutants.ts';
import { PROPERTIES } from '../properties/index.ts';
import { shareOracles } from '../properties/gradient.ts';
import { loadFixtures } from './fixtures.ts';
import { runSuite, type Report } from './suite.ts';
import { OPS } from '../engine/ops.ts';
import { OP_NAMES } from '../spec/program.ts';
import { withoutOps } from '../adapters/testing/limited-engines.ts';

/*
 * The suite must catch broken engines. Each mutant breaks the reference engine in one place; the
 * whole suite (fixtures and properties) runs on it and must fail the clause the bug breaks, with
 * a shrunk counterexample for the properties that catch it.
 */
// Deep-graph fixtures (10^5 nodes) run in fixtures.test.ts; no suite here is about them, and they cost a second each run.
const fixtures = loadFixtures().filter(mechanicsFixture);
const cases = Object.entries(MUTANTS).map(([name, m]) => [m.breaks, name, m.description] as const);

/**
 * A whole-suite run costs seconds, so each mutant's suite runs once and the tests below ask
 * several things of that one run. The pow mutant's run is the gradspec command's: its --json file
 * is the same report, and its output is what the command test checks. The command starts with the
 * file and runs beside the in-process suites, so no test waits for all of it alone.
 */
const runs = new Map<string, Promise<Report>>();
let command: Promise<{ status: number | null; stdout: string; report: Report }> | undefined;
function throughCommand(): NonNullable<typeof command> {
  if (!command) {
    const json = join(mkdtempSync(join(tmpdir(), 'gradspec-mutation-')), 'report.json');
    command = gradspecAsync('check', '--engine', 'mutant:pow-exponent-2', '--runs', '20', '--json', json)
      .then((r) => ({ status: r.status, stdout: r.stdout, report: JSON.parse(readFileSync(json, 'utf8')) as Report }));
    command.catch(() => undefined); // a failure is reported by the tests that await it
  }
  return command;
}
function suiteOf(name: string): Promise<Report> {
  let run = runs.get(name);
  if (!run) {
    run = name === 'pow-exponent-2' ? throughCommand().then((c) => c.report) : runSuite(mutantAdapter(name)!, fixtures, { runs: 20, properties: PROPERTIES });
    runs.set(name, run);
  }
  return run;
}

describe('deliberately broken engines are caught', () => {
  // Every run below draws the same samples; their oracles (which never see the engine) are computed once.
  beforeAll(() => {
    shareOracles(true);
    void throughCommand();
  });
  afterAll(() => shareOracles(false));

  test.each(cases)('%s mutant %s (%s) fails its clause', async (clause, name) => {
    const report = await suiteOf(name);
    const failing = report.clauses.filter((c) => c.status === 'fail').map((c) => c.id);
    expect(failing).toContain(clause);
    // The first thing the report says is the bug itself; the other failures are explained by it.
    expect(report.rootCauses[0]?.clause).toBe(clause);
    for (const id of failing.filter((f) => f !== clause)) {
      expect(report.rootCauses.some((r) => r.clause === id || r.explains.includes(id))).toBe(true);
    }
    // Every failing property reports a shrunk program to reproduce it.
    for (const c of report.checks.filter((k) => k.kind === 'property' && k.status === 'fail')) {
      expect(c.message).toMatch(/shrunk program/);
      expect(c.message).toMatch(/seed \d+, path [\d:]+/);
    }
  });

  test('op.sin the sin mutant fails op.sin but not op.cos: failures land on the right clause', async () => {
    const report = await suiteOf('sin-rule');
    const status = (id: string) => report.clauses.find((c) => c.id === id)?.status;
    expect([status('op.sin'), status('op.cos'), status('op.tanh')]).toEqual(['fail', 'pass', 'pass']);
    const sin = report.checks.find((c) => c.id === 'gradient.op.sin')!;
    expect(sin.message).toMatch(/engine mutant:sin-rule vs the (symbolic|finite-difference) oracle/);
  });

  test('op.mul a wrong mul rule in an engine with only add, mul and sum is the first root cause, though every check multiplies', async () => {
    // The op properties weight their output by a tensor (t1 = t0 * w), so mul is in nearly every
    // program, passing or failing: being common must not set the real cause aside.
    const rule = OPS.mul.grads[1]!;
    const right = rule.vjp;
    rule.vjp = (g, s) => g.mul(s.other);
    try {
      const toy = withoutOps('toy', OP_NAMES.filter((o) => !['add', 'mul', 'sum'].includes(o)));
      const report = await runSuite(toy, fixtures, { runs: 20, properties: PROPERTIES });
      expect(report.rootCauses.map((r) => r.clause)).toEqual(['op.mul']);
      expect(report.clauses.filter((c) => c.status === 'fail').length).toBeGreaterThan(5);
    } finally {
      rule.vjp = right;
    }
  });

  test('op.pow gradspec check exits 1 on the pow mutant and prints the shrunk program as PyTorch code', async () => {
    const r = await throughCommand();
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n')[2]).toMatch(/^Root cause: op\.pow \(property gradient\.op\.pow\): .*\| .*\*\* /);
    expect(r.stdout).toMatch(/^ {2}replay: GRADSPEC_SEED=\d+ GRADSPEC_PATH=[\d:]+ npx gradspec check --engine mutant:pow-exponent-2 --only gradient\.op\.pow$/m);
    expect(r.stdout).toMatch(/^ {2}op\.pow +FAIL/m);
    expect(r.stdout).toMatch(/^ {2}op\.add +FAIL +\S+ +explained by op\.pow$/m);
    expect(r.stdout).toMatch(/FAIL op\.pow[ ,].* property gradient\.op\.pow failed/);
    expect(r.stdout).toMatch(/as PyTorch code:\n\s+import torch/);
  });
});
