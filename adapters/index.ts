import { referenceAdapter } from './reference/index.ts';
import type { Adapter } from './types.ts';

/** Engines gradspec knows by name. */
export const ENGINES: Record<string, Adapter> = { reference: referenceAdapter };

/** The adapter for a name; properties pick theirs from GRADSPEC_ENGINE (default: reference). */
export function adapterFor(name = process.env.GRADSPEC_ENGINE ?? 'reference'): Adapter {
  const adapter = ENGINES[name];
  if (!adapter) throw new Error(`unknown engine '${name}'; known: ${Object.keys(ENGINES).join(', ')}`);
  return adapter;
}
