import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { packagePath } from '../package-root.ts';
import '@tensorflow/tfjs-backend-cpu';

/**
 * Loads TensorFlow.js (core + the pure-JavaScript CPU backend) with its gradients registered.
 *
 * Node resolves `@tensorflow/tfjs-core` to its CommonJS bundle, which registers kernels but no
 * gradient functions: `tf.grad` fails with "gradient function not found for Add". The module that
 * registers them (`dist/register_all_gradients.js`) is ESM with extensionless relative imports,
 * which Node ESM and tsx refuse. esbuild (installed with tsx) bundles it once into a cache file
 * that Node can import. tfjs keeps its engine and registries on a global object, so the
 * registrations made by that bundle's copy of the modules reach the CommonJS copy used here.
 * The bundle also registers the chained ops (`t.reshape(...)`), as `@tensorflow/tfjs` does: some
 * gradient functions call them (prod's calls `x.reshape`), and the tensor class is global too.
 */
export async function loadTfjs(): Promise<typeof tf> {
  if (!gradientsRegistered()) await import(pathToFileURL(await gradientBundle()).href);
  if (!gradientsRegistered()) throw new Error('tfjs: registering the gradient functions failed');
  tf.enableProdMode(); // silences the "running TensorFlow.js in Node.js" banner
  await tf.setBackend('cpu');
  return tf;
}

const gradientsRegistered = () => tf.getGradient(tf.Add) !== undefined;

async function gradientBundle(): Promise<string> {
  const require = createRequire(import.meta.url);
  const entries = ['register_all_gradients.js', 'public/chained_ops/register_all_chained_ops.js']
    .map((m) => require.resolve(`@tensorflow/tfjs-core/dist/${m}`));
  const dir = `${packagePath('node_modules', '.cache', 'gradspec')}/`;
  const file = `${dir}tfjs-core-${tf.version_core}-gradients-chained.mjs`;
  if (existsSync(file)) return file;
  const { buildSync } = await import('esbuild');
  // esbuild resolves nothing, absolute paths included, from a resolveDir that does not exist yet.
  mkdirSync(dir, { recursive: true });
  const result = buildSync({
    stdin: { contents: entries.map((e) => `import ${JSON.stringify(e)};`).join('\n'), resolveDir: dir, loader: 'js' },
    bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'silent',
  });
  // Several test workers may build at once: write aside, then rename (atomic on one file system).
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, result.outputFiles[0]!.contents);
  renameSync(tmp, file);
  return file;
}
