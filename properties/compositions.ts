import fc from 'fast-check';
import { compareGradient } from '../oracles/compare.ts';
import { expandProgram } from '../oracles/expand.ts';
import { programScope, secondPartialAt } from '../oracles/symbolic.ts';
import type { ClauseId } from '../spec/clauses.ts';
import type { Program } from '../spec/program.ts';
import { emitPolynomial, emitRoot, expressionSamples, polynomials, type ExprSample } from './arbitraries/expressions.ts';
import { asLeafValue } from './arbitraries/edges.ts';
import { ProgramBuilder } from './build.ts';
import { gradientProperty, judgeable, type GradientCase } from './gradient.ts';
import { errorOf, find, flat } from './observed.ts';
import type { AnyProperty, Property } from './property.ts';

/*
 * Compositions: random polynomials (the seed document's kind of function) and random expression
 * trees over every elementwise op, first order through both oracles and second order through
 * createGraph against mathjs's second derivatives.
 */

export function polynomialCase(p: { coefficients: number[]; x: number }): GradientCase {
  const b = new ProgramBuilder('property.polynomial');
  const x = b.leaf(asLeafValue(p.x, 'float64'), true, 'x');
  const out = emitPolynomial(b, p, x);
  return { program: b.program(), out, inputs: [x], nonFinite: { kind: 'polynomial', coefficients: p.coefficients, x } };
}

export function expression(s: ExprSample): GradientCase {
  const b = new ProgramBuilder('property.expression');
  b.leaf(s.a, true, 'a');
  b.leaf(s.b, true, 'b');
  const out = emitRoot(b, s.expr, { a: 'a', b: 'b' });
  return { program: b.program(), out, inputs: ['a', 'b'] };
}

/** At x = nan, inf or -inf (one sample in 16) the value and derivative are judged by properties/non-finite.ts. */
export const polynomialGradient = gradientProperty('gradient.polynomial', ['backward.scalar-seed', 'op.pow', 'op.mul', 'op.add'],
  'random polynomials of degree 1 to 8: value and derivative match both oracles', polynomials({ nonFinite: true }).map(polynomialCase));

/*
 * Expression trees and tensor programs draw finite leaves only: at an infinite leaf their gradients
 * are chains of inf·0 whose nan or inf depends on the order every backward formula multiplies in,
 * which no oracle here models short of a second engine; their ops are judged at nan, inf and -inf
 * one by one (properties/ops.ts), and polynomials chain pow, mul and add at them.
 */
export const expressionGradient = gradientProperty('gradient.expression', ['backward.fan-in', 'op.scalar-operands'],
  'random expression trees over every elementwise op: the chain rule and fan-in match both oracles', expressionSamples().map(expression));

/** Second order: grad(grad(out, a, createGraph), [a, b]) against mathjs's second partials. */
export function secondOrder(id: string, title: string, cases: fc.Arbitrary<GradientCase>, clauses: readonly ClauseId[] = ['backward.create-graph', 'grad.allow-unused']): Property<GradientCase> {
  return {
    id,
    clauses: clauses as [ClauseId, ...ClauseId[]],
    title,
    arbitrary: cases,
    precondition: judgeable,
    programs: (c) => {
      const [first, ...rest] = c.inputs as [string, ...string[]];
      const program: Program = {
        ...c.program,
        steps: [
          ...c.program.steps,
          { let: ['g'], grad: { outputs: [c.out], inputs: [first], createGraph: true } },
          { let: c.inputs.map((x) => `h_${x}`), grad: { outputs: ['g'], inputs: [first, ...rest], allowUnused: true } },
          ...c.inputs.map((x) => ({ observe: `h_${x}` })),
        ],
      };
      return [program];
    },
    judge: (c, [o], engine, { dtype }) => {
      if (o!.error) {
        // A first derivative that no longer depends on any input does not require grad, and
        // PyTorch refuses to differentiate it (no-grad-fn); every second partial is then 0.
        if (o!.error.category !== 'no-grad-fn') return `unexpected error: ${errorOf(o!)}`;
      }
      const expr = expandProgram(c.program).get(c.out)!.exprs[0]!;
      const scope = programScope(c.program);
      const first = `${c.inputs[0]}_0`;
      for (const x of c.inputs) {
        const expected = secondPartialAt(expr, first, `${x}_0`, scope);
        const obs = find(o!, `h_${x}`);
        const actual = o!.error || !obs || obs.none ? 0 : flat(obs.value)[0]!;
        const problem = compareGradient({
          actual: [actual], expected: [expected], dtype, oracle: 'symbolic', engine: engine.name,
          what: `d2 ${c.out} / d ${c.inputs[0]} d ${x}`, shape: [],
        });
        if (problem) return problem;
      }
      return null;
    },
  };
}

export const polynomialSecondOrder = secondOrder('gradient.polynomial.second-order',
  'second derivatives of random polynomials through createGraph match mathjs', polynomials().map(polynomialCase));

export const expressionSecondOrder = secondOrder('gradient.expression.second-order',
  'second partials of random expression trees through createGraph match mathjs', expressionSamples(4).map(expression));

export const COMPOSITIONS: AnyProperty[] = [polynomialGradient, polynomialSecondOrder, expressionGradient, expressionSecondOrder];
