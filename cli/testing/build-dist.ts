import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: compiles the package (dist/) once before the tests, so the tests that spawn
 * the gradspec command run what `npm pack` ships, without loading every source through tsx in
 * each child (about 1.2 s of CPU per spawn). Incremental: the build info sits inside dist/, so a
 * deleted dist/ is rebuilt in full and an unchanged one takes a second. --noCheck: emit without
 * type-checking (the same JavaScript and declarations; about 3 s of CPU less on a clean clone),
 * since `npm test` type-checks every file beside it (tsc --noEmit -p .) and `npm pack` (prepack:
 * npm run build) still builds with the checks.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noCheck', '--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo'], {
    cwd: root, stdio: 'inherit',
  });
}
