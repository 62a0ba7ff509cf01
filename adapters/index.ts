import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MUTANTS, mutantAdapter } from './mutants.ts';
import { processAdapter, splitCommand, type ProcessOptions } from './process.ts';
import { pytorchAdapter } from './pytorch/index.ts';
import { referenceAdapter } from './reference/index.ts';
import type { Adapter } from './types.ts';

/** Engines gradspec knows by name; any other engine is a module path or a command. */
const IN_PROCESS: Record<string, Adapter> = { reference: referenceAdapter };

/** Engines from npm, loaded on demand: they are optional dependencies and may be missing. */
const OPTIONAL: Record<string, { module: string; packages: string }> = {
  tfjs: { module: './tfjs/index.ts', packages: '@tensorflow/tfjs-core @tensorflow/tfjs-backend-cpu' },
  'js-pytorch': { module: './js-pytorch/index.ts', packages: 'js-pytorch' },
  'jax-js': { module: './jax-js/index.ts', packages: '@jax-js/jax' },
};

export class NotInstalled extends Error {
  override readonly name = 'NotInstalled';
}

export const engineNames = (): string[] => [...Object.keys(IN_PROCESS), 'pytorch', ...Object.keys(OPTIONAL), ...Object.keys(MUTANTS).map((m) => `mutant:${m}`)];

/** An in-process adapter by name, `mutant:<name>` included; undefined when unknown. */
export function findAdapter(name: string): Adapter | undefined {
  return IN_PROCESS[name] ?? (name.startsWith('mutant:') ? mutantAdapter(name.slice('mutant:'.length)) : undefined);
}

/** The in-process adapter properties run on in vitest: GRADSPEC_ENGINE, default reference. */
export function adapterFor(name = process.env.GRADSPEC_ENGINE ?? 'reference'): Adapter {
  const adapter = findAdapter(name);
  if (!adapter) throw new Error(`unknown in-process engine '${name}'; known: ${engineNames().join(', ')}`);
  return adapter;
}

const MODULE = /\.(ts|mts|js|mjs)$/;

/**
 * Any engine, as `gradspec check --engine` takes it: a known name, the path of a module exporting
 * an adapter (`export default` or `export const adapter`), or a command that speaks the protocol.
 */
export async function openAdapter(engine: string, options: ProcessOptions = {}): Promise<Adapter> {
  const known = findAdapter(engine);
  if (known) return known;
  if (engine === 'pytorch') return pytorchAdapter(options);
  const optional = OPTIONAL[engine];
  if (optional) {
    try {
      const mod = (await import(optional.module)) as { default: Adapter | (() => Promise<Adapter>) };
      return typeof mod.default === 'function' ? await mod.default() : mod.default;
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test((e as Error).message)) {
        throw new NotInstalled(`${engine} is not installed (npm install ${optional.packages})`);
      }
      throw e;
    }
  }
  if (MODULE.test(engine) && existsSync(engine)) {
    const mod = (await import(pathToFileURL(resolve(engine)).href)) as { default?: Adapter; adapter?: Adapter };
    const adapter = mod.default ?? mod.adapter;
    if (!adapter || typeof adapter.run !== 'function') {
      throw new Error(`${engine} does not export an adapter (export default { name, version, capabilities, run })`);
    }
    return adapter;
  }
  const words = splitCommand(engine);
  if (words.length === 0) throw new Error('--engine is empty');
  return processAdapter(words, options);
}
