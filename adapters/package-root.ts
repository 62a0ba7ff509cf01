import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * gradspec's own directory: the nearest one above this module with a package.json. The same from
 * the TypeScript sources (adapters/) as from the compiled package (dist/adapters/), so files read at
 * run time (fixtures, deviations lists, the Python adapter) are found where the package keeps them.
 */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`gradspec: no package.json above ${fileURLToPath(import.meta.url)}`);
  }
}

export const PACKAGE_ROOT = packageRoot();

/** A file of the package, from its root: `packagePath('fixtures', 'spec')`. */
export const packagePath = (...parts: string[]): string => join(PACKAGE_ROOT, ...parts);
