import fc from 'fast-check';
import type { Arg, OpName } from '../../spec/program.ts';
import type { ProgramBuilder } from '../build.ts';
import { withNonFinite } from './edges.ts';
import { math } from '../../oracles/mathjs.ts';
import { coefficient, ordinary } from './numbers.ts';

/** A random expression over the variables a and b, before domain guards are applied. */
export type Expr =
  | { kind: 'var'; name: 'a' | 'b' }
  | { kind: 'const'; value: number }
  | { kind: 'unary'; op: UnaryOp | (typeof ACTIVATIONS)[number]; arg: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr };

export const UNARY = [
  'neg', 'sin', 'cos', 'tanh', 'sigmoid', 'exp', 'log', 'sqrt', 'tan', 'reciprocal', 'abs', 'relu',
  'log1p', 'expm1', 'erf', 'atan', 'asin', 'acos', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh', 'rsqrt', 'square',
] as const;
/** The smooth activations of F (gelu in both forms), drawn only where a property asks for them. */
export const ACTIVATIONS = ['gelu', 'geluTanh', 'silu', 'softplus'] as const;
export const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'powInt'] as const;
export type UnaryOp = (typeof UNARY)[number];
export type BinaryOp = (typeof BINARY)[number];

/**
 * Expression trees over every differentiable elementwise op. The leaf arbitrary comes first and
 * cross-shrinking is on, so a failure shrinks towards a small tree (fast-check's recursive
 * structure guidance); simple choices come first in each list for the same reason.
 */
export const expressions = (maxDepth = 6, unary: readonly Extract<Expr, { kind: 'unary' }>['op'][] = UNARY): fc.Arbitrary<Expr> =>
  fc.letrec<{ expr: Expr; leaf: Expr; node: Expr }>((tie) => ({
    expr: fc.oneof({ maxDepth, depthSize: 'large', withCrossShrink: true }, { arbitrary: tie('leaf'), weight: 1 }, { arbitrary: tie('node'), weight: 2 }),
    leaf: fc.oneof(
      fc.constantFrom<'a' | 'b'>('a', 'b').map((name): Expr => ({ kind: 'var', name })),
      coefficient().map((value): Expr => ({ kind: 'const', value })),
    ),
    node: fc.oneof(
      fc.record({ kind: fc.constant('unary' as const), op: fc.constantFrom(...unary), arg: tie('expr') }),
      fc.record({ kind: fc.constant('binary' as const), op: fc.constantFrom(...BINARY), left: tie('expr'), right: tie('expr') }),
    ),
  })).expr;

/** A sample: an expression and the point (a, b) it is evaluated at. */
export interface ExprSample { expr: Expr; a: number; b: number }

export const expressionSamples = (maxDepth = 6, unary: readonly Extract<Expr, { kind: 'unary' }>['op'][] = UNARY): fc.Arbitrary<ExprSample> =>
  fc.record({ expr: expressions(maxDepth, unary), a: ordinary(), b: ordinary() }, { noNullPrototype: true });

/**
 * Emits the steps for an expression, keeping every op inside its domain: log, sqrt, reciprocal
 * and divisors see e*e + c (positive), exp and tan see a tanh (bounded, away from poles), and a
 * tensor exponent has a positive base. Constant subtrees are folded so no op has two numbers.
 * Returns the name of the result, or a number for a constant expression.
 */
export function emit(b: ProgramBuilder, e: Expr, vars: { a: string; b: string }): Arg {
  const positive = (x: Arg, c: number): Arg => b.op('add', [b.op('mul', [x, x]), c]);
  switch (e.kind) {
    case 'var': return vars[e.name];
    case 'const': return e.value;
    case 'unary': {
      const x = emit(b, e.arg, vars);
      if (typeof x === 'number') return foldUnary(e.op, x);
      switch (e.op) {
        case 'log': return b.op('log', [positive(x, 0.5)]);
        case 'sqrt': return b.op('sqrt', [positive(x, 0.25)]);
        case 'reciprocal': return b.op('reciprocal', [positive(x, 0.5)]);
        case 'exp': return b.op('exp', [b.op('tanh', [x])]);
        case 'tan': return b.op('tan', [b.op('mul', [b.op('tanh', [x]), 1.2])]);
        case 'log1p': return b.op('log1p', [positive(x, 0.5)]);
        case 'rsqrt': return b.op('rsqrt', [positive(x, 0.5)]);
        case 'acosh': return b.op('acosh', [positive(x, 1.5)]);
        // Bounded arguments: expm1, sinh and cosh stay far from overflow; asin, acos and atanh inside (-1, 1).
        case 'expm1': case 'sinh': case 'cosh': return b.op(e.op, [b.op('tanh', [x])]);
        case 'asin': case 'acos': case 'atanh': return b.op(e.op, [b.op('mul', [b.op('tanh', [x]), 0.9])]);
        case 'geluTanh': return b.op('gelu', [x], { approximate: 'tanh' });
        // Inside 8 · (-1, 1), softplus stays below its threshold (20): smooth there.
        case 'softplus': return b.op('softplus', [b.op('mul', [b.op('tanh', [x]), 8])]);
        default: return b.op(e.op as OpName, [x]);
      }
    }
    case 'binary': {
      const l = emit(b, e.left, vars);
      const r = emit(b, e.right, vars);
      if (typeof l === 'number' && typeof r === 'number') return foldBinary(e.op, l, r);
      switch (e.op) {
        case 'div': return b.op('div', [l, typeof r === 'number' ? (Math.abs(r) < 0.25 ? r + 1 : r) : positive(r, 0.5)]);
        case 'pow': {
          const base = typeof l === 'number' ? Math.abs(l) + 0.5 : positive(l, 0.5);
          const exponent = typeof r === 'number' ? r : b.op('tanh', [r]);
          return typeof base === 'number' && typeof exponent === 'number' ? base ** exponent : b.op('pow', [base, exponent]);
        }
        case 'powInt': return typeof l === 'number' ? l * l : b.op('pow', [l, 2 + (Math.abs(Math.round(typeof r === 'number' ? r : 1)) % 2)]);
        default: return b.op(e.op, [l, r]);
      }
    }
  }
}

function foldUnary(op: UnaryOp | (typeof ACTIVATIONS)[number], x: number): number {
  switch (op) {
    case 'gelu': return x * 0.5 * (1 + erf(x * Math.SQRT1_2));
    case 'geluTanh': return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'silu': return x / (1 + Math.exp(-x));
    case 'softplus': return Math.log1p(Math.exp(8 * Math.tanh(x)));
    case 'neg': return -x;
    case 'sin': return Math.sin(x);
    case 'cos': return Math.cos(x);
    case 'tanh': return Math.tanh(x);
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'exp': return Math.exp(Math.tanh(x));
    case 'log': return Math.log(x * x + 0.5);
    case 'sqrt': return Math.sqrt(x * x + 0.25);
    case 'tan': return Math.tan(Math.tanh(x) * 1.2);
    case 'reciprocal': return 1 / (x * x + 0.5);
    case 'abs': return Math.abs(x);
    case 'relu': return Math.max(x, 0);
    case 'log1p': return Math.log1p(x * x + 0.5);
    case 'expm1': return Math.expm1(Math.tanh(x));
    case 'erf': return erf(x);
    case 'atan': return Math.atan(x);
    case 'asin': return Math.asin(Math.tanh(x) * 0.9);
    case 'acos': return Math.acos(Math.tanh(x) * 0.9);
    case 'sinh': return Math.sinh(Math.tanh(x));
    case 'cosh': return Math.cosh(Math.tanh(x));
    case 'asinh': return Math.asinh(x);
    case 'acosh': return Math.acosh(x * x + 1.5);
    case 'atanh': return Math.atanh(Math.tanh(x) * 0.9);
    case 'rsqrt': return 1 / Math.sqrt(x * x + 0.5);
    case 'square': return x * x;
  }
}

/** erf of a folded constant, from the oracles' mathjs (properties do not reach the engine). */
const erf = (x: number): number => math.erf(x) as number;

function foldBinary(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case 'add': return l + r;
    case 'sub': return l - r;
    case 'mul': return l * r;
    case 'div': return l / (Math.abs(r) < 0.25 ? r + 1 : r);
    case 'pow': return (Math.abs(l) + 0.5) ** r;
    case 'powInt': return l * l;
  }
}

/**
 * The expression plus a * b, so that both variables always reach the result and the result is a
 * tensor even when the expression folds to a constant.
 */
export function emitRoot(b: ProgramBuilder, e: Expr, vars: { a: string; b: string }): string {
  return b.op('add', [emit(b, e, vars), b.op('mul', [vars.a, vars.b])]);
}

/** Polynomials of degree 1 to 8 with small coefficients (the seed document's 2x^4 + x^3 + 3x^2 + 5x + 1 is one). */
export interface PolySample { coefficients: number[]; x: number }

/**
 * With `nonFinite`, x is nan, inf or -inf in about one sample in 16 (properties/non-finite.ts
 * judges those). Only first-order properties ask for it: mathjs's second derivatives at a
 * non-finite point are not PyTorch's double backward.
 */
export const polynomials = (options: { nonFinite?: boolean } = {}): fc.Arbitrary<PolySample> =>
  fc.record({ coefficients: fc.array(coefficient(), { minLength: 2, maxLength: 9 }), x: options.nonFinite ? withNonFinite(ordinary()) : ordinary() }, { noNullPrototype: true });

/** y = c0 + c1 x + c2 x^2 + ..., written as the document writes it: powers, scalar products, sums. */
export function emitPolynomial(b: ProgramBuilder, p: PolySample, x: string): string {
  let y: string | null = null;
  for (let k = p.coefficients.length - 1; k >= 1; k--) {
    const power = k === 1 ? x : b.op('pow', [x, k]);
    const term = b.op('mul', [p.coefficients[k]!, power]);
    y = y === null ? term : b.op('add', [y, term]);
  }
  return b.op('add', [y!, p.coefficients[0]!]);
}
