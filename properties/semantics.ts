import fc from 'fast-check';
import type { Program } from '../spec/program.ts';
import { expressionSamples, emitRoot, type ExprSample } from './arbitraries/expressions.ts';
import { ordinary } from './arbitraries/numbers.ts';
import { nest, numel, ProgramBuilder } from './build.ts';
import { closeAll, errorOf, find, valuesOf } from './observed.ts';
import type { AnyProperty, Property } from './property.ts';

/*
 * Semantics properties: the engine is compared with itself under the rules of the spec
 * (accumulation, zeroing, autograd.grad, grad modes, detach), over random graphs. Values are
 * judged by the gradient properties; these judge what autograd does with them.
 */

/** Leaves a and b (vectors of length n) and the graph of a random expression over them. */
function graph(id: string, s: VectorSample): { b: ProgramBuilder; out: string } {
  const b = new ProgramBuilder(id);
  b.leaf(s.a, true, 'a');
  b.leaf(s.b, true, 'b');
  return { b, out: emitRoot(b, s.expr, { a: 'a', b: 'b' }) };
}

interface VectorSample extends Omit<ExprSample, 'a' | 'b'> { a: number[]; b: number[] }

const vectorSamples = (): fc.Arbitrary<VectorSample> =>
  fc.integer({ min: 1, max: 3 }).chain((n) =>
    fc.record({
      expr: expressionSamples(4).map((s) => s.expr),
      a: fc.array(ordinary(), { minLength: n, maxLength: n }),
      b: fc.array(ordinary(), { minLength: n, maxLength: n }),
    }, { noNullPrototype: true }));

const sum = (b: ProgramBuilder, t: string) => b.op('sum', [t]);

const none = (o: ReturnType<typeof find>) => o?.none === true;

export const accumulate: Property<{ s: VectorSample; k: number }> = {
  id: 'semantics.accumulate',
  clauses: ['backward.accumulate', 'backward.retain-graph'],
  title: 'k backward passes with retainGraph accumulate k times the gradient',
  arbitrary: fc.record({ s: vectorSamples(), k: fc.integer({ min: 2, max: 4 }) }, { noNullPrototype: true }),
  programs: ({ s, k }) => {
    const { b, out } = graph('property.accumulate', s);
    const loss = sum(b, out);
    b.push({ backward: loss, retainGraph: true }, { observe: 'a.grad', label: 'once' }, { observe: 'b.grad', label: 'b once' });
    for (let i = 1; i < k; i++) b.push({ backward: loss, retainGraph: true });
    b.push({ observe: 'a.grad', label: 'k times' }, { observe: 'b.grad', label: 'b k times' });
    return [b.program()];
  },
  judge: ({ k }, [o], _engine, ctx) => {
    if (o!.error) return `unexpected error: ${errorOf(o!)}`;
    for (const [one, many] of [['once', 'k times'], ['b once', 'b k times']] as const) {
      const g1 = valuesOf(o!, one)!;
      const problem = closeAll(valuesOf(o!, many)!, g1.map((g) => g * k), ctx.rtol, 1e-300);
      if (problem) return `${many} is not ${k} x ${one}: ${problem}`;
    }
    return null;
  },
};

export const zeroGrad: Property<VectorSample> = {
  id: 'semantics.zero-grad',
  clauses: ['backward.zero-grad', 'backward.accumulate'],
  title: 'zeroing .grad in place (zero_) or clearing it (None) resets accumulation',
  arbitrary: vectorSamples(),
  programs: (s) => {
    const { b, out } = graph('property.zero-grad', s);
    const loss = sum(b, out);
    b.push({ backward: loss, retainGraph: true }, { observe: 'a.grad', label: 'first' },
      { backward: loss, retainGraph: true }, { inplace: 'zero_', target: 'a.grad' }, { observe: 'a.grad', label: 'zeroed' },
      { backward: loss, retainGraph: true }, { observe: 'a.grad', label: 'after zero_' },
      { clearGrad: 'a' }, { observe: 'a.grad', label: 'cleared' },
      { backward: loss }, { observe: 'a.grad', label: 'after clearing' });
    return [b.program()];
  },
  judge: (s, [o], _engine, ctx) => {
    if (o!.error) return `unexpected error: ${errorOf(o!)}`;
    const first = valuesOf(o!, 'first')!;
    if (closeAll(valuesOf(o!, 'zeroed')!, first.map(() => 0), 0, 0)) return 'zero_ did not zero .grad';
    if (!none(find(o!, 'cleared'))) return 'clearing .grad did not leave None';
    return closeAll(valuesOf(o!, 'after zero_')!, first, ctx.rtol, 1e-300) ?? closeAll(valuesOf(o!, 'after clearing')!, first, ctx.rtol, 1e-300);
  },
};

export const gradReturns: Property<VectorSample> = {
  id: 'semantics.grad-returns',
  clauses: ['grad.returns', 'backward.retain-graph'],
  title: 'autograd.grad returns what backward accumulates, leaves .grad untouched, and agrees on a second pass',
  arbitrary: vectorSamples(),
  programs: (s) => {
    const g = graph('property.grad-returns', s);
    const loss = sum(g.b, g.out);
    g.b.push({ let: ['ga', 'gb'], grad: { outputs: [loss], inputs: ['a', 'b'], retainGraph: true } },
      { let: ['ha', 'hb'], grad: { outputs: [loss], inputs: ['a', 'b'] } },
      { observe: 'ga' }, { observe: 'gb' }, { observe: 'ha' }, { observe: 'a.grad' });
    const h = graph('property.grad-returns.backward', s);
    h.b.push({ backward: sum(h.b, h.out) }, { observe: 'a.grad' }, { observe: 'b.grad' });
    return [g.b.program(), h.b.program()];
  },
  judge: (_s, [o, p], _engine, ctx) => {
    if (o!.error || p!.error) return `unexpected error: ${errorOf(o!)} / ${errorOf(p!)}`;
    if (!none(find(o!, 'a.grad'))) return 'autograd.grad changed a.grad';
    return closeAll(valuesOf(o!, 'ga')!, valuesOf(p!, 'a.grad')!, ctx.rtol, 1e-300)
      ?? closeAll(valuesOf(o!, 'gb')!, valuesOf(p!, 'b.grad')!, ctx.rtol, 1e-300)
      ?? closeAll(valuesOf(o!, 'ha')!, valuesOf(o!, 'ga')!, ctx.rtol, 1e-300);
  },
};

export const allowUnused: Property<VectorSample> = {
  id: 'semantics.allow-unused',
  needs: ['errors'],
  clauses: ['grad.allow-unused', 'grad.unused-input'],
  title: 'an input the output does not use gives None with allowUnused and unused-input without',
  arbitrary: vectorSamples(),
  programs: (s) => [false, true].map((allow) => {
    const { b, out } = graph(`property.allow-unused.${allow}`, s);
    b.leaf(s.a, true, 'c');
    b.push({ let: ['ga', 'gc'], grad: { outputs: [sum(b, out)], inputs: ['a', 'c'], ...(allow ? { allowUnused: true } : {}) } });
    if (allow) b.push({ observe: 'gc' }, { observe: 'c.grad' });
    return b.program();
  }),
  judge: (_s, [strict, allowed]) => {
    if (strict!.error?.category !== 'unused-input') return `without allowUnused: expected unused-input, got ${errorOf(strict!)}`;
    if (allowed!.error) return `with allowUnused: unexpected ${errorOf(allowed!)}`;
    return none(find(allowed!, 'gc')) && none(find(allowed!, 'c.grad')) ? null : 'the unused input got a gradient';
  },
};

export const explicitGradient: Property<{ s: VectorSample; v: number[]; zero: boolean }> = {
  id: 'semantics.explicit-gradient',
  clauses: ['backward.explicit-gradient', 'grad.grad-outputs'],
  title: 'backward(v) equals the gradient of sum(y * v); a zero v gives zero gradients',
  arbitrary: vectorSamples().chain((s) => fc.record({
    s: fc.constant(s), v: fc.array(ordinary(), { minLength: s.a.length, maxLength: s.a.length }), zero: fc.boolean(),
  }, { noNullPrototype: true })),
  programs: ({ s, v, zero }) => {
    const vec = zero ? v.map(() => 0) : v;
    const p = graph('property.explicit-gradient', s);
    p.b.push({ backward: p.out, gradient: vec }, { observe: 'a.grad' });
    const q = graph('property.explicit-gradient.weighted-sum', s);
    const w = q.b.leaf(vec, false, 'v');
    q.b.push({ backward: sum(q.b, q.b.op('mul', [q.out, w])) }, { observe: 'a.grad' });
    const r = graph('property.explicit-gradient.grad-outputs', s);
    r.b.leaf(vec, false, 'v');
    r.b.push({ let: ['ga'], grad: { outputs: [r.out], inputs: ['a'], gradOutputs: ['v'] } }, { observe: 'ga' });
    return [p.b.program(), q.b.program(), r.b.program()];
  },
  judge: ({ zero }, [p, q, r], _engine, ctx) => {
    for (const o of [p!, q!, r!]) if (o.error) return `unexpected error: ${errorOf(o)}`;
    const vjp = valuesOf(p!, 'a.grad')!;
    if (zero && vjp.some((x) => x !== 0)) return `a zero gradient gave ${JSON.stringify(vjp)}`;
    return closeAll(vjp, valuesOf(q!, 'a.grad')!, ctx.rtol, 1e-300) ?? closeAll(valuesOf(r!, 'ga')!, vjp, ctx.rtol, 1e-300);
  },
};

export const noGrad: Property<VectorSample> = {
  id: 'semantics.no-grad',
  fields: ['requiresGrad', 'gradFn', 'isLeaf'],
  clauses: ['mode.no-grad', 'mode.enable-grad'],
  title: 'results computed under noGrad do not require grad and have no grad_fn; enableGrad inside turns tracking back on',
  arbitrary: vectorSamples(),
  programs: (s) => {
    const b = new ProgramBuilder('property.no-grad');
    b.leaf(s.a, true, 'a');
    b.leaf(s.b, true, 'b');
    // The same expression twice: once under noGrad, once under enableGrad nested inside it.
    const block = (): [string, Program['steps']] => {
      const start = b.steps.length;
      const out = emitRoot(b, s.expr, { a: 'a', b: 'b' });
      return [out, b.steps.splice(start)];
    };
    const [off, offSteps] = block();
    const [on, onSteps] = block();
    b.push({ noGrad: [...offSteps, { enableGrad: onSteps }] }, { observe: off, label: 'inside noGrad' }, { observe: on, label: 'inside enableGrad' });
    return [b.program()];
  },
  judge: (_s, [o], _engine, ctx) => {
    if (o!.error) return `unexpected error: ${errorOf(o!)}`;
    const off = find(o!, 'inside noGrad')!;
    const on = find(o!, 'inside enableGrad')!;
    // Flags an engine does not report (undefined) are not judged.
    if (off.requiresGrad === true || (off.gradFn !== null && off.gradFn !== undefined) || off.isLeaf === false) return `noGrad result: requiresGrad ${off.requiresGrad}, gradFn ${off.gradFn}, isLeaf ${off.isLeaf}`;
    if (on.requiresGrad === false || on.gradFn === null) return `enableGrad result: requiresGrad ${on.requiresGrad}, gradFn ${on.gradFn}`;
    return closeAll(valuesOf(o!, 'inside noGrad')!, valuesOf(o!, 'inside enableGrad')!, ctx.rtol, 1e-300);
  },
};

export const detach: Property<VectorSample> = {
  id: 'semantics.detach',
  fields: ['requiresGrad', 'isLeaf'],
  clauses: ['graph.detach', 'backward.fan-in'],
  title: 'detach cuts gradient flow: d/da of y * detach(y) is detach(y) * dy/da',
  arbitrary: vectorSamples(),
  programs: (s) => {
    const p = graph('property.detach', s);
    const d = p.b.op('detach', [p.out]);
    p.b.push({ observe: d, label: 'detached' }, { observe: p.out, label: 'y' }, { backward: sum(p.b, p.b.op('mul', [p.out, d])) }, { observe: 'a.grad' });
    const q = graph('property.detach.plain', s);
    q.b.push({ backward: q.out, gradient: { ref: q.b.op('detach', [q.out]) } }, { observe: 'a.grad' });
    return [p.b.program(), q.b.program()];
  },
  judge: (_s, [p, q], _engine, ctx) => {
    if (p!.error || q!.error) return `unexpected error: ${errorOf(p!)} / ${errorOf(q!)}`;
    const det = find(p!, 'detached')!;
    // Flags an engine does not report are not judged (spec/adapters.md: fields).
    if (det.requiresGrad === true || det.isLeaf === false) return 'detach() result requires grad or is not a leaf';
    return closeAll(valuesOf(p!, 'detached')!, valuesOf(p!, 'y')!, ctx.rtol, 1e-300) ?? closeAll(valuesOf(p!, 'a.grad')!, valuesOf(q!, 'a.grad')!, ctx.rtol, 1e-300);
  },
};

export const leafOnly: Property<VectorSample> = {
  id: 'semantics.leaf-only',
  clauses: ['backward.leaf-only', 'backward.retain-grad'],
  title: 'a non-leaf .grad stays None unless retainGrad, which then holds d loss / d non-leaf',
  arbitrary: vectorSamples(),
  programs: (s) => [false, true].map((retain) => {
    const { b, out } = graph(`property.leaf-only.${retain}`, s);
    if (retain) b.push({ retainGrad: out });
    b.push({ backward: sum(b, out) }, { observe: `${out}.grad`, label: 'non-leaf grad' });
    return b.program();
  }),
  judge: (s, [plain, kept]) => {
    if (plain!.error || kept!.error) return `unexpected error: ${errorOf(plain!)} / ${errorOf(kept!)}`;
    if (!none(find(plain!, 'non-leaf grad'))) return 'a non-leaf got a .grad without retainGrad';
    return closeAll(valuesOf(kept!, 'non-leaf grad')!, s.a.map(() => 1), 0, 0);
  },
};

export const implicitNonScalar: Property<number[]> = {
  id: 'semantics.implicit-non-scalar',
  needs: ['errors'],
  clauses: ['backward.implicit-non-scalar', 'backward.scalar-seed'],
  title: 'backward() without a gradient succeeds exactly when the output has one element',
  arbitrary: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
  programs: (shape) => {
    const b = new ProgramBuilder('property.implicit-non-scalar');
    b.leaf(nest(shape.length ? new Array<number>(numel(shape)).fill(1) : [1], shape), true, 'x');
    b.push({ backward: b.op('mul', ['x', 2]) }, { observe: 'x.grad' });
    return [b.program()];
  },
  judge: (shape, [o]) => {
    const n = shape.reduce((x, d) => x * d, 1);
    if (n === 1) return o!.error ? `one element, yet ${errorOf(o!)}` : closeAll(valuesOf(o!, 'x.grad')!, [2], 0, 0);
    return o!.error?.category === 'implicit-non-scalar' ? null : `${n} elements, expected implicit-non-scalar, got ${errorOf(o!)}`;
  },
};

export const leafInplace: Property<{ enabled: boolean; requiresGrad: boolean }> = {
  id: 'semantics.leaf-inplace',
  fields: ['requiresGrad', 'isLeaf', 'version'],
  needs: ['errors'],
  clauses: ['inplace.leaf-error', 'inplace.no-grad-leaf'],
  title: 'an in-place op on a leaf fails exactly when the leaf requires grad and grad mode is on',
  arbitrary: fc.record({ enabled: fc.boolean(), requiresGrad: fc.boolean() }, { noNullPrototype: true }),
  programs: ({ enabled, requiresGrad }) => {
    const b = new ProgramBuilder('property.leaf-inplace');
    b.leaf([1, 2], requiresGrad, 'x');
    const step = { inplace: 'mul_' as const, target: 'x', args: [3] };
    b.push(enabled ? step : { noGrad: [step] }, { observe: 'x' });
    return [b.program()];
  },
  judge: ({ enabled, requiresGrad }, [o]) => {
    const shouldFail = enabled && requiresGrad;
    if (shouldFail) return o!.error?.category === 'leaf-inplace' ? null : `expected leaf-inplace, got ${errorOf(o!)}`;
    if (o!.error) return `unexpected ${errorOf(o!)}`;
    const x = find(o!, 'x')!;
    const ok = x.isLeaf !== false && (x.requiresGrad === undefined || x.requiresGrad === requiresGrad) && (x.version === undefined || x.version === 1);
    return ok ? null : `after the in-place op: ${JSON.stringify(x)}`;
  },
};


/** Broadcasting as the spec defines it, to predict whether an op must fail. */
const broadcasts = (a: number[], b: number[]) =>
  a.slice().reverse().every((d, i) => { const e = b[b.length - 1 - i]; return e === undefined || d === e || d === 1 || e === 1; });

export const shapeErrors: Property<{ a: number[]; b: number[]; op: 'add' | 'mul' | 'matmul' | 'sum'; dim: number }> = {
  id: 'semantics.shape-errors',
  clauses: ['op.broadcast', 'op.matmul', 'op.dims', 'errors.class'],
  title: 'shape errors fire exactly when shapes do not broadcast, inner sizes differ, or a dim is out of range',
  needs: ['errors'],
  arbitrary: fc.record({
    a: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
    b: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
    op: fc.constantFrom('add' as const, 'mul' as const, 'matmul' as const, 'sum' as const),
    dim: fc.integer({ min: -4, max: 3 }),
  }, { noNullPrototype: true }),
  programs: ({ a, b, op, dim }) => {
    const p = new ProgramBuilder('property.shape-errors');
    p.leaf(nest(new Array<number>(numel(a)).fill(1), a), true, 'a');
    p.leaf(nest(new Array<number>(numel(b)).fill(2), b), true, 'b');
    const out = op === 'sum' ? p.op('sum', ['a'], { dim }) : p.op(op, ['a', 'b']);
    p.push({ observe: out, label: 'result' });
    return [p.program()];
  },
  judge: ({ a, b, op, dim }, [o]) => {
    let expected: string | null = null;
    if (op === 'add' || op === 'mul') expected = broadcasts(a, b) ? null : 'shape-mismatch';
    else if (op === 'sum') expected = dim >= -Math.max(a.length, 1) && dim < Math.max(a.length, 1) ? null : 'invalid-argument';
    else if (a.length === 0 || b.length === 0) expected = 'invalid-argument';
    else {
      const inner = b.length === 1 ? b[0] : b[b.length - 2];
      const batchA = a.slice(0, -2);
      const batchB = b.slice(0, -2);
      expected = a[a.length - 1] !== inner ? 'shape-mismatch' : broadcasts(batchA, batchB) ? null : 'shape-mismatch';
    }
    const got = o!.error?.category ?? null;
    return got === expected ? null : `expected ${expected ?? 'no error'}, got ${errorOf(o!)}`;
  },
};

export const savedModified: Property<{ op: 'exp' | 'mul' | 'add' | 'sin' | 'sum'; target: 'input' | 'result' }> = {
  id: 'semantics.saved-modified',
  fields: ['version'],
  clauses: ['inplace.saved-modified', 'inplace.version-counter'],
  title: 'modifying a tensor in place fails the later backward exactly when that tensor was saved for it',
  needs: ['errors'],
  arbitrary: fc.record({
    op: fc.constantFrom('exp' as const, 'mul' as const, 'add' as const, 'sin' as const, 'sum' as const),
    target: fc.constantFrom('input' as const, 'result' as const),
  }, { noNullPrototype: true }),
  programs: ({ op, target }) => {
    const p = new ProgramBuilder('property.saved-modified');
    p.leaf([1, 2], true, 'x');
    const h = p.op('mul', ['x', 1]); // a non-leaf, so it may be modified in place
    const r = op === 'mul' ? p.op('mul', [h, h]) : op === 'add' ? p.op('add', [h, 1]) : p.op(op, [h]);
    p.push({ inplace: 'mul_', target: target === 'input' ? h : r, args: [2] }, { observe: target === 'input' ? h : r, label: 'modified' });
    p.push({ backward: p.op('sum', [r]) });
    return [p.program()];
  },
  judge: ({ op, target }, [o]) => {
    // What each op saves (PyTorch 1.13): exp its result, mul and sin their inputs, add and sum nothing.
    const saved = target === 'input' ? op === 'mul' || op === 'sin' : op === 'exp';
    const got = o!.error?.category ?? null;
    if (find(o!, 'modified')?.version !== 1) return `the in-place op left version ${find(o!, 'modified')?.version}, expected 1`;
    return got === (saved ? 'saved-modified' : null) ? null : `expected ${saved ? 'saved-modified' : 'no error'}, got ${errorOf(o!)}`;
  },
};

export const SEMANTICS: AnyProperty[] = [accumulate, zeroGrad, gradReturns, allowUnused, explicitGradient, noGrad, detach, leafOnly, implicitNonScalar, leafInplace, shapeErrors, savedModified];
