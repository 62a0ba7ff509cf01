#!/usr/bin/env node
// The gradspec command. The installed package runs its compiled JavaScript (dist/). A checkout of
// the repository, where the TypeScript sources sit next to this file and tsx is installed (a dev
// dependency), runs the sources through tsx instead, so edits are live and no build is needed;
// GRADSPEC_DIST=1 runs dist/ there too (after `npm run build`).
import { existsSync } from 'node:fs';

const sources = new URL('../cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);

async function tsx() {
  try {
    return await import('tsx/esm/api');
  } catch (e) {
    if (e?.code === 'ERR_MODULE_NOT_FOUND') return null; // a checkout installed without dev dependencies runs dist/
    throw e;
  }
}

const api = process.env.GRADSPEC_DIST !== '1' && existsSync(sources) ? await tsx() : null;
if (api) {
  api.register();
  await import(sources.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write('gradspec: dist/ is not built; run `npm run build` in the gradspec checkout\n');
  process.exit(2);
}
