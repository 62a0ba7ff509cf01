import type { ErrorCategory } from '../spec/program.ts';

/**
 * The one error class the engine throws. `message` carries PyTorch 1.13's text where PyTorch has
 * one, so users match errors as they would in PyTorch; `category` is the engine-neutral kind
 * (spec/program.ts) that the harness compares across engines.
 */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly category: ErrorCategory,
    message: string,
    /** The op that failed and the shapes it was given, when the failure is about an op. */
    readonly context: { op?: string; shapes?: readonly (readonly number[])[] } = {},
  ) {
    super(context.op ? `${message} (in ${context.op}${shapesText(context.shapes)})` : message);
  }
}

function shapesText(shapes?: readonly (readonly number[])[]): string {
  if (!shapes || shapes.length === 0) return '';
  return ` with shape${shapes.length > 1 ? 's' : ''} ${shapes.map((s) => `[${s.join(', ')}]`).join(' and ')}`;
}

export function fail(
  category: ErrorCategory,
  message: string,
  context?: { op?: string; shapes?: readonly (readonly number[])[] },
): never {
  throw new EngineError(category, message, context);
}
