import type { Program } from '../spec/program.ts';
import type { Attrs } from '../spec/program.ts';
import { walkProgram, type ActivationOp, type Algebra, type BinaryOp, type CompareOp, type UnaryOp } from './walk.ts';

/**
 * A program's forward computation as mathjs expressions, one per element, in terms of the leaf
 * elements `<leaf>_<flatindex>`. Every stored element is an atom (a symbol, a constant or a
 * parenthesised expression), so an op parenthesises its operands once and never again.
 *
 * Expressions are not shared: a name used many times is copied into each use, so sizes can grow
 * exponentially. Elements longer than MAX_ELEMENT_CHARS are refused with an Error.
 */

export const MAX_ELEMENT_CHARS = 200_000;

export interface Expanded { shape: number[]; exprs: string[] }

export interface Expansion {
  names: Map<string, Expanded>;
  /**
   * Detached elements are fresh symbols (`d$<name>_<i>`, `$` cannot occur in program names), so
   * derivative() sees constants. Each maps to the expression it stands for, in program order: an
   * entry may use earlier entries' symbols. Evaluate them in order to get their values at a point.
   */
  detached: Map<string, string>;
}

export const leafSymbol = (name: string, index: number): string => `${name}_${index}`;
export const detachedSymbol = (name: string, index: number): string => `d$${name}_${index}`;

/** A number as mathjs parses it exactly: String() round-trips, and signs and exponents get parentheses. */
export function numberLiteral(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '(-Infinity)';
  if (Object.is(n, -0)) return '(-0)';
  const s = String(n);
  return n < 0 || s.includes('e') ? `(${s})` : s;
}

const UNARY_FORMS: Record<UnaryOp, (e: string) => string> = {
  neg: (e) => `(-${e})`,
  exp: (e) => `exp(${e})`,
  log: (e) => `log(${e})`,
  sin: (e) => `sin(${e})`,
  cos: (e) => `cos(${e})`,
  tan: (e) => `tan(${e})`,
  tanh: (e) => `tanh(${e})`,
  sigmoid: (e) => `(1 / (1 + exp(-${e})))`, // mathjs cannot differentiate a sigmoid function
  relu: (e) => `max(${e}, 0)`, // symbolic.ts rewrites this before differentiating
  sqrt: (e) => `sqrt(${e})`,
  abs: (e) => `abs(${e})`,
  reciprocal: (e) => `(1 / ${e})`,
  // mathjs cannot differentiate log1p and expm1; these forms have the same derivatives.
  log1p: (e) => `log(1 + ${e})`,
  expm1: (e) => `(exp(${e}) - 1)`,
  erf: (e) => `erf(${e})`, // symbolic.ts rewrites it: mathjs cannot differentiate erf
  atan: (e) => `atan(${e})`,
  asin: (e) => `asin(${e})`,
  acos: (e) => `acos(${e})`,
  sinh: (e) => `sinh(${e})`,
  cosh: (e) => `cosh(${e})`,
  asinh: (e) => `asinh(${e})`,
  acosh: (e) => `acosh(${e})`,
  atanh: (e) => `atanh(${e})`,
  rsqrt: (e) => `(1 / sqrt(${e}))`,
  square: (e) => `(${e} ^ 2)`,
  // Piecewise constant: symbolic.ts sets their values (round half to even) and derivative 0.
  sign: (e) => `sign(${e})`,
  floor: (e) => `floor(${e})`,
  ceil: (e) => `ceil(${e})`,
  round: (e) => `round(${e})`,
  trunc: (e) => `fix(${e})`,
};

/**
 * The activations in forms mathjs differentiates: kinks through max(e, 0) (symbolic.ts: derivative
 * 0 at e = 0, so leakyRelu's gradient at 0 is its slope and elu's α, as PyTorch's), softplus's
 * switch through above(), a constant at the point (the other branch's argument is set to 0 there
 * so that exp cannot overflow), erf rewritten by symbolic.ts.
 */
function activationForm(op: ActivationOp, a: Attrs, e: string): string {
  switch (op) {
    case 'softplus': {
      const [beta, threshold] = [numberLiteral(a.beta ?? 1), numberLiteral(a.threshold ?? 20)];
      const m = `above(${beta} * ${e} - ${threshold})`;
      return `(${m} * ${e} + (1 - ${m}) * log(1 + exp(${beta} * ${e} * (1 - ${m}))) / ${beta})`;
    }
    case 'leakyRelu': {
      const slope = numberLiteral(a.negativeSlope ?? 0.01);
      return `(${slope} * ${e} + (1 - ${slope}) * max(${e}, 0))`;
    }
    case 'elu': return `(max(${e}, 0) + ${numberLiteral(a.alpha ?? 1)} * (exp(${e} - max(${e}, 0)) - 1))`;
    case 'gelu': return a.approximate === 'tanh'
      ? `(0.5 * ${e} * (1 + tanh(${numberLiteral(Math.sqrt(2 / Math.PI))} * (${e} + 0.044715 * ${e} ^ 3))))`
      : `(${e} * 0.5 * (1 + erf(${e} * ${numberLiteral(Math.SQRT1_2)})))`;
    case 'silu': return `(${e} / (1 + exp(-${e})))`;
  }
}

const BINARY_FORMS: Record<BinaryOp, string> = { add: '+', sub: '-', mul: '*', div: '/', pow: '^' };
/**
 * Comparisons as mathjs's comparison functions; symbolic.ts turns each into a point constant (its
 * value at the point, derivative 0), as it does the piecewise-constant functions.
 */
const COMPARE_FORMS: Record<CompareOp, string> = { gt: 'larger', ge: 'largerEq', lt: 'smaller', le: 'smallerEq', eq: 'equal', ne: 'unequal' };

function checked(expr: string): string {
  if (expr.length > MAX_ELEMENT_CHARS) {
    throw new Error(`expandProgram: an element's expression exceeds ${MAX_ELEMENT_CHARS} characters (a value reused too often); use finite differences for this program`);
  }
  return expr;
}

export function expandWithDetached(program: Program): Expansion {
  const detached = new Map<string, string>();
  const algebra: Algebra<string> = {
    leaf: (name, index) => leafSymbol(name, index),
    constant: numberLiteral,
    unary: (op, a) => checked(UNARY_FORMS[op](a)),
    binary: (op, a, b) => checked(`(${a} ${BINARY_FORMS[op]} ${b})`),
    // symbolic.ts differentiates it as a piecewise choice: a where a > bound, else the constant.
    clampMin: (a, bound) => checked(`max(${a}, ${numberLiteral(bound)})`),
    sum: (terms) => (terms.length === 0 ? '0' : terms.length === 1 ? terms[0]! : checked(`(${terms.join(' + ')})`)),
    activation: (op, attrs, a) => checked(activationForm(op, attrs, a)),
    // A point constant (symbolic.ts): pmax's value is set at the point, its derivative is 0.
    shift: (terms) => checked(`pmax(${terms.join(', ')})`),
    // mathjs cannot differentiate max: the symbolic oracle refuses programs with norm(p = inf).
    max: (terms) => (terms.length === 1 ? terms[0]! : checked(`max(${terms.join(', ')})`)),
    product: (factors) => (factors.length === 0 ? '1' : factors.length === 1 ? factors[0]! : checked(`(${factors.join(' * ')})`)),
    compare: (op, a, b) => `${COMPARE_FORMS[op]}(${a}, ${b})`,
    // c is a point constant 0 or 1: the derivative is c·a' + (1 - c)·b', so a branch not taken
    // still multiplies its own derivative by 0 (inf · 0 is nan: op.where.nan-trap), as PyTorch's
    // where(c, 0, g) followed by that branch's backward does. Its value needs finite branches.
    select: (c, a, b) => checked(`(${c} * ${a} + (1 - ${c}) * ${b})`),
    // symbol.ts gives each term its share of the derivative at the point (rewriteSelect).
    choose: (mode, terms) => (terms.length === 1 ? terms[0]! : checked(`sel${mode}(${terms.join(', ')})`)),
    pick: (mode, terms) => (terms.length === 1 ? terms[0]! : checked(`pick${mode}(${terms.join(', ')})`)),
    // symbolic.ts makes it the argument where the gradient passes and a constant elsewhere (rewriteClamp).
    clamp: (a, min, max) => checked(`clampof(${a}, ${numberLiteral(min)}, ${numberLiteral(max)})`),
    detach: (name, index, a) => {
      const symbol = detachedSymbol(name, index);
      detached.set(symbol, a);
      return symbol;
    },
  };
  const env = walkProgram(program, algebra);
  const names = new Map<string, Expanded>();
  for (const [name, { shape, data }] of env) names.set(name, { shape, exprs: data });
  return { names, detached };
}

/** For every bound name: its shape and one expression per element (row-major). */
export function expandProgram(program: Program): Map<string, Expanded> {
  return expandWithDetached(program).names;
}
