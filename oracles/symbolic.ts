import type { EvalFunction, MathNode } from 'mathjs';
import type { Program } from '../spec/program.ts';
import { flattenData } from './data.ts';
import { clampOf, roundHalfEven, selectOf, signOf } from './evaluate.ts';
import { expandWithDetached, leafSymbol, type Expansion } from './expand.ts';
import { math } from './mathjs.ts';
import { leafSteps } from './walk.ts';

/**
 * Exact derivatives from mathjs, evaluated in float64.
 *
 * Always `derivative(..., { simplify: false })`: simplify is about 100 times slower and rewrites
 * `(x^2)^(1/2)` to `x` (mathjs#3329), a wrong answer for negative x.
 *
 * Kinks: mathjs cannot differentiate `max` (so not relu) and turns `abs(e)` into `abs(e)/e`, NaN at
 * 0. Before differentiating, `max(e, 0)` becomes `e * H` and `abs(e)` becomes `e * S`, where H and
 * S are fresh symbols that derivative() treats as constants and whose values are set at the point:
 * H = (e > 0 ? 1 : 0), S = sign(e). Away from e = 0 this is exactly the derivative; at e = 0 it
 * gives 0, which is also what PyTorch's relu and abs backward give there. `max(e, c)` for another
 * constant c (binary_cross_entropy's logs clamped at -100) becomes e * C + c * (1 - C), C = (e > c ? 1 : 0).
 */

export type Scope = Readonly<Record<string, number>> | ReadonlyMap<string, number>;


/** Comparisons (expand.ts writes them as mathjs's functions): point constants 1 or 0, IEEE on nan. */
type Comparison = 'larger' | 'largerEq' | 'smaller' | 'smallerEq' | 'equal' | 'unequal';
const COMPARISONS: Record<Comparison, (a: number, b: number) => boolean> = {
  larger: (a, b) => a > b, largerEq: (a, b) => a >= b, smaller: (a, b) => a < b,
  smallerEq: (a, b) => a <= b, equal: (a, b) => a === b, unequal: (a, b) => a !== b,
};
const isComparison = (name: string): name is Comparison => Object.hasOwn(COMPARISONS, name);
/** `lower`: a clamp's bound rides along: `max(e, c)` with a constant c other than 0 (binary_cross_entropy's -100). */
type Step = { symbol: string; kind: 'relu' | 'abs' | 'lower' | Piecewise | Comparison; inner: EvalFunction; other?: EvalFunction; bound?: number }
  /** One weight symbol per term of a selection (rewriteSelect), all set at once at the point. */
  | { symbols: string[]; kind: 'select'; mode: 'max' | 'min'; terms: EvalFunction[] }
  /** The same for max(dim)'s values: the first selected term alone (pickWeights). */
  | { symbols: string[]; kind: 'pick'; mode: 'max' | 'min'; terms: EvalFunction[] }
  /** clamp's pass symbol P and constant C (rewriteClamp). */
  | { symbols: [string, string]; kind: 'clamp'; inner: EvalFunction; min: number; max: number };

/**
 * Piecewise-constant functions (floor, ceil, fix for trunc, sign, round) have derivative 0 wherever
 * it exists, and PyTorch's backward gives 0 at their jumps too. mathjs cannot differentiate them,
 * and its round is half away from zero where PyTorch's is half to even: each becomes a fresh
 * symbol, constant to derivative(), whose value is computed here at the point.
 */
type Piecewise = 'floor' | 'ceil' | 'fix' | 'sign' | 'round' | 'erfAt' | 'erfValue' | 'above' | 'pmax';
const PIECEWISE: Record<Piecewise, (x: number) => number> = {
  // softplus's switch to the identity: 1 strictly above 0 (expand.ts).
  above: (x) => (x > 0 ? 1 : 0),
  // The softmax family's max shift (expand.ts, walk.ts): the max of its arguments (evaluated as
  // mathjs's max), 0 where that is infinite. Any constant would do; this one keeps exp finite.
  pmax: (x) => (Math.abs(x) === Infinity ? 0 : x),
  // erf's point and value (see rewritePiecewise): not piecewise, but set at the point the same way.
  erfAt: (x) => x,
  erfValue: (x) => math.erf(x) as number,
  floor: Math.floor,
  ceil: Math.ceil,
  fix: Math.trunc,
  sign: signOf,
  round: roundHalfEven,
};
const isPiecewise = (name: string): name is Piecewise => Object.hasOwn(PIECEWISE, name) && !name.startsWith('erf');

interface Entry {
  value: EvalFunction;
  /** The expression with relu and abs rewritten, and its step symbols in evaluation order. */
  node: MathNode;
  steps: Step[];
  symbols: Set<string>;
  first: Map<string, EvalFunction>;
  second: Map<string, EvalFunction>;
}

// Expressions can be large; the cap bounds memory while keeping a property run's working set.
const CACHE_LIMIT = 500;
const cache = new Map<string, Entry>();
const stats = { compiled: 0, reused: 0, derivatives: 0, derivativesReused: 0 };

/** How often an expression or derivative was compiled versus found compiled (benchmarks report it). */
export const cacheStats = (): Readonly<typeof stats> => ({ ...stats });

function entry(expr: string): Entry {
  const hit = cache.get(expr);
  if (hit) {
    stats.reused++;
    cache.delete(expr); // move to the back: least recently used entries leave first
    cache.set(expr, hit);
    return hit;
  }
  if (nesting(expr) > MAX_NESTING) throw new Error(TOO_DEEP);
  const parsed = guarded(() => math.parse(expr));
  stats.compiled++;
  guarded(() => checkWhitelist(parsed, expr));
  const steps: Step[] = [];
  const constant = guarded(() => rewritePiecewise(parsed, steps));
  const made: Entry = {
    value: guarded(() => constant.compile()),
    node: guarded(() => rewriteKinks(constant, steps)),
    steps,
    symbols: guarded(() => new Set(parsed.filter((n) => math.isSymbolNode(n)).map((n) => (n as unknown as { name: string }).name))),
    first: new Map(),
    second: new Map(),
  };
  cache.set(expr, made);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return made;
}

/** Bottom-up, as rewriteKinks; the values of the piecewise symbols are set by fullScope. */
function rewritePiecewise(node: MathNode, steps: Step[]): MathNode {
  const mapped = node.map((child) => rewritePiecewise(child, steps));
  if (math.isFunctionNode(mapped) && mapped.fn.name === 'clampof' && mapped.args.length === 3) return rewriteClamp(mapped.args as [MathNode, MathNode, MathNode], steps);
  if (math.isFunctionNode(mapped) && (mapped.fn.name === 'selmax' || mapped.fn.name === 'selmin')) {
    return rewriteSelect(mapped.fn.name === 'selmax' ? 'max' : 'min', mapped.args, steps);
  }
  if (math.isFunctionNode(mapped) && (mapped.fn.name === 'pickmax' || mapped.fn.name === 'pickmin')) {
    return rewriteSelect(mapped.fn.name === 'pickmax' ? 'max' : 'min', mapped.args, steps, 'pick');
  }
  if (math.isFunctionNode(mapped) && mapped.fn.name === 'erf' && mapped.args.length === 1) return rewriteErf(mapped.args[0]!, steps);
  if (math.isFunctionNode(mapped) && mapped.fn.name === 'pmax' && mapped.args.length > 0) {
    const symbol = `pmax$${steps.length}`;
    steps.push({ symbol, kind: 'pmax', inner: new math.FunctionNode('max', mapped.args).compile() });
    return new math.SymbolNode(symbol);
  }
  if (math.isFunctionNode(mapped) && isComparison(mapped.fn.name) && mapped.args.length === 2) {
    const symbol = `${mapped.fn.name}$${steps.length}`;
    steps.push({ symbol, kind: mapped.fn.name, inner: mapped.args[0]!.compile(), other: mapped.args[1]!.compile() });
    return new math.SymbolNode(symbol);
  }
  if (!math.isFunctionNode(mapped) || mapped.args.length !== 1 || !isPiecewise(mapped.fn.name)) return mapped;
  const symbol = `${mapped.fn.name}$${steps.length}`;
  steps.push({ symbol, kind: mapped.fn.name, inner: mapped.args[0]!.compile() });
  return new math.SymbolNode(symbol);
}

/**
 * A selection (max or min of terms, expand.ts) as the point choice: t1·W1 + ... + tk·Wk, with W
 * symbols constant to derivative() and set at the point to 1/n for the n terms equal to the
 * selected value (to the nan terms where it is nan) and 0 for the rest. The value is the selected
 * one, and the derivative is shared evenly by ties, as op.max and op.amax state.
 */
function rewriteSelect(mode: 'max' | 'min', terms: MathNode[], steps: Step[], kind: 'select' | 'pick' = 'select'): MathNode {
  const symbols = terms.map((_, i) => `select$${steps.length}_${i}`);
  const compiled = terms.map((t) => t.compile());
  steps.push(kind === 'select' ? { symbols, kind, mode, terms: compiled } : { symbols, kind, mode, terms: compiled });
  const products = terms.map((t, i) => `(${t.toString({ parenthesis: 'all' })}) * ${symbols[i]}`);
  return math.parse(`(${products.join(' + ')})`);
}

/**
 * clamp(u, min, max) as the point choice u·P + C: where min <= u <= max (bounds included, as
 * op.clamp passes the gradient there) P = 1 and C = 0, elsewhere P = 0 and C is the clamped value.
 */
function rewriteClamp([u, min, max]: [MathNode, MathNode, MathNode], steps: Step[]): MathNode {
  const symbols: [string, string] = [`clampPass$${steps.length}`, `clampValue$${steps.length}`];
  steps.push({ symbols, kind: 'clamp', inner: u.compile(), min: asNumber(min.compile().evaluate()), max: asNumber(max.compile().evaluate()) });
  return math.parse(`((${u.toString({ parenthesis: 'all' })}) * ${symbols[0]} + ${symbols[1]})`);
}

/** Each term's share of a selection's derivative: 1/n for the n terms equal to the selected value. */
function selectWeights(mode: 'max' | 'min', values: readonly number[]): number[] {
  const r = selectOf(mode, values);
  const chosen = values.map((v) => (Number.isNaN(r) ? Number.isNaN(v) : v === r));
  const n = chosen.filter(Boolean).length;
  return chosen.map((c) => (c ? 1 / n : 0));
}

/** max(dim)'s choice: 1 for the first term equal to the selected value (the first nan where it is nan), 0 for the rest. */
function pickWeights(mode: 'max' | 'min', values: readonly number[]): number[] {
  const r = selectOf(mode, values);
  const first = values.findIndex((v) => (Number.isNaN(r) ? Number.isNaN(v) : v === r));
  return values.map((_, i) => (i === first ? 1 : 0));
}

/**
 * mathjs cannot differentiate erf. erf(u) becomes E + c·exp(-U²)·((u - U) - U·(u - U)²), with U and
 * E symbols set to u and erf(u) at the point and c = 2/√π: the same value there, and the same first
 * and second derivatives (c·e^(-u²)·u' and c·e^(-u²)·(u'' - 2u·u'²)); third ones would differ.
 */
function rewriteErf(u: MathNode, steps: Step[]): MathNode {
  const at = `erfAt$${steps.length}`;
  steps.push({ symbol: at, kind: 'erfAt', inner: u.compile() });
  const value = `erfValue$${steps.length}`;
  steps.push({ symbol: value, kind: 'erfValue', inner: u.compile() });
  const inner = u.toString({ parenthesis: 'all' });
  return math.parse(`(${value} + (2 / sqrt(pi)) * exp(-(${at} ^ 2)) * (((${inner}) - ${at}) - ${at} * ((${inner}) - ${at}) ^ 2))`);
}

/** Bottom-up, so an inner kink's step comes before the outer one that uses it. */
function rewriteKinks(node: MathNode, steps: Step[]): MathNode {
  const mapped = node.map((child) => rewriteKinks(child, steps));
  if (!math.isFunctionNode(mapped)) return mapped;
  const name = mapped.fn.name;
  const [e, zero] = mapped.args;
  const isRelu = name === 'max' && mapped.args.length === 2 && math.isConstantNode(zero) && zero.value === 0;
  const isAbs = name === 'abs' && mapped.args.length === 1;
  const isClamp = name === 'max' && mapped.args.length === 2 && !isRelu && zero !== undefined && zero.filter((n) => math.isSymbolNode(n)).length === 0;
  if (e && isClamp) {
    const bound = asNumber(zero.compile().evaluate());
    const symbol = `lower$${steps.length}`;
    steps.push({ symbol, kind: 'lower', inner: e.compile(), bound });
    return math.parse(`((${e.toString({ parenthesis: 'all' })}) * ${symbol} + (${bound}) * (1 - ${symbol}))`);
  }
  if (!e || (!isRelu && !isAbs)) return mapped;
  const symbol = `${isRelu ? 'relu' : 'sign'}$${steps.length}`; // `$` keeps it apart from leaf symbols
  steps.push({ symbol, kind: isRelu ? 'relu' : 'abs', inner: e.compile() });
  return new math.OperatorNode('*', 'multiply', [new math.ParenthesisNode(e), new math.SymbolNode(symbol)]);
}

const asNumber = (v: unknown): number => (typeof v === 'number' ? v : NaN);

/**
 * mathjs parses and differentiates recursively, so deep nesting exhausts the stack at a depth that
 * depends on the caller's stack. A fixed limit on parenthesis depth refuses such expressions the
 * same way everywhere; the RangeError guard around each walk of mathjs catches what it misses.
 */
const MAX_NESTING = 120;
const TOO_DEEP = `symbolic oracle: the expression is nested too deeply for mathjs (more than ${MAX_NESTING} levels); use finite differences`;

/**
 * mathjs only ever sees expressions gradspec generated, and this makes sure of it: constants,
 * symbols, parentheses, arithmetic operators and the elementwise functions of the op table. No
 * assignment, no function definition, no access to mathjs's own functions (import, evaluate...).
 */
const FUNCTIONS = new Set([
  'exp', 'log', 'sin', 'cos', 'tan', 'tanh', 'sqrt', 'abs', 'max',
  'atan', 'asin', 'acos', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh', 'floor', 'ceil', 'fix', 'sign', 'round', 'erf',
  'above', 'pmax',
  'larger', 'largerEq', 'smaller', 'smallerEq', 'equal', 'unequal',
  'selmax', 'selmin', 'pickmax', 'pickmin', 'clampof',
]);
const OPERATORS = new Set(['+', '-', '*', '/', '^']);

function checkWhitelist(node: MathNode, expr: string): void {
  node.traverse((n) => {
    const ok = math.isConstantNode(n) || math.isSymbolNode(n) || math.isParenthesisNode(n)
      || (math.isOperatorNode(n) && OPERATORS.has(n.op))
      || (math.isFunctionNode(n) && math.isSymbolNode(n.fn) && FUNCTIONS.has(n.fn.name));
    if (!ok) throw new Error(`symbolic oracle: refusing '${n.toString()}' (a ${n.type}) in ${expr.slice(0, 120)}: only generated arithmetic is evaluated`);
  });
}

function nesting(expr: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr.charCodeAt(i);
    if (c === 40) max = Math.max(max, ++depth); // (
    else if (c === 41) depth--; // )
  }
  return max;
}

function guarded<T>(make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new Error(TOO_DEEP);
  }
}

/** The scope as a Map (mathjs rejects null-prototype objects), with the step symbols set. */
function fullScope(e: Entry, scope: Scope): Map<string, number> {
  const out = scope instanceof Map ? new Map(scope) : new Map(Object.entries(scope));
  for (const step of e.steps) {
    if (step.kind === 'clamp') {
      const v = asNumber(step.inner.evaluate(out));
      const pass = v >= step.min && v <= step.max;
      out.set(step.symbols[0], pass ? 1 : 0);
      out.set(step.symbols[1], pass ? 0 : clampOf(v, step.min, step.max));
      continue;
    }
    if (step.kind === 'pick') {
      const weights = pickWeights(step.mode, step.terms.map((t) => asNumber(t.evaluate(out))));
      step.symbols.forEach((symbol, i) => out.set(symbol, weights[i]!));
      continue;
    }
    if (step.kind === 'select') {
      const weights = selectWeights(step.mode, step.terms.map((t) => asNumber(t.evaluate(out))));
      step.symbols.forEach((symbol, i) => out.set(symbol, weights[i]!));
      continue;
    }
    const v = asNumber(step.inner.evaluate(out));
    if (step.other) {
      out.set(step.symbol, COMPARISONS[step.kind as Comparison](v, asNumber(step.other.evaluate(out))) ? 1 : 0);
      continue;
    }
    out.set(step.symbol, step.kind === 'relu' ? (v > 0 ? 1 : 0) : step.kind === 'abs' ? Math.sign(v)
      : step.kind === 'lower' ? (v > step.bound! ? 1 : 0) : PIECEWISE[step.kind as Piecewise](v));
  }
  return out;
}

function firstDerivative(e: Entry, v: string): EvalFunction {
  let d = e.first.get(v);
  if (d) {
    stats.derivativesReused++;
  } else {
    stats.derivatives++;
    d = guarded(() => math.derivative(e.node, v, { simplify: false }).compile());
    e.first.set(v, d);
  }
  return d;
}

export function evaluate(expr: string, scope: Scope): number {
  const e = entry(expr);
  // The piecewise symbols need their values; without any, the scope is the caller's.
  return asNumber(e.value.evaluate(e.steps.length > 0 ? fullScope(e, scope) : scope instanceof Map ? scope : new Map(Object.entries(scope))));
}

/** First partials of `expr` with respect to each of `vars`, at `scope`. */
export function gradientAt(expr: string, vars: readonly string[], scope: Scope): Float64Array {
  const e = entry(expr);
  const s = fullScope(e, scope);
  return Float64Array.from(vars, (v) => (e.symbols.has(v) ? asNumber(firstDerivative(e, v).evaluate(s)) : 0));
}

/** d²expr / (d v1 d v2) at `scope`: the derivative of the derivative. */
export function secondPartialAt(expr: string, v1: string, v2: string, scope: Scope): number {
  const e = entry(expr);
  if (!e.symbols.has(v1) || !e.symbols.has(v2)) return 0;
  const key = `${v1}\u0000${v2}`;
  let d = e.second.get(key);
  if (!d) {
    const once = guarded(() => math.derivative(e.node, v1, { simplify: false }));
    d = guarded(() => math.derivative(once, v2, { simplify: false }).compile());
    e.second.set(key, d);
  }
  return asNumber(d.evaluate(fullScope(e, scope)));
}

/**
 * The leaf values (with `point` overriding some), then the detached symbols evaluated in order:
 * everything an expanded expression of `program` needs.
 */
export function programScope(program: Program, point?: ReadonlyMap<string, ArrayLike<number>>): Map<string, number> {
  return scopeOf(program, expandWithDetached(program), point);
}

function scopeOf(program: Program, expansion: Expansion, point?: ReadonlyMap<string, ArrayLike<number>>): Map<string, number> {
  const scope = new Map<string, number>();
  for (const leaf of leafSteps(program.steps)) {
    const { values } = flattenData(leaf.tensor);
    const given = point?.get(leaf.let) ?? values;
    if (given.length !== values.length) throw new Error(`point for ${leaf.let} has ${given.length} elements, the leaf ${values.length}`);
    for (let i = 0; i < values.length; i++) scope.set(leafSymbol(leaf.let, i), given[i]!);
  }
  for (const [symbol, expr] of expansion.detached) scope.set(symbol, evaluate(expr, scope));
  return scope;
}

/**
 * The vector-Jacobian product gradOutput^T · d output / d input for each input leaf, at the leaf
 * values of the program (or `point`). Detached values count as constants.
 */
export function symbolicVjp(
  program: Program,
  output: string,
  inputs: readonly string[],
  gradOutput: ArrayLike<number>,
  point?: ReadonlyMap<string, ArrayLike<number>>,
): Map<string, Float64Array> {
  const expansion = expandWithDetached(program);
  const out = expansion.names.get(output);
  if (!out) throw new Error(`${output} is not a value the oracles model`);
  if (gradOutput.length !== out.exprs.length) {
    throw new Error(`${output} has ${out.exprs.length} elements but the output gradient ${gradOutput.length} (symbolicGradient needs a one-element output)`);
  }
  const scope = scopeOf(program, expansion, point);
  const leaves = new Map(leafSteps(program.steps).map((l) => [l.let, l]));
  const result = new Map<string, Float64Array>();
  for (const input of inputs) {
    const leaf = leaves.get(input);
    if (!leaf) throw new Error(`${input} is not a leaf of the program`);
    const symbols = Array.from(flattenData(leaf.tensor).values, (_, j) => leafSymbol(input, j));
    const grad = new Float64Array(symbols.length);
    out.exprs.forEach((expr, k) => {
      const g = gradOutput[k]!;
      if (g === 0) return; // a zero weight adds nothing, not even a NaN partial
      gradientAt(expr, symbols, scope).forEach((d, j) => (grad[j] = grad[j]! + g * d));
    });
    result.set(input, grad);
  }
  return result;
}

/** d output / d input for a one-element output, as `output.backward()` accumulates it. */
export function symbolicGradient(
  program: Program,
  output: string,
  inputs: readonly string[],
  point?: ReadonlyMap<string, ArrayLike<number>>,
): Map<string, Float64Array> {
  return symbolicVjp(program, output, inputs, [1], point);
}
