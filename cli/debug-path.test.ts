import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { gradspec } from './spawn-gradspec.ts';
import { engineNames, EngineNotFound, resolveEngine } from '../adapters/index.ts';
import { mutantAdapter } from '../adapters/mutants.ts';
import { referenceAdapter } from '../adapters/reference/index.ts';
import { OP_PROPERTIES } from '../properties/ops.ts';
import { DeviationsError, loadDeviations } from './deviations.ts';
import { loadFixtures } from './fixtures.ts';
import { junit } from './junit.ts';
import { checkShards } from './shards.ts';
import { runSuite } from './suite.ts';
import { checkOutput, integer, readJson, splitEngines, unknownOnly, UsageError } from './usage.ts';

// Every mistake on the debugging path is one clear line and exit 2, never a stack trace and
// never an output silently not written. Most are checked on the functions; a few through the CLI.
const tmp = mkdtempSync(join(tmpdir(), 'gradspec-debug-'));
const fixtures = loadFixtures();
const sinFixtures = fixtures.filter((f) => f.fixture.clauses.join() === 'op.sin').slice(0, 3);
const sinProperty = OP_PROPERTIES.filter((p) => p.id === 'gradient.op.sin');
const write = (name: string, text: string) => {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
};
/** The one-line usage error a call throws (an Error of the given class). */
const problem = (f: () => unknown, kind: new (...a: never[]) => Error = Error): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    expect((e as Error).message).not.toMatch(/\n/);
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('deviations files', () => {
  test('program.observations a --deviations file that does not exist is an error; the default file may be absent', () => {
    expect(problem(() => loadDeviations(join(tmp, 'missing.json'), { required: true }), DeviationsError)).toMatch(/--deviations: no such file: .*missing\.json/);
    expect(loadDeviations(join(tmp, 'missing.json'))).toEqual([]);
  });

  test('program.observations a malformed deviations file names the file and the JSON path, with a did-you-mean', () => {
    const cases: [string, RegExp][] = [
      ['{', /bad\.json: not valid JSON/],
      ['[]', /bad\.json: \(root\) must be object/],
      ['{"deviations":{}}', /bad\.json: \/deviations must be array/],
      ['{"deviation":[]}', /unknown key 'deviation' \(did you mean 'deviations'\?\)/],
      ['{"deviations":[{"clause":"op.sin","reson":"x"}]}', /\/deviations\/0 must have required property 'reason'.*unknown key 'reson' \(did you mean 'reason'\?\)/],
      ['{"deviations":[{"clause":"op.sin","reason":" "}]}', /\/deviations\/0\/reason must say why/],
      ['{"deviations":[{"clause":"op.sin","reason":"x"},{"clause":"op.sn","reason":"x"}]}', /\/deviations\/1\/clause: 'op\.sn' is not a clause id of the spec \(did you mean 'op\.sin'\?\)/],
    ];
    for (const [text, message] of cases) expect(problem(() => loadDeviations(write('bad.json', text)), DeviationsError)).toMatch(message);
    expect(loadDeviations(write('good.json', '{"deviations":[{"clause":"op.sin","reason":"known"}]}'))).toEqual([{ clause: 'op.sin', reason: 'known' }]);
  });

  test('program.observations through the CLI: a missing --deviations file exits 2 naming it, and nothing runs', () => {
    const r = gradspec('check', '--deviations', 'no-such-deviations.json', '--only', 'gradient.op.sin', '--runs', '1');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('gradspec: --deviations: no such file: no-such-deviations.json');
    expect(r.stdout).toBe('');
  });
});

describe('engine names', () => {
  test('program.observations an unknown engine name lists the known ones with a did-you-mean', () => {
    const message = problem(() => resolveEngine('tfj'), EngineNotFound);
    expect(message).toBe(`unknown engine 'tfj' (did you mean 'tfjs'?); known: ${engineNames().join(', ')}; or give a module path (.ts/.js) or a command`);
    expect(problem(() => resolveEngine('mutant:sin-rul'), EngineNotFound)).toMatch(/did you mean 'mutant:sin-rule'/);
    expect(problem(() => resolveEngine('qqqqqqqq'), EngineNotFound)).toMatch(/^unknown engine 'qqqqqqqq'; known: reference, pytorch/);
  });

  test('program.observations a missing module path, a missing command and an empty --engine say so', () => {
    expect(problem(() => resolveEngine('./no-such-adapter.ts'), EngineNotFound)).toBe('no such file: ./no-such-adapter.ts');
    expect(problem(() => resolveEngine('no-such-engine-command --flag'), EngineNotFound)).toBe("cannot start 'no-such-engine-command': command not found");
    expect(problem(() => resolveEngine('./no-such-engine --flag'), EngineNotFound)).toBe("cannot start './no-such-engine': no such file");
    expect(problem(() => resolveEngine(' '), EngineNotFound)).toBe('--engine is empty');
  });

  test('program.observations known names, module files and commands that can start are accepted', () => {
    expect(resolveEngine('reference')).toEqual({ kind: 'name' });
    expect(resolveEngine('mutant:sin-rule')).toEqual({ kind: 'name' });
    expect(resolveEngine('adapters/serve.ts')).toEqual({ kind: 'module' });
    // A command with arguments, quoted as a shell would, and a bare executable found on PATH.
    expect(resolveEngine(`"${process.execPath}" my_adapter.py`)).toEqual({ kind: 'command', words: [process.execPath, 'my_adapter.py'] });
    expect(resolveEngine('node')).toEqual({ kind: 'command', words: ['node'] });
  });

  test('program.observations through the CLI: --engine tfj exits 2 with the list, and no stack trace', () => {
    const r = gradspec('check', '--engine', 'reference,tfj', '--runs', '1');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^gradspec: unknown engine 'tfj' \(did you mean 'tfjs'\?\); known: reference, pytorch, tfjs/);
    expect(r.stderr).not.toMatch(/\n {4}at /);
    expect(r.stdout).toBe('');
  });
});

describe('numbers, files and ids given to the CLI', () => {
  test('program.observations --engine splits engines at commas, except inside a quoted command argument', () => {
    expect(splitEngines('reference, tfjs,,jax-js')).toEqual(['reference', 'tfjs', 'jax-js']);
    expect(splitEngines(`reference,node -e "f(1,2)",python3 a.py 'x,y'`)).toEqual(['reference', 'node -e "f(1,2)"', "python3 a.py 'x,y'"]);
  });

  test('program.observations --seed, --runs, --timeout take whole numbers as typed', () => {
    expect(integer('42')).toBe(42);
    expect(integer('-7')).toBe(-7);
    for (const bad of ['', 'abc', '1.5', '1e3', '0x10', '99999999999999999999']) expect(integer(bad)).toBeUndefined();
  });

  test('program.observations --only with an unknown id suggests the closest check or clause id', () => {
    const fx = fixtures.map((f) => f.fixture);
    expect(unknownOnly('gradient.op.sn', fx, OP_PROPERTIES)).toBe("--only: no fixture, property or clause matches 'gradient.op.sn' (did you mean 'gradient.op.sin'?)");
    expect(unknownOnly('op.sn', fx, OP_PROPERTIES)).toBe("--only: no fixture, property or clause matches 'op.sn' (did you mean 'op.sin'?)");
    expect(unknownOnly('zzz', fx, OP_PROPERTIES)).toBe("--only: no fixture, property or clause matches 'zzz'");
  });

  test('program.observations --only selects by check id, by glob and by clause id, comma-separated', async () => {
    const { planCheck } = await import('./check-api.ts');
    const ids = async (only: string) => {
      const r = await planCheck({ only });
      return [...r.fixtures.map((f) => f.fixture.id), ...r.properties.map((p) => p.id)];
    };
    // A clause: its property and every fixture citing it.
    const sin = await ids('op.sin');
    expect(sin).toContain('gradient.op.sin');
    expect(sin.filter((id) => id.startsWith('recorded.gradient.op.sin.')).length).toBeGreaterThan(3);
    expect(sin.every((id) => [...fixtures.map((f) => f.fixture), ...OP_PROPERTIES].find((c) => c.id === id)!.clauses.includes('op.sin'))).toBe(true);
    expect(await ids('gradient.op.si*')).toEqual(expect.arrayContaining(['gradient.op.sin', 'gradient.op.sinh', 'gradient.op.sign']));
    expect((await ids('gradient.op.sin, gradient.op.cos')).sort()).toEqual(['gradient.op.cos', 'gradient.op.sin']);
    await expect(ids('gradient.op.sin,zzz')).rejects.toThrow(/no fixture, property or clause matches 'zzz'/);
  });

  test('program.schema unreadable and invalid JSON files are named, with what is wrong', () => {
    expect(problem(() => readJson(join(tmp, 'nope.json')), UsageError)).toMatch(/^cannot read .*nope\.json: no such file$/);
    expect(problem(() => readJson(tmp), UsageError)).toMatch(/: is a directory$/);
    expect(problem(() => readJson(write('broken.json', '{"a":')), UsageError)).toMatch(/broken\.json: not valid JSON/);
  });

  test('program.observations an output file that cannot be written is refused before the run, naming the option', () => {
    expect(problem(() => checkOutput('--json', join(tmp, 'no-folder', 'r.json')), UsageError)).toMatch(/^--json: cannot write .*r\.json: no folder /);
    expect(problem(() => checkOutput('--html', tmp), UsageError)).toMatch(/^--html: cannot write .*: it is a folder$/);
    expect(() => checkOutput('--junit', join(tmp, 'new.xml'))).not.toThrow();
  });

  test('program.schema gradspec run takes a fixture file and runs its program', () => {
    const r = gradspec('run', 'fixtures/document/one-step.json');
    expect(r.status).toBe(0);
    const observed = JSON.parse(r.stdout) as { observations: { label: string; value: number }[] };
    expect(observed.observations.find((o) => o.label === 'x.grad')?.value).toBe(93);
    expect(r.stderr).toMatch(/^document\.one-step: reference matches the fixture's expectations/);
  });

  test('program.schema gradspec run judges a fixture on --engine (exit 1 with the difference) and prints it as PyTorch code', () => {
    const r = gradspec('run', 'fixtures/document/one-step.json', '--engine', 'mutant:pow-exponent-2');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/differs from the fixture's expectations[^]*x\.grad value: element 0: expected 93, got 29/);
    const code = gradspec('run', 'fixtures/document/one-step.json', '--pytorch');
    expect(code.status).toBe(0);
    expect(code.stdout).toMatch(/^import torch\n[^]*y\.backward\(\)\nprint\('x\.grad', x\.grad\)/);
  });
});

describe('shards', () => {
  const shard = (file: string, s: string | undefined, extra: object = {}) => ({ file, report: { engine: { name: 'e' }, checks: [], ...(s ? { shard: s } : {}), ...extra } });

  test('program.observations merge refuses a missing, duplicate or foreign shard, naming it', () => {
    expect(problem(() => checkShards([shard('a.json', '1/2')]))).toBe('shard 2/2 is missing');
    expect(problem(() => checkShards([shard('a.json', '1/3')]))).toBe('shards 2/3, 3/3 are missing');
    expect(problem(() => checkShards([shard('a.json', '1/2'), shard('b.json', '1/2')]))).toBe('shard 1/2 given twice (a.json, b.json)');
    expect(problem(() => checkShards([shard('a.json', '1/2'), shard('b.json', '2/3')]))).toBe('shards of different splits: a.json is a shard of 2, b.json is shard 2/3');
    expect(problem(() => checkShards([shard('a.json', '1/2'), shard('b.json', undefined)]))).toMatch(/^b\.json is not a shard report/);
    expect(problem(() => checkShards([shard('a.json', '3/2')]))).toMatch(/^a\.json: shard 3\/2 is not a valid shard/);
    expect(problem(() => checkShards([{ file: 'm.json', report: [{ engine: 'reference' }] }]))).toMatch(/^m\.json is not a report of gradspec check --json/);
    expect(checkShards([shard('b.json', '2/2'), shard('a.json', '1/2')])).toHaveLength(2);
  });

  test('program.observations through the CLI: merging one shard of two exits 2, merging both exits 0', async () => {
    const files = await Promise.all([1, 2].map(async (index) => {
      const report = await runSuite(referenceAdapter, sinFixtures, { runs: 5, properties: sinProperty, shard: { index, count: 2 } });
      return write(`shard-${index}.json`, JSON.stringify(report));
    }));
    const one = gradspec('merge', files[0]!);
    expect(one.status).toBe(2);
    expect(one.stderr.trim()).toBe('gradspec: shard 2/2 is missing');
    expect(gradspec('merge', files[0]!, files[1]!).status).toBe(0);
  });
});

describe('outputs are written or refused, never dropped', () => {
  test('op.sin --junit with several engines writes a test suite per engine and kind, the engine in the suite and class names', async () => {
    const reports = await Promise.all([referenceAdapter, mutantAdapter('sin-rule')!].map((a) => runSuite(a, sinFixtures, { runs: 10, properties: sinProperty })));
    const xml = junit([...reports.map((report) => ({ engine: report.engine.name, report })), { engine: 'tfjs', unavailable: 'not installed: tfjs' }]);
    const suites = [...xml.matchAll(/<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)"/g)].map((m) => [m[1], Number(m[2]), Number(m[3])]);
    const judged = (i: number) => reports[i]!.clauses.filter((c) => c.status !== 'unchecked');
    expect(suites).toEqual([
      ['reference 0.1.0 clauses', judged(0).length, 0], ['reference 0.1.0 properties', 1, 0],
      ['mutant:sin-rule 0.1.0 clauses', judged(1).length, judged(1).filter((c) => c.status === 'fail').length], ['mutant:sin-rule 0.1.0 properties', 1, 1],
      ['tfjs unavailable', 1, 0],
    ]);
    expect(xml).toMatch(/<testcase classname="gradspec\.reference\.clauses" name="op\.sin"><\/testcase>/);
    expect(xml).toMatch(/<testcase classname="gradspec\.mutant:sin-rule\.clauses" name="op\.sin"><failure/);
    expect(xml).toMatch(/<testcase classname="gradspec\.tfjs" name="engine"><skipped message="not installed: tfjs"\/>/);
  });

  test('op.sin through the CLI: one engine writes --markdown, --html and --junit; several engines write --junit', () => {
    const [md, page, xml, xml2] = ['one.md', 'one.html', 'one.xml', 'two.xml'].map((f) => join(tmp, f));
    const one = gradspec('check', '--only', 'gradient.op.sin', '--runs', '5', '--markdown', md!, '--html', page!, '--junit', xml!);
    expect(one.status).toBe(0);
    expect(readFileSync(md!, 'utf8')).toMatch(/^\| clause \| reference 0\.1\.0 \|\n\|---\|---\|\n\| `op\.sin` \| pass \|$/m);
    expect(readFileSync(page!, 'utf8')).toMatch(/<td class="pass">/);
    expect(readFileSync(xml!, 'utf8')).toMatch(/<testsuite name="reference 0\.1\.0 clauses" tests="1" failures="0"/);
    const two = gradspec('check', '--engine', 'reference,mutant:sin-rule', '--only', 'gradient.op.sin', '--runs', '5', '--junit', xml2!);
    expect(two.status).toBe(1);
    const text = readFileSync(xml2!, 'utf8');
    expect(text).toMatch(/<testsuite name="reference 0\.1\.0 properties" tests="1" failures="0"/);
    expect(text).toMatch(/<testsuite name="mutant:sin-rule 0\.1\.0 properties" tests="1" failures="1"/);
  });
});
