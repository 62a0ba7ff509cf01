import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { withValidCapabilities } from './capabilities.ts';
import { MUTANTS, mutantAdapter } from './mutants.ts';
import { processAdapter, splitCommand, type ProcessOptions } from './process.ts';
import { pytorchAdapter } from './pytorch/index.ts';
import { referenceAdapter } from './reference/index.ts';
import { unknownName } from './suggest.ts';
import type { Adapter } from './types.ts';

/** Engines gradspec knows by name; any other engine is a module path or a command. */
const IN_PROCESS: Record<string, Adapter> = { reference: referenceAdapter };

type Loaded = { default: Adapter | (() => Promise<Adapter>) };

/**
 * Engines from npm, loaded on demand: gradspec does not install them, so they may be missing.
 * `install` is the command that adds one: tfjs needs esbuild to bundle its gradients
 * (adapters/tfjs/load-tfjs.ts); js-pytorch pulls a native `gl` build whose install script fails
 * and that nothing here uses, so it is installed without install scripts. The imports are literal
 * strings, so tsc rewrites them for the compiled package.
 */
const OPTIONAL: Record<string, { load: () => Promise<Loaded>; install: string }> = {
  tfjs: { load: () => import('./tfjs/index.ts'), install: 'npm install @tensorflow/tfjs-core@4 @tensorflow/tfjs-backend-cpu@4 esbuild' },
  'js-pytorch': { load: () => import('./js-pytorch/index.ts'), install: 'npm install --ignore-scripts js-pytorch@0.7' },
  'jax-js': { load: () => import('./jax-js/index.ts'), install: 'npm install @jax-js/jax@0.1' },
};

export class NotInstalled extends Error {
  override readonly name = 'NotInstalled';
}

/** An --engine that names nothing: an unknown name, a missing module file, a command not found. */
export class EngineNotFound extends Error {
  override readonly name = 'EngineNotFound';
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

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return isFile(path);
  } catch {
    return false;
  }
}

/** Whether a command word can be started: a path to a file, or an executable on PATH. */
function findable(word: string): boolean {
  if (word.includes('/')) return isFile(word);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && executable(join(dir, word)));
}

/**
 * What an --engine argument names, decided before anything starts, so a typo is a clear usage
 * error rather than a failed spawn: a known name, a module file, or a command. A single word that
 * is neither a known name nor a path nor on PATH is taken as a mistyped engine name.
 */
export function resolveEngine(engine: string): { kind: 'name' | 'module' } | { kind: 'command'; words: string[] } {
  const name = engine.trim();
  if (name === '') throw new EngineNotFound('--engine is empty');
  if (engineNames().includes(name)) return { kind: 'name' };
  if (MODULE.test(name) && isFile(name)) return { kind: 'module' };
  const words = splitCommand(name);
  if (words.length === 1 && MODULE.test(name)) throw new EngineNotFound(`no such file: ${name}`);
  const [file] = words;
  if (words.length === 1 && !file!.includes('/') && !findable(file!)) {
    throw new EngineNotFound(`${unknownName('engine', name, engineNames())}; or give a module path (.ts/.js) or a command`);
  }
  if (!findable(file!)) throw new EngineNotFound(`cannot start '${file}': ${file!.includes('/') ? 'no such file' : 'command not found'}`);
  return { kind: 'command', words };
}

/**
 * An engine module. The compiled package runs on plain Node, which cannot load TypeScript (Node 20):
 * a .ts module is then loaded through tsx when the project has it installed.
 */
async function importModule(url: string): Promise<unknown> {
  try {
    return await import(url);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    const name = 'tsx/esm/api'; // a variable: tsc need not resolve tsx, a dev dependency
    const tsx = (await import(name).catch(() => null)) as { tsImport(url: string, parent: string): Promise<unknown> } | null;
    if (!tsx) throw new EngineNotFound(`${fileURLToPath(url)}: Node cannot load TypeScript by itself; install tsx (npm install -D tsx) or give the compiled .js`);
    return tsx.tsImport(url, import.meta.url);
  }
}

/**
 * Any engine, as `gradspec check --engine` takes it: a known name, the path of a module exporting
 * an adapter (`export default` or `export const adapter`), or a command that speaks the protocol.
 */
export async function openAdapter(engine: string, options: ProcessOptions = {}): Promise<Adapter> {
  const resolved = resolveEngine(engine);
  engine = engine.trim();
  if (resolved.kind === 'command') return processAdapter(resolved.words, options);
  if (resolved.kind === 'module') {
    const mod = (await importModule(pathToFileURL(resolve(engine)).href)) as { default?: Adapter; adapter?: Adapter };
    const adapter = mod.default ?? mod.adapter;
    if (!adapter || typeof adapter.run !== 'function') {
      throw new Error(`${engine} does not export an adapter (export default { name, version, capabilities, run })`);
    }
    return withValidCapabilities(adapter);
  }
  const known = findAdapter(engine);
  if (known) return withValidCapabilities(known);
  if (engine === 'pytorch') return pytorchAdapter(options);
  const optional = OPTIONAL[engine]!;
  try {
    const mod = await optional.load();
    return withValidCapabilities(typeof mod.default === 'function' ? await mod.default() : mod.default);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test((e as Error).message)) {
      throw new NotInstalled(`${engine} is not installed (${optional.install})`);
    }
    throw e;
  }
}
