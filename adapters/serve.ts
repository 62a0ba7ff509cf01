import { findAdapter } from './index.ts';
import { serve } from './kit/index.ts';

/**
 * Serves an in-process adapter over the protocol of spec/adapters.md, so any engine gradspec can
 * load in-process can also run in its own process:
 *   node --import tsx adapters/serve.ts reference
 *   gradspec check --engine "node --import tsx adapters/serve.ts mutant:pow-exponent-2"
 * The protocol loop is the adapter kit's (adapters/kit/index.ts, `gradspec/adapter`).
 */
const name = process.argv[2] ?? 'reference';
const adapter = findAdapter(name);
if (!adapter) {
  process.stderr.write(`serve: unknown engine '${name}'\n`);
  process.exit(2);
}

await serve(adapter);
