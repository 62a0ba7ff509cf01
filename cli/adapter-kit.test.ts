import { spawnSync } from 'node:child_process';
import { COMPILED } from './spawn-gradspec.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { validateCapabilities } from '../adapters/capabilities.ts';
import { processAdapter } from '../adapters/process.ts';
import { FEATURES } from '../adapters/types.ts';
import { INPLACE_OPS, OP_NAMES, type Observations, type Program } from '../spec/program.ts';
import { referenceAdapter } from '../adapters/reference/index.ts';
import type { Adapter } from '../adapters/types.ts';
import { initAdapter, probeAdapter, testAdapter } from './adapter-commands.ts';
import { hasTorch, PYTHON } from '../adapters/testing/has-torch.ts';
import { defineEngine, runProgram as runKitProgram, type Nested } from '../adapters/kit/index.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = join(ROOT, 'bin', 'gradspec.js');
const dir = mkdtempSync(join(tmpdir(), 'gradspec-kit-'));
const stub = join(dir, 'py');
initAdapter('python', stub);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gradspec adapter init', () => {
  test('program.observations init writes the kit and a skeleton with every op stubbed, and prints the next commands', () => {
    const out = initAdapter('python', join(dir, 'again'));
    expect(existsSync(join(dir, 'again', 'gradspec_adapter.py'))).toBe(true);
    const skeleton = readFileSync(join(dir, 'again', 'my_engine_adapter.py'), 'utf8');
    for (const op of OP_NAMES) expect(skeleton).toContain(`def op_${op}(self`);
    for (const op of INPLACE_OPS) expect(skeleton).toContain(`def inplace_${op}(self`);
    expect(skeleton).toMatch(/features = \[\]/);
    expect(out).toMatch(/npx gradspec adapter test --engine "python3 .*my_engine_adapter\.py"/);
    expect(out).toMatch(/npx gradspec check --engine/);
    const ts = readFileSync(initAdapter('ts', join(dir, 'ts')) && join(dir, 'ts', 'my-engine-adapter.mts'), 'utf8');
    for (const op of OP_NAMES) expect(ts).toMatch(new RegExp(`\\b${op}: \\(`));
    expect(ts).toContain("from 'gradspec/adapter'");
  });

  test('program.observations init refuses to overwrite an existing file: exit 2 with a message', () => {
    const r = spawnSync(process.execPath, [CLI, 'adapter', 'init', '--lang', 'python', stub], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...COMPILED } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to overwrite .*gradspec_adapter\.py/);
  });
});

describe('gradspec adapter test', () => {
  test('program.observations the generated Python stub is well-formed, says that check will check nothing, and measures latency', async () => {
    const { output, code } = await testAdapter(`python3 ${join(stub, 'my_engine_adapter.py')}`);
    expect(code).toBe(0);
    expect(output).toMatch(/answers "not supported" to everything: gradspec check will report nothing checked \(exit 2\)/);
    expect(output).toMatch(/handshake: [\d.]+ ms/);
    expect(output).toMatch(/inplace zero_ on \.grad\s+accumulate\s+no\s+not supported/);
    expect(output).toMatch(/grad \(autograd\.grad\)\s+-\s+-\s+not supported/);
  });

  test('program.observations the TypeScript skeleton, served with node --import tsx, is well-formed', async () => {
    const file = join(dir, 'ts', 'my-engine-adapter.mts');
    // Inside the repository 'gradspec/adapter' resolves to the built package; the test uses the sources.
    writeFileSync(file, readFileSync(file, 'utf8').replace("'gradspec/adapter'", `'${join(ROOT, 'adapters', 'kit', 'index.ts')}'`));
    const { output, code } = await testAdapter(`node --import tsx ${file}`);
    expect(output).toMatch(/not supported" to everything/);
    expect(code).toBe(0);
  });

  test.skipIf(!hasTorch)('program.observations PyTorch\'s adapter command is well-formed and runs every step kind', async () => {
    const { output, code } = await testAdapter(`${PYTHON} ${join(ROOT, 'adapters', 'pytorch', 'adapter.py')}`);
    expect(code).toBe(0);
    expect(output).toMatch(/OK: the adapter is well-formed\.$/m);
    expect(output).not.toMatch(/not supported/);
    expect(output).toMatch(/error \(backward of a leaf without grad\)\s+errors\s+yes\s+error no-grad-fn at step 1/);
  });

  const fake = (name: string, body: string) => {
    const file = join(dir, name);
    writeFileSync(file, `import json, sys
CAPS = {'dtypes': ['float64'], 'profile': 'fake'}
for line in sys.stdin:
    m = json.loads(line)
    if m['type'] == 'hello':
        print(json.dumps({'type': 'hello', 'protocol': 1, 'name': 'fake', 'version': '0', 'capabilities': CAPS}), flush=True)
    elif m['type'] == 'run':
${body}
    else:
        sys.exit(0)
`);
    return `python3 ${file}`;
  };

  test('errors.class an adapter that prints noise on stdout is malformed: exit 1, the problem first', async () => {
    const engine = fake('noisy.py', `        print('computing...', flush=True)
        print(json.dumps({'type': 'observations', 'id': m['id'], 'results': [{'observations': [], 'error': None} for _ in m['programs']]}), flush=True)`);
    const { output, code } = await testAdapter(engine);
    expect(code).toBe(1);
    expect(output.split('\n')[0]).toMatch(/^MALFORMED: leaf \+ observe .*not a protocol message: computing\.\.\. \(stdout is for protocol messages only/);
  });

  test('errors.class an adapter that writes NaN as JSON is malformed, with the protocol\'s spelling in the message', async () => {
    const engine = fake('nan.py', `        print(json.dumps({'type': 'observations', 'id': m['id'], 'results': [{'observations': [{'label': 'x', 'value': float('nan')}], 'error': None} for _ in m['programs']]}), flush=True)`);
    const { output, code } = await testAdapter(engine);
    expect(code).toBe(1);
    expect(output.split('\n')[0]).toMatch(/^MALFORMED: .*invalid JSON .*spelled as the strings "nan", "inf", "-inf" and "-0"/);
  });

  test('program.observations an adapter whose observations do not follow the observe steps is malformed', async () => {
    const engine = fake('labels.py', `        print(json.dumps({'type': 'observations', 'id': m['id'], 'results': [{'observations': [], 'error': None} for _ in m['programs']]}), flush=True)`);
    const { output, code } = await testAdapter(engine);
    expect(code).toBe(1);
    expect(output.split('\n')[0]).toMatch(/^MALFORMED: leaf \+ observe .*observations labelled \[\], but the program observes \["x"\]/);
  });
});

describe('gradspec adapter probe', () => {
  test('program.observations probing the reference engine over the protocol finds every dtype, field and feature, and the block validates', async () => {
    const adapter = await processAdapter([process.execPath, '--import', 'tsx', join(ROOT, 'adapters', 'serve.ts'), 'reference'], { heartbeat: null });
    try {
      const result = await probeAdapter(adapter);
      expect(() => validateCapabilities(result.capabilities, 'the probe')).not.toThrow();
      expect(result.capabilities.dtypes).toEqual(['float32', 'float64', 'int64', 'bool']);
      expect(result.capabilities.features).toEqual([...FEATURES]);
      expect(result.capabilities.fields).toEqual(adapter.capabilities.fields);
      expect(result.ops.every((o) => o.supported)).toBe(true);
    } finally {
      await adapter.close?.();
    }
  });

  test('program.observations probing the stub finds nothing but the dtype it must declare', async () => {
    const adapter = await processAdapter(['python3', join(stub, 'my_engine_adapter.py')], { heartbeat: null });
    try {
      const result = await probeAdapter(adapter);
      expect(result.capabilities).toEqual({ dtypes: ['float64'], fields: ['value'], features: [], profile: 'my-engine' });
    } finally {
      await adapter.close?.();
    }
  });

  test('program.observations a step answered "not supported" leaves its feature claimed; a wrong answer does not', async () => {
    const uses = (p: Program, key: string): boolean => JSON.stringify(p.steps).includes(`"${key}"`);
    const refusing = (key: string, name: string): Adapter => ({
      ...referenceAdapter, name,
      run: async (programs) => Promise.all(programs.map(async (p) => (uses(p, key)
        ? { observations: [], error: { step: '0', category: 'invalid-argument', message: `not supported by ${name}: ${key}` } } as Observations
        : (await referenceAdapter.run([p]))[0]!))),
    });
    const noRetain = (await probeAdapter(refusing('retainGrad', 'no-retain'))).features.find((f) => f.feature === 'accumulate')!;
    expect(noRetain).toMatchObject({ supported: true, missing: ['retainGrad'], wrong: [] });
    // An engine that overwrites .grad answers the two-pass probe unlike PyTorch: not claimed.
    const overwriting: Adapter = {
      ...referenceAdapter, name: 'overwrite',
      run: async (programs) => Promise.all(programs.map(async (p) => {
        const [o] = await referenceAdapter.run([p.id === 'probe.accumulate.twice' ? { ...p, steps: p.steps.filter((_, i) => i !== 2) } : p]);
        return o!;
      })),
    };
    const overwrite = (await probeAdapter(overwriting)).features.find((f) => f.feature === 'accumulate')!;
    expect(overwrite).toMatchObject({ supported: false, wrong: ['two backward passes into .grad'] });
  });

  test('program.observations the float32 helper rounds to the nearest float32, overflow to infinity', () => {
    const r = spawnSync('python3', ['-c', 'import sys; sys.path.insert(0, sys.argv[1]); import gradspec_adapter as k; print(k.round_float32(0.1), k.round_float32(1e39), k.round_float32(-1e39), k.round_float32(3.4028235e38))', stub], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('0.10000000149011612 inf -inf 3.4028234663852886e+38');
  });

  test('program.observations the kit reports a bool tensor\'s elements as JSON booleans, not numbers', () => {
    const r = spawnSync('python3', ['-c', 'import sys, json; sys.path.insert(0, sys.argv[1]); import gradspec_adapter as k; print(json.dumps(k.encode([[True, False], [False, True]])), json.dumps(k.encode([1, -0.0])))', stub], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('[[true, false], [false, true]] [1, "-0"]');
  });
});

describe('the kits on views and indexing', () => {
  // A toy engine that records what the kit hands it: index items, indexPut_ arguments, layout readers.
  const steps: Program['steps'] = [
    { let: 'x', tensor: [1, 2, 3] },
    { let: 'i', tensor: [0], dtype: 'int64' },
    { let: 'v', op: 'index', args: ['x'], attrs: { items: [{ start: 1 }, null, '...', { ref: 'i' }, [0, 2]] } },
    { inplace: 'indexPut_', target: 'x', args: [2], attrs: { items: [{ ref: 'i' }], accumulate: true } },
    { observe: 'v', layout: true, sameStorage: 'x' },
    { observe: 'x' },
    { let: ['a', 'b'], op: 'unbind', args: ['x'] },
  ];

  test('program.observations the Python kit passes index items as Python\'s brackets hold them, reads layout fields only where asked, and unpacks with Python\'s message', () => {
    const script = `import sys, json
sys.path.insert(0, sys.argv[1])
import gradspec_adapter as k

class T:
    def __init__(self, v): self.v = v
    def __repr__(self): return f'T({self.v})'

calls = []
class E(k.Engine):
    fields = ['value', 'stride']
    def tensor(self, data, dtype, requires_grad): return T(data)
    def value(self, t): return t.v
    def op_index(self, a, items):
        calls.append(['index', [repr(i) for i in items]]); return T(a.v)
    def op_unbind(self, a, dim=0): return [T(x) for x in a.v]
    def inplace_indexPut_(self, t, values, items, accumulate):
        calls.append(['indexPut_', repr(values), [repr(i) for i in items], accumulate])
    def stride(self, t): return (1,)
    def is_view(self, t): return True
    def shares_storage(self, t, other): return t is other

print(json.dumps(k.run_program(E(), json.loads(sys.argv[2]))))
print(json.dumps(calls))
`;
    const r = spawnSync('python3', ['-c', script, join(ROOT, 'adapters', 'kit'), JSON.stringify({ id: 'p', steps })], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const [observed, calls] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(observed).toEqual({
      observations: [
        { label: 'v', value: [1, 2, 3], shape: [3], stride: [1], isView: true, sharesStorage: false },
        { label: 'x', value: [1, 2, 3], shape: [3] },
      ],
      error: { step: '6', category: 'invalid-argument', message: 'too many values to unpack (expected 2)' },
    });
    expect(calls).toEqual([['index', ['slice(1, None, None)', 'None', 'Ellipsis', 'T([0.0])', '[0, 2]']], ['indexPut_', '2.0', ['T([0.0])'], true]]);
  });

  test('errors.class the Python kit reports an engine\'s crash (a KeyError) with its type and place, and a deliberate refusal as the engine wrote it', () => {
    const script = `import sys, json
sys.path.insert(0, sys.argv[1])
import gradspec_adapter as k

class E(k.Engine):
    def tensor(self, data, dtype, requires_grad): return data
    def value(self, t): return t
    def op_neg(self, a): return {}['missing']
    def op_exp(self, a): raise IndexError('index 5 is out of bounds for dimension 0 with size 2')

for op in ['neg', 'exp']:
    print(json.dumps(k.run_program(E(), {'id': 'p', 'steps': [{'let': 'x', 'tensor': [1.0]}, {'let': 'y', 'op': op, 'args': ['x']}]})['error']))
`;
    const r = spawnSync('python3', ['-c', script, join(ROOT, 'adapters', 'kit')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const [crash, refusal] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { message: string });
    expect(crash!.message).toMatch(/^KeyError: 'missing' \(a crash in op_neg, <string>:\d+\)$/);
    expect(refusal!.message).toBe('index 5 is out of bounds for dimension 0 with size 2');
  });

  test('program.observations the TypeScript kit resolves index refs to tensors, reads layout fields only where asked, and unpacks with Python\'s message', () => {
    type T = { v: Nested };
    const calls: unknown[] = [];
    const engine = defineEngine<T>({
      name: 'toy', version: '0', capabilities: { dtypes: ['float32'], fields: ['value', 'stride'], profile: 'toy' },
      tensor: (data) => ({ v: data }), value: (t) => t.v,
      ops: {
        index: ([a], { items }) => { calls.push(['index', items]); return a; },
        unbind: ([a]) => ((a as T).v as Nested[]).map((v) => ({ v })),
      },
      inplace: { indexPut_: (t, values, items, accumulate) => { calls.push(['indexPut_', values, items, accumulate]); } },
      stride: () => [1], isView: () => true, sharesStorage: (t, other) => t === other,
    });
    expect(runKitProgram(engine, { id: 'p', steps })).toEqual({
      observations: [
        { label: 'v', value: [1, 2, 3], shape: [3], stride: [1], isView: true, sharesStorage: true },
        { label: 'x', value: [1, 2, 3], shape: [3] },
      ],
      error: { step: '6', category: 'invalid-argument', message: 'too many values to unpack (expected 2)' },
    });
    expect(calls).toEqual([['index', [{ start: 1 }, null, '...', { v: [0] }, [0, 2]]], ['indexPut_', 2, [{ v: [0] }], true]]);
  });
});
