import type { ErrorCategory } from '../spec/program.ts';
import { Tensor } from './tensor.ts';

/** The op that failed and the shapes of its tensor operands, in the order the op takes them. */
export interface ErrorContext {
  op?: string;
  shapes?: readonly (readonly number[])[];
}

/**
 * The one error class the engine throws. `message` carries PyTorch 1.13's text where PyTorch has
 * one, so users match errors as they would in PyTorch; `category` is the engine-neutral kind
 * (spec/program.ts) that the harness compares across engines. The public call that failed adds
 * its op and the shapes of its operands after PyTorch's text (errors.class), so messages compare
 * by prefix: `... at non-singleton dimension 1 (in add with shapes [2, 3] and [2])`.
 */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly category: ErrorCategory,
    /** PyTorch's text (or the engine's own), without the context. */
    readonly text: string,
    /** The op that failed and the shapes it was given, when the failure is about an op. */
    readonly context: ErrorContext = {},
  ) {
    super(context.op ? `${text} (in ${context.op}${shapesText(context.shapes)})` : text);
  }
}

function shapesText(shapes?: readonly (readonly number[])[]): string {
  if (!shapes || shapes.length === 0) return '';
  return ` with shape${shapes.length > 1 ? 's' : ''} ${shapes.map((s) => `[${s.join(', ')}]`).join(' and ')}`;
}

export function fail(category: ErrorCategory, message: string): never {
  throw new EngineError(category, message);
}

/** The shapes of the tensors among a call's operands; a list of tensors counts one by one. */
function shapesOf(operands: readonly unknown[]): number[][] {
  const shapes: number[][] = [];
  const visit = (x: unknown, nested: boolean): void => {
    if (Array.isArray(x) && !nested) x.slice(0, 64).forEach((y) => visit(y, true));
    else if (x instanceof Tensor) shapes.push([...x.shape]);
  };
  operands.forEach((x) => visit(x, false));
  return shapes;
}

/** `e` with the op and its operands' shapes added, unless it already names an op. */
export function withContext(e: unknown, op: string, operands: readonly unknown[]): unknown {
  if (!(e instanceof EngineError) || e.context.op !== undefined) return e;
  const next = new EngineError(e.category, e.text, { op, shapes: shapesOf(operands) });
  // Keep the stack of the place that failed, under the new message.
  if (e.stack) next.stack = `${next.name}: ${next.message}${e.stack.slice(e.stack.indexOf('\n'))}`;
  return next;
}

/** Nesting of public calls: only the outermost one (the user's call) adds its context. */
let depth = 0;

/**
 * Runs one public API call. An EngineError from inside it leaves with the call's op and the
 * shapes of its tensor operands after PyTorch's text; calls the engine makes internally (an op's
 * backward rule calling `g.mul(...)`) add nothing, so the user sees the call they made.
 */
export function guard<T>(op: string, operands: readonly unknown[], fn: () => T): T {
  if (depth > 0) return fn();
  depth++;
  try {
    return fn();
  } catch (e) {
    throw withContext(e, op, operands);
  } finally {
    depth--;
  }
}

/** A short description of a JavaScript value for argument errors: `the string '0'`, `null`, `an array`. */
export function typeName(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return 'an array';
  switch (typeof x) {
    case 'number': return `the number ${x}`;
    case 'string': return `the string ${JSON.stringify(x.length > 20 ? `${x.slice(0, 20)}...` : x)}`;
    case 'boolean': return `the boolean ${x}`;
    case 'bigint': return 'a bigint';
    case 'symbol': return 'a symbol';
    case 'function': return 'a function';
    default: {
      const name: unknown = Object.getPrototypeOf(x)?.constructor?.name;
      return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object';
    }
  }
}
