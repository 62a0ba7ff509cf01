import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { gradspec, mechanicsFixture } from './spawn-gradspec.ts';
import { mutantAdapter } from '../adapters/mutants.ts';
import { referenceAdapter } from '../adapters/reference/index.ts';
import type { Adapter } from '../adapters/types.ts';
import { loadDeviations } from './deviations.ts';
import { loadFixtures } from './fixtures.ts';
import { conforms } from './report.ts';
import { reportJunit } from './junit.ts';
import { OP_PROPERTIES } from '../properties/ops.ts';
import { mergeReports, runSuite } from './suite.ts';

// Deep-graph fixtures (10^5 nodes) run in fixtures.test.ts; no suite here is about them, and they cost a second each run.
const fixtures = loadFixtures().filter(mechanicsFixture);
const tmp = mkdtempSync(join(tmpdir(), 'gradspec-'));

describe('gradspec check', () => {
  test('program.observations checks that need a feature the engine lacks are not applicable, never passes', async () => {
    const functional: Adapter = { ...referenceAdapter, name: 'no-state', capabilities: { ...referenceAdapter.capabilities, features: ['errors'] } };
    // The fixtures carry the features; a few properties are enough to show theirs are n/a too.
    const report = await runSuite(functional, fixtures, { runs: 5, properties: OP_PROPERTIES.slice(0, 8) });
    const status = (id: string) => report.clauses.find((c) => c.id === id)!;
    expect(status('backward.accumulate').status).toBe('not-applicable');
    expect(status('backward.accumulate').reason).toMatch(/needs .*accumulate/);
    expect(status('mode.no-grad').status).toBe('not-applicable');
    expect(report.summary.checksNotApplicable).toBeGreaterThan(50);
    expect(report.checks.filter((c) => c.status === 'not-applicable').every((c) => (c.missing ?? []).length > 0)).toBe(true);
  });

  test('graph.grad-fn a listed deviation is reported as a deviation, and an entry that matches nothing as stale', async () => {
    const file = join(tmp, 'mutant.deviations.json');
    writeFileSync(file, JSON.stringify({ deviations: [
      { clause: 'graph.grad-fn', reason: 'prints the older MeanBackward1 name' },
      { clause: 'op.sin', reason: 'nothing is wrong with sin here' },
    ] }));
    const report = await runSuite(mutantAdapter('old-mean-name')!, fixtures, { runs: 5, properties: OP_PROPERTIES.slice(0, 8), deviations: loadDeviations(file) });
    expect(report.clauses.find((c) => c.id === 'graph.grad-fn')).toMatchObject({ status: 'deviation', reason: 'prints the older MeanBackward1 name' });
    expect(report.staleDeviations.map((d) => d.clause)).toEqual(['op.sin']);
    expect(conforms(report)).toBe(false);
    writeFileSync(file, JSON.stringify({ deviations: [{ clause: 'no.such-clause', reason: 'x' }] }));
    expect(() => loadDeviations(file)).toThrow(/no.such-clause' is not a clause id/);
  });

  test('program.observations shards split the suite exactly and merge into the unsharded report', async () => {
    const properties = OP_PROPERTIES.slice(0, 8);
    const full = await runSuite(mutantAdapter('sin-rule')!, fixtures, { runs: 10, properties });
    const shards = await Promise.all([1, 2, 3].map((index) => runSuite(mutantAdapter('sin-rule')!, fixtures, { runs: 10, properties, shard: { index, count: 3 } })));
    expect(shards.map((s) => s.checks.length).reduce((a, b) => a + b)).toBe(full.checks.length);
    const merged = mergeReports(shards);
    expect(merged.clauses).toEqual(full.clauses);
    expect(merged.summary).toEqual(full.summary);
    expect(() => mergeReports([full, { ...full, seed: 1 }])).toThrow(/different runs/);
  });

  test('program.observations the JUnit report has one test case per checked clause and per property', async () => {
    const report = await runSuite(mutantAdapter('sin-rule')!, fixtures, { runs: 10, properties: OP_PROPERTIES.slice(0, 8) });
    const xml = reportJunit(report);
    const cases = [...xml.matchAll(/<testcase classname="gradspec\.mutant:sin-rule\.(clauses|properties)" name="([^"]+)">/g)];
    expect(cases.filter((c) => c[1] === 'clauses')).toHaveLength(report.clauses.filter((c) => c.status !== 'unchecked').length);
    expect(cases.filter((c) => c[1] === 'properties')).toHaveLength(report.checks.filter((c) => c.kind === 'property').length);
    expect(xml).toMatch(/<testcase classname="gradspec.mutant:sin-rule.clauses" name="op.sin"><failure/);
    expect(xml).not.toMatch(/<testcase classname="gradspec.mutant:sin-rule.clauses" name="op.cos"><failure/);
  });

  test('program.observations exit 2 with a clear message for an engine that cannot start, and for an unknown option', () => {
    const dies = gradspec('check', '--engine', `${process.execPath} -e "process.exit(3)"`, '--runs', '1');
    expect(dies.status).toBe(2);
    expect(dies.stderr).toMatch(/cannot open engine .*: the engine process exited/);
    const garbage = gradspec('check', '--engine', `${process.execPath} -e "console.log('hello there')"`, '--runs', '1');
    expect(garbage.status).toBe(2);
    expect(garbage.stderr).toMatch(/not a protocol message: hello there/);
    expect(gradspec('check', '--no-such-option').status).toBe(2);
  });

  test('program.schema gradspec run prints a program\'s observations, and refuses an invalid program with its JSON path', () => {
    const good = join(tmp, 'one-step.json');
    writeFileSync(good, JSON.stringify(fixtures.find((f) => f.fixture.id === 'document.one-step')!.fixture.program));
    const r = gradspec('run', good);
    expect(r.status).toBe(0);
    const observed = JSON.parse(r.stdout) as { observations: { label: string; value: number }[] };
    expect(observed.observations.find((o) => o.label === 'x.grad')?.value).toBe(93);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ id: 'bad', steps: [{ let: 'y', op: 'exp', args: ['x'] }] }));
    const refused = gradspec('run', bad);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/bad\.json: \/steps\/0\/args\/0/);
  });

  test('op.sin several engines give the matrix: a row per clause, Markdown and a self-contained HTML page, unavailable engines reported', () => {
    const [md, page] = [join(tmp, 'matrix.md'), join(tmp, 'matrix.html')];
    // An engine that starts and dies is reported in its column (a mistyped name is a usage error).
    const dies = `${process.execPath} -e "process.exit(3)"`;
    // Two clauses' checks are enough for the matrix's form (--only by clause id).
    const r = gradspec('check', '--engine', `reference,mutant:sin-rule,${dies}`, '--only', 'op.sin,op.cos', '--runs', '5', '--markdown', md, '--html', page);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^op\.sin +pass +FAIL +- *$/m);
    expect(r.stdout).toMatch(/process\.exit\(3\)": cannot open engine/);
    const table = readFileSync(md, 'utf8');
    expect(table).toMatch(/^\| clause \| reference 0\.1\.0 \| mutant:sin-rule 0\.1\.0 \| .*process\.exit\(3\)" \|$/m);
    expect(table).toMatch(/^\| `op\.sin` \| pass \| FAIL: (root cause; )?\d+ failing/m);
    const html = readFileSync(page, 'utf8');
    expect(html).toMatch(/<td class="fail"><b>FAIL<\/b><details><summary>/);
    expect(html).not.toMatch(/<(script|link)\b/); // self-contained
  });

  test('op.pow a broken out-of-process engine (pow rule wrong) fails op.pow with a shrunk repro, and --json writes the report', () => {
    const json = join(tmp, 'report.json');
    const r = gradspec('check', '--engine', `${process.execPath} --import tsx adapters/serve.ts mutant:pow-exponent-2`, '--only', 'gradient.op.pow', '--runs', '20', '--json', json);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^ {2}op\.pow +FAIL/m);
    expect(r.stdout).toMatch(/property gradient\.op\.pow failed on engine mutant:pow-exponent-2[\s\S]*shrunk program[\s\S]*as PyTorch code/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { engine: { name: string }; clauses: { id: string; status: string }[] };
    expect(report.engine.name).toBe('mutant:pow-exponent-2');
    expect(report.clauses.find((c) => c.id === 'op.pow')?.status).toBe('fail');
  });
});
