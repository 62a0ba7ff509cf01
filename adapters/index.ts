import { MUTANTS, mutantAdapter } from './mutants.ts';
import { referenceAdapter } from './reference/index.ts';
import type { Adapter } from './types.ts';

/** Engines gradspec knows by name. */
export const ENGINES: Record<string, Adapter> = { reference: referenceAdapter };

export const engineNames = (): string[] => [...Object.keys(ENGINES), ...Object.keys(MUTANTS).map((m) => `mutant:${m}`)];

/** An adapter by name, `mutant:<name>` included; undefined when unknown. */
export function findAdapter(name: string): Adapter | undefined {
  return ENGINES[name] ?? (name.startsWith('mutant:') ? mutantAdapter(name.slice('mutant:'.length)) : undefined);
}

/** The adapter for a name; properties pick theirs from GRADSPEC_ENGINE (default: reference). */
export function adapterFor(name = process.env.GRADSPEC_ENGINE ?? 'reference'): Adapter {
  const adapter = findAdapter(name);
  if (!adapter) throw new Error(`unknown engine '${name}'; known: ${engineNames().join(', ')}`);
  return adapter;
}
